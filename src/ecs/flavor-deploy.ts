/** The writing half of a deploy: register, update wave by wave, wait, and roll back what this call changed. */
import type { ECSClient, Tag } from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { serviceConsoleUrl } from './client.js'
import { groupBy, type FlavorPlan } from './flavor-plan.js'
import type { PreDeployOutcome } from './pre-deploy-task.js'
import { RateLimiter } from './rate-limiter.js'
import { COMMIT_TAG } from './revision-register.js'
import type { FamilyCleanup } from './revision-cleanup.js'
import type { FieldChange } from './task-definition-diff.js'
import { imageOf } from './task-definition-render.js'
import { rollBack } from './flavor-rollback.js'
import type { WatchResult, WatchTarget } from './types.js'
import {
  registerWave,
  updateWave,
  waitWave,
  type WaveMember
} from './wave-steps.js'

/** What deploy needs from outside; tests pass mocks and a manual clock. */
export interface DeployDeps {
  /** The ECS client of a Region. */
  ecsFor: (region: string) => ECSClient
  /** Follows deployments until healthy or failed (the deployment watcher). */
  watch: (targets: WatchTarget[], ecs: ECSClient) => Promise<WatchResult[]>
  clock: Clock
  log: (line: string) => void
  /** Paces RegisterTaskDefinition; default 1/s with a burst of 1. */
  registrations?: RateLimiter
  /** Told after every write and verdict: a run cut short leaves a record. */
  onProgress?: (outcomes: readonly FlavorOutcome[]) => void
}

/** How one call deploys. */
export interface DeployOptions {
  image: string
  wait: boolean
  rollbackOnFailure: boolean
  /**
   * `changed`: every flavor this call changed, earlier waves included;
   * `wave`: the flavors the failing wave changed; `failed`: only those that
   * failed.
   */
  rollbackScope: 'changed' | 'wave' | 'failed'
  dryRun: boolean
  /** Added to the new revision's tags (existing tags are kept). */
  tags: Tag[]
  /** Update every selected service even when nothing differs (same image). */
  forceNewDeployment?: boolean
}

export type FlavorResultKind =
  | 'success'
  | 'updated'
  | 'no-op'
  | 'failed'
  | 'rolled-back'
  | 'skipped'
  | 'would-change'

/** What happened to one flavor; the `flavors` output is a list of these. */
export interface FlavorOutcome {
  flavor: string
  service: string
  cluster: string
  region: string
  wave: number
  /** The manifest's desired-count, set with the update. */
  desiredCount?: number
  taskDefinitionArn?: string
  previousTaskDefinitionArn: string
  revisionBefore?: number
  revisionAfter?: number
  deploymentId?: string
  changed: boolean
  result: FlavorResultKind
  rolledBack: boolean
  /** Who put the previous revision back, how, and whether it became stable. */
  rollback?: {
    /** `ecs`: ECS itself (alarms, a hook, StopServiceDeployment by someone). */
    by: 'action' | 'circuit-breaker' | 'ecs'
    /** How it went back: ECS's own rollback of the service deployment, or a new UpdateService. */
    method?: 'stop-service-deployment' | 'update-service' | 'ecs'
    deploymentId?: string
    result: 'healthy' | 'failed' | 'timeout' | 'not-waited' | 'error'
    reason?: string
  }
  consoleUrl: string
  imageBefore?: string
  imageAfter: string
  /** The `release-train:commit` tag of the revision running before. */
  commitBefore?: string
  error?: string
  changes: FieldChange[]
  watch?: WatchResult
}

export interface DeployReport {
  result: 'success' | 'failed' | 'no-op' | 'dry-run' | 'updated'
  changed: boolean
  flavors: FlavorOutcome[]
  /** The migration task run before the rollout, when there is one. */
  preDeploy?: PreDeployOutcome
  /** keep-revisions' work, after a healthy verdict. */
  cleanup?: FamilyCleanup[]
  /** Why nothing was started (the image is not in its registry). */
  blockedBy?: string
}

export { COMMIT_TAG, mergeTags } from './revision-register.js'

