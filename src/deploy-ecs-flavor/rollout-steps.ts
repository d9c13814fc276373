// Why this module: the steps around the rollout (the migration task before
// it, the revision clean-up after it), so main.ts stays a sequence of calls.
import type { ECSClient } from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { ConfigurationError } from '../common/errors.js'
import {
  outcomeOf,
  type DeployOptions,
  type DeployReport
} from '../ecs/flavor-deploy.js'
import {
  resolveFlavors,
  type DeployFlavor,
  type FlavorManifest
} from '../ecs/flavor-manifest.js'
import {
  preDeployOf,
  type PreDeploySpec
} from '../ecs/flavor-manifest-pre-deploy.js'
import { planDeployments, type FlavorPlan } from '../ecs/flavor-plan.js'
import { preDeploy, type PreDeployMode } from '../ecs/pre-deploy-step.js'
import type { PreDeployOutcome } from '../ecs/pre-deploy-task.js'
import type { RateLimiter } from '../ecs/rate-limiter.js'
import { cleanUpRevisions } from '../ecs/revision-cleanup.js'
import type { RolloutInputs } from './rollout-inputs.js'

/** The environment's pre-deploy task and the flavor it runs as. */
export interface PreDeployTarget {
  spec: PreDeploySpec
  flavor: DeployFlavor
}

/** Reads the environment's pre-deploy task; `always` without one is an input error. */
export function preDeployTarget(
  manifest: FlavorManifest,
  environment: string,
  mode: PreDeployMode
): PreDeployTarget | undefined {
  const spec = preDeployOf(manifest, environment)
  if (!spec) {
    if (mode === 'always') {
      throw new ConfigurationError(
        `Input "pre-deploy" is "always", but environment "${environment}" has no pre-deploy task in ${manifest.file}`
      )
    }
    return undefined
  }
  const [flavor] = resolveFlavors(manifest, environment, spec.flavor)
  return { spec, flavor }
}

export interface StepDeps {
  ecsFor: (region: string) => ECSClient
  clock: Clock
  log: (line: string) => void
  registrations: RateLimiter
  pollIntervalSeconds: number
}

/**
 * Runs the pre-deploy task on the plan of its flavor: the deploy's own plan
 * when the flavor is selected (so the rollout reuses the revision
 * registered for the task), else a plan made only for the task.
 */
export async function runPreDeploy(
  target: PreDeployTarget,
  plans: FlavorPlan[],
  mode: PreDeployMode,
  options: DeployOptions,
  deps: StepDeps
): Promise<PreDeployOutcome> {
  const plan =
    plans.find((p) => p.flavor.name === target.flavor.name) ??
    (await planDeployments([target.flavor], options.image, deps))[0]
  return preDeploy(
    target.spec,
    plan,
    {
      mode,
      image: options.image,
      dryRun: options.dryRun,
      tags: options.tags
    },
    deps
  )
}

/**
 * The report of a deploy stopped before any service moved, by the failed
 * pre-deploy task or by an image that is not in its registry (the reason).
 */
export function blockedReport(
  plans: FlavorPlan[],
  options: DeployOptions,
  blocked: { preDeploy: PreDeployOutcome } | { imageMissing: string }
): DeployReport {
  const byTask = 'preDeploy' in blocked
  return {
    result: 'failed',
    changed: false,
    ...(byTask
      ? { preDeploy: blocked.preDeploy }
      : { blockedBy: blocked.imageMissing }),
    flavors: plans.map((p) => ({
      ...outcomeOf(p, options.image),
      result: 'skipped',
      error: byTask
        ? 'not deployed: the pre-deploy task failed'
        : 'not started: the image is not in its registry'
    }))
  }
}

/** keep-revisions after a healthy verdict (result success); any other result leaves revisions alone. */
export async function cleanUpAfter(
  report: DeployReport,
  rollout: RolloutInputs,
  deps: StepDeps
): Promise<void> {
  if (rollout.keepRevisions === undefined) return
  if (report.result !== 'success') {
    deps.log(
      `keep-revisions: nothing cleaned up, the deploy's result is ${report.result} (clean-up follows a healthy verdict only)`
    )
    return
  }
  report.cleanup = await cleanUpRevisions(
    report.flavors.map((o) => ({
      region: o.region,
      cluster: o.cluster,
      taskDefinitionArn: o.taskDefinitionArn,
      previousTaskDefinitionArn: o.previousTaskDefinitionArn
    })),
    { keep: rollout.keepRevisions, delete: rollout.deleteRevisions },
    { ecsFor: deps.ecsFor, log: deps.log, writes: deps.registrations }
  )
}
