import { ConfigurationError } from '../common/errors.js'
import { formatDuration } from '../common/duration.js'
import {
  DEFAULT_HEALTH_POLICY,
  loadManifest,
  resolveFlavors
} from '../ecs/flavor-manifest.js'
import type { TargetProblem } from '../ecs/target-check.js'
import type { HealthPolicy, WatchTarget } from '../ecs/types.js'
import type { Inputs } from './inputs.js'

/**
 * The services to watch, from `services` or from the manifest's flavors,
 * with the policy inputs laid over the manifest's (or the defaults).
 */
export async function resolveTargets(inputs: Inputs): Promise<WatchTarget[]> {
  let targets: WatchTarget[]
  if (inputs.services.length > 0) {
    const policy: HealthPolicy = { ...DEFAULT_HEALTH_POLICY, ...inputs.policy }
    targets = inputs.services.map((service) => ({
      cluster: inputs.cluster ?? '',
      service,
      region: inputs.region,
      policy
    }))
  } else {
    const manifest = await loadManifest(inputs.manifest)
    targets = resolveFlavors(
      manifest,
      inputs.environment ?? '',
      inputs.flavors
    ).map((f) => ({
      cluster: inputs.cluster ?? f.cluster,
      service: f.service,
      region: inputs.region ?? (f.region || undefined),
      policy: { ...f.policy, ...inputs.policy }
    }))
  }
  if ((inputs.deploymentId || inputs.taskDefinition) && targets.length !== 1) {
    const name = inputs.deploymentId ? 'deployment-id' : 'task-definition'
    throw new ConfigurationError(
      `Input "${name}" follows one service, but ${targets.length} are selected (${targets.map((t) => t.service).join(', ')})`
    )
  }
  for (const t of targets) {
    if (inputs.hookStages.length > 0) t.hookStages = inputs.hookStages
    if (inputs.deploymentId) t.deploymentId = inputs.deploymentId
    if (inputs.taskDefinition) t.taskDefinitionArn = inputs.taskDefinition
    if (t.policy.stableForSeconds > t.policy.timeoutSeconds) {
      throw new ConfigurationError(
        `Input "stable-for" (${formatDuration(t.policy.stableForSeconds)}) is longer than input "timeout" (${formatDuration(t.policy.timeoutSeconds)}) for service ${t.service}: the soak could never finish`
      )
    }
  }
  return targets
}

const INPUT_OF: Record<TargetProblem['field'], string> = {
  cluster: 'cluster',
  service: 'services',
  deploymentId: 'deployment-id',
  taskDefinitionArn: 'task-definition'
}

/** Turns what ECS said about the targets into one error naming the inputs. */
export function problemsError(
  problems: readonly TargetProblem[],
  fromManifest: boolean
): ConfigurationError {
  const lines = problems.map((p) => {
    const input =
      fromManifest && (p.field === 'service' || p.field === 'cluster')
        ? 'environment'
        : INPUT_OF[p.field]
    return `Input "${input}": ${p.message}`
  })
  return new ConfigurationError(lines.join('\n'))
}