/** Whether a flavor's service gets an UpdateService in this run. */
export function needsUpdate(plan: FlavorPlan, options: DeployOptions): boolean {
  const count = plan.flavor.desiredCount
  return (
    plan.changes.length > 0 ||
    options.forceNewDeployment === true ||
    (count !== undefined && count !== plan.service.desiredCount)
  )
}

/** A flavor's outcome before anything is done to it. */
export function outcomeOf(plan: FlavorPlan, image: string): FlavorOutcome {
  const f = plan.flavor
  return {
    flavor: f.name,
    service: f.service,
    cluster: f.cluster,
    region: f.region,
    wave: f.wave,
    ...(f.desiredCount !== undefined && { desiredCount: f.desiredCount }),
    taskDefinitionArn: plan.current.taskDefinitionArn,
    previousTaskDefinitionArn: plan.service.taskDefinition ?? '',
    revisionBefore: plan.current.revision,
    revisionAfter: plan.current.revision,
    changed: false,
    result: 'no-op',
    rolledBack: false,
    consoleUrl: serviceConsoleUrl(f.region, f.cluster, f.service),
    imageBefore: imageOf(plan.current, f.containers),
    imageAfter: image,
    commitBefore: plan.currentTags.find((t) => t.key === COMMIT_TAG)?.value,
    changes: plan.changes
  }
}

/**
 * Registers, updates, waits and, on failure, rolls back. Flavors go wave
 * by wave (or all together when the environment says `all-at-once`); a
 * failed wave stops later ones, which are reported as skipped.
 */
export async function executeDeployments(
  plans: FlavorPlan[],
  options: DeployOptions,
  deps: DeployDeps
): Promise<DeployReport> {
  const { log } = deps
  const outcomes = plans.map((p) => outcomeOf(p, options.image))
  if (options.dryRun) {
    plans.forEach((p, i) => {
      if (needsUpdate(p, options)) outcomes[i].result = 'would-change'
    })
    return {
      result: 'dry-run',
      changed: outcomes.some((o) => o.result === 'would-change'),
      flavors: outcomes
    }
  }
  const progress = (): void => deps.onProgress?.(outcomes)
  progress()
  const limiter = deps.registrations ?? new RateLimiter(deps.clock, 1, 1)
  const together = plans.every((p) => p.flavor.rollout === 'all-at-once')
  const waves = [
    ...groupBy(
      plans.map((plan, i) => ({ plan, outcome: outcomes[i] })),
      (x) => (together ? 'all' : String(x.plan.flavor.wave))
    ).entries()
  ].sort(([a], [b]) => Number(a) - Number(b))

  let failed = false
  const failingWave = new Set<FlavorOutcome>()
  for (const [wave, members] of waves) {
    if (failed) {
      for (const m of members) {
        if (needsUpdate(m.plan, options)) m.outcome.result = 'skipped'
      }
      continue
    }
    // Holds this wave's flavors; once a wave fails, no later wave runs.
    failingWave.clear()
    for (const m of members) failingWave.add(m.outcome)
    const toChange: WaveMember[] = members.filter((m) =>
      needsUpdate(m.plan, options)
    )
    for (const m of members) {
      if (!needsUpdate(m.plan, options)) {
        log(`${m.outcome.flavor}: no change (${m.outcome.taskDefinitionArn})`)
      }
    }
    if (toChange.length === 0) continue
    if (!together)
      log(`Wave ${wave}: ${toChange.map((m) => m.outcome.flavor).join(', ')}`)

    const step = { options, deps, limiter, progress }
    const registered = await registerWave(toChange, step)
    if (registered.length < toChange.length) {
      failed = true
      continue
    }
    if (!(await updateWave(registered, step))) failed = true
    const updated = registered.filter((m) => m.outcome.changed)
    if (!options.wait || updated.length === 0) continue
    if (!(await waitWave(updated, deps))) failed = true
    progress()
  }

  if (failed && options.rollbackOnFailure) {
    await rollBack(plans, outcomes, options, deps, failingWave)
    progress()
  }
  const changed = outcomes.some((o) => o.changed)
  return {
    result: failed
      ? 'failed'
      : !changed
        ? 'no-op'
        : options.wait
          ? 'success'
          : 'updated',
    changed,
    flavors: outcomes
  }
}
