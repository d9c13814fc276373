/**
 * Whether and how the pre-deploy task runs in this deploy: skipped when
 * its flavor's service already runs the image (the task ran before that
 * rollout), shown in a dry run, else run on the flavor's new revision.
 */
import type { ECSClient, Tag } from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { errorMessage } from '../common/errors.js'
import type { PreDeploySpec } from './flavor-manifest-pre-deploy.js'
import type { FlavorPlan } from './flavor-plan.js'
import { runPreDeployTask, type PreDeployOutcome } from './pre-deploy-task.js'
import type { RateLimiter } from './rate-limiter.js'
import { registerRevision } from './revision-register.js'
import { imageOf } from './task-definition-render.js'

/** `auto`: unless its service already runs the image; `always`; `skip`. */
export type PreDeployMode = 'auto' | 'always' | 'skip'

/** The tag on the task that says what it was run for. */
export const PRE_DEPLOY_TAG = 'release-train:pre-deploy'

export interface PreDeployStepOptions {
  mode: PreDeployMode
  image: string
  dryRun: boolean
  /** The release tags (commit, run); also put on the new revision. */
  tags: Tag[]
}

export interface PreDeployStepDeps {
  ecsFor: (region: string) => ECSClient
  clock: Clock
  log: (line: string) => void
  registrations: RateLimiter
  pollIntervalSeconds: number
}

/** Tag values are at most 256 characters. */
function tagValue(text: string): string {
  return text.length <= 256 ? text : text.slice(text.length - 256)
}

/**
 * Runs (or skips, or only describes) the pre-deploy task on `plan`, the
 * plan of the spec's flavor. A revision it registers is kept on the plan,
 * so the rollout deploys that same revision.
 */
export async function preDeploy(
  spec: PreDeploySpec,
  plan: FlavorPlan,
  options: PreDeployStepOptions,
  deps: PreDeployStepDeps
): Promise<PreDeployOutcome> {
  const flavor = plan.flavor
  const container = spec.container ?? flavor.containers[0]
  const base: PreDeployOutcome = {
    flavor: flavor.name,
    status: 'skipped',
    container,
    ...(spec.command && { command: spec.command })
  }
  if (options.mode === 'skip') {
    return { ...base, reason: 'the pre-deploy input is skip' }
  }
  const running = imageOf(plan.current, flavor.containers)
  if (options.mode === 'auto' && running === options.image) {
    return {
      ...base,
      reason: `service ${flavor.service} already runs this image, so its pre-deploy task ran before that rollout (pre-deploy: always runs it again)`
    }
  }
  if (options.dryRun) {
    return {
      ...base,
      status: 'would-run',
      taskDefinitionArn:
        plan.changes.length > 0
          ? `a new revision of ${plan.current.family ?? flavor.name}`
          : plan.current.taskDefinitionArn
    }
  }
  const ecs = deps.ecsFor(flavor.region)
  let taskDefinitionArn = plan.current.taskDefinitionArn
  if (plan.changes.length > 0) {
    try {
      taskDefinitionArn = (
        await registerRevision(plan, options.tags, ecs, deps.registrations)
      ).taskDefinitionArn
      deps.log(`pre-deploy: registered ${taskDefinitionArn}`)
    } catch (error) {
      return {
        ...base,
        status: 'failed',
        reason: `RegisterTaskDefinition failed: ${errorMessage(error)}`
      }
    }
  }
  const service = plan.service
  return runPreDeployTask(
    {
      spec,
      cluster: flavor.cluster,
      taskDefinitionArn: taskDefinitionArn ?? '',
      container,
      containerDefinitions: plan.rendered.containerDefinitions ?? [],
      networkConfiguration:
        spec.networkConfiguration ?? service.networkConfiguration,
      ...(service.launchType && !service.capacityProviderStrategy?.length
        ? { launchType: service.launchType }
        : {}),
      tags: [
        ...options.tags,
        { key: PRE_DEPLOY_TAG, value: flavor.name },
        { key: 'release-train:image', value: tagValue(options.image) }
      ]
    },
    {
      ecs,
      clock: deps.clock,
      log: deps.log,
      pollIntervalSeconds: deps.pollIntervalSeconds
    }
  )
}
