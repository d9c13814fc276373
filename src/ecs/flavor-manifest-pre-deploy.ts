/** The manifest's per-environment `pre-deploy` task: its checks and its resolved form. */
import { parseDuration } from '../common/duration.js'
import type { FlavorManifest } from './flavor-manifest.js'

/** `environments.<name>.pre-deploy` as the manifest spells it. */
export interface ManifestPreDeploy {
  flavor: string
  command?: string[]
  container?: string
  'network-configuration'?: {
    subnets: string[]
    'security-groups'?: string[]
    'assign-public-ip'?: 'ENABLED' | 'DISABLED'
  }
  timeout?: string | number
}

/** The one-off task to run before an environment's rollout. */
export interface PreDeploySpec {
  /** The flavor whose (new) task definition runs it. */
  flavor: string
  command?: string[]
  /** Its exit code decides; unset: the flavor's first container. */
  container?: string
  /** awsvpc configuration in the API's shape; unset: the service's own. */
  networkConfiguration?: {
    awsvpcConfiguration: {
      subnets: string[]
      securityGroups?: string[]
      assignPublicIp?: 'ENABLED' | 'DISABLED'
    }
  }
  timeoutSeconds: number
}

export const DEFAULT_PRE_DEPLOY_TIMEOUT_SECONDS = 900

/** Problems schema validation cannot see: an unknown flavor, a bad duration. */
export function preDeployProblems(
  manifest: Omit<FlavorManifest, 'file'>,
  file: string
): string[] {
  const problems: string[] = []
  const names = manifest.flavors.map((f) => f.name)
  for (const [env, config] of Object.entries(manifest.environments)) {
    const task = config['pre-deploy']
    if (!task) continue
    const path = `${file}: environments.${env}.pre-deploy`
    if (!names.includes(task.flavor)) {
      problems.push(
        `${path}.flavor: "${task.flavor}" is not a flavor of this manifest; known flavors: ${names.join(', ')}`
      )
    }
    if (typeof task.timeout === 'string') {
      try {
        parseDuration('timeout', task.timeout)
      } catch {
        problems.push(
          `${path}.timeout: expected a duration such as 90s, 10m, 1h30m, got "${task.timeout}"`
        )
      }
    }
  }
  return problems
}

/** The pre-deploy task of `environment`, or undefined when it has none. */
export function preDeployOf(
  manifest: FlavorManifest,
  environment: string
): PreDeploySpec | undefined {
  const task = manifest.environments[environment]?.['pre-deploy']
  if (!task) return undefined
  const network = task['network-configuration']
  return {
    flavor: task.flavor,
    ...(task.command && { command: [...task.command] }),
    ...(task.container && { container: task.container }),
    ...(network && {
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...network.subnets],
          ...(network['security-groups'] && {
            securityGroups: [...network['security-groups']]
          }),
          ...(network['assign-public-ip'] && {
            assignPublicIp: network['assign-public-ip']
          })
        }
      }
    }),
    timeoutSeconds:
      task.timeout === undefined
        ? DEFAULT_PRE_DEPLOY_TIMEOUT_SECONDS
        : typeof task.timeout === 'number'
          ? task.timeout
          : parseDuration('timeout', task.timeout)
  }
}
