/** The three writing steps of one wave (register, update, wait), each recording its flavors' outcomes, so executeDeployments reads as the order of waves. */
import { UpdateServiceCommand } from '@aws-sdk/client-ecs'
import { errorMessage } from '../common/errors.js'
import type {
  DeployDeps,
  DeployOptions,
  FlavorOutcome
} from './flavor-deploy.js'
import type { FlavorPlan } from './flavor-plan.js'
import { primaryDeploymentId, watchByRegion } from './flavor-watch.js'
import type { RateLimiter } from './rate-limiter.js'
import { registerRevision } from './revision-register.js'
import type { WatchResult } from './types.js'

/** A flavor in its wave: its plan, and the outcome the steps write to. */
export interface WaveMember {
  plan: FlavorPlan
  outcome: FlavorOutcome
}

/** What every step of a wave shares. */
export interface WaveStep {
  options: DeployOptions
  deps: DeployDeps
  limiter: RateLimiter
  /** Records the outcomes so far (the post step reads them after a cancel). */
  progress: () => void
}

function fail(o: FlavorOutcome, error: string, log: (l: string) => void): void {
  o.result = 'failed'
  o.error = error
  log(`${o.flavor}: ${error}`)
}

/**
 * Registers every new revision of the wave before any service moves, so a
 * refused registration stops the wave with nothing updated. Returns the
 * members registered; fewer than given means one failed, and the others are
 * then reported skipped.
 */
export async function registerWave(
  members: readonly WaveMember[],
  { options, deps, limiter, progress }: WaveStep
): Promise<WaveMember[]> {
  const registered: WaveMember[] = []
  let failed = false
  for (const m of members) {
    // A forced or count-only update keeps the running revision.
    if (m.plan.changes.length === 0) {
      registered.push(m)
      continue
    }
    try {
      const td = await registerRevision(
        m.plan,
        options.tags,
        deps.ecsFor(m.outcome.region),
        limiter
      )
      m.outcome.taskDefinitionArn = td.taskDefinitionArn
      m.outcome.revisionAfter = td.revision
      deps.log(`${m.outcome.flavor}: registered ${td.taskDefinitionArn}`)
      registered.push(m)
      progress()
    } catch (error) {
      failed = true
      fail(m.outcome, errorMessage(error), deps.log)
    }
  }
  if (!failed) return registered
  for (const m of registered) {
    m.outcome.result = 'skipped'
    m.outcome.error = 'not deployed: another registration in its wave failed'
  }
  return []
}

/** UpdateService on every registered flavor of the wave at once; false when one failed. */
export async function updateWave(
  members: readonly WaveMember[],
  { options, deps, progress }: WaveStep
): Promise<boolean> {
  const results = await Promise.all(
    members.map(async ({ outcome: o }) => {
      try {
        const response = await deps.ecsFor(o.region).send(
          new UpdateServiceCommand({
            cluster: o.cluster,
            service: o.service,
            taskDefinition: o.taskDefinitionArn,
            ...(o.desiredCount !== undefined && {
              desiredCount: o.desiredCount
            }),
            ...(options.forceNewDeployment && { forceNewDeployment: true })
          })
        )
        o.changed = true
        o.result = 'updated'
        o.deploymentId = primaryDeploymentId(response.service)
        progress()
        deps.log(
          `${o.flavor}: service ${o.service} updated, deployment ${o.deploymentId ?? '?'}`
        )
        return true
      } catch (error) {
        fail(o, errorMessage(error), deps.log)
        return false
      }
    })
  )
  return results.every(Boolean)
}

/** Writes a watch's verdict on the outcome; false when it is not healthy. */
function recordVerdict(
  o: FlavorOutcome,
  w: WatchResult | Error | undefined
): boolean {
  if (w instanceof Error || !w) {
    o.result = 'failed'
    o.error = `waiting failed: ${w ? errorMessage(w) : 'no result'}`
    return false
  }
  o.watch = w
  if (w.result === 'healthy') {
    o.result = 'success'
    return true
  }
  o.result = 'failed'
  o.error = `${w.result}${w.failureCategory ? ` (${w.failureCategory})` : ''}${w.failureReason ? `: ${w.failureReason}` : ''}`
  if (w.failureCategory === 'rolled-back') {
    o.rolledBack = true
    o.rollback = {
      // Without ECS's record of the service deployment only the circuit
      // breaker can have rolled it back.
      by: /circuit breaker/i.test(
        w.serviceDeployment?.rollbackReason ?? w.failureReason ?? ''
      )
        ? 'circuit-breaker'
        : w.serviceDeployment
          ? 'ecs'
          : 'circuit-breaker',
      method: 'ecs',
      result: 'not-waited'
    }
  }
  return false
}

/** Follows the wave's updated flavors to a verdict each; false when one is not healthy. */
export async function waitWave(
  members: readonly WaveMember[],
  deps: DeployDeps
): Promise<boolean> {
  const watched = await watchByRegion(
    members.map((m) => ({
      outcome: m.outcome,
      target: {
        cluster: m.outcome.cluster,
        service: m.outcome.service,
        region: m.outcome.region,
        ...(m.outcome.deploymentId
          ? { deploymentId: m.outcome.deploymentId }
          : { taskDefinitionArn: m.outcome.taskDefinitionArn }),
        policy: m.plan.flavor.policy
      }
    })),
    deps
  )
  let healthy = true
  for (const { outcome: o } of members) {
    if (!recordVerdict(o, watched.get(o))) healthy = false
    deps.log(`${o.flavor}: ${o.result}${o.error ? ` (${o.error})` : ''}`)
  }
  return healthy
}
