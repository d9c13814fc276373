/** The post step's bounded wait for the rollbacks it started, so a cancelled run says whether each flavor is back and healthy, not only that a rollback began. */
import {
  DescribeServicesCommand,
  type Deployment,
  type ECSClient
} from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { errorMessage } from '../common/errors.js'
import { isTransientAwsError } from '../common/aws-calls.js'

/**
 * The runner gives a cancelled job five minutes before it stops answering
 * (actions/runner#464: a static cancel timeout); the wait ends a minute
 * before, leaving time for the summary.
 */
export const POST_ROLLBACK_WAIT_SECONDS = 240

/** A rollback the post step started: where to look and what to look for. */
export interface StartedRollback {
  flavor: string
  region: string
  cluster: string
  service: string
  /** The deployment UpdateService started; undefined when ECS named none. */
  deploymentId?: string
  /** The revision put back, `family:revision` ARN. */
  taskDefinitionArn: string
}

/** Where one rollback got to when the wait ended. */
export type RollbackState =
  | { state: 'healthy'; seconds: number }
  | { state: 'failed'; reason: string }
  | { state: 'waiting'; seconds: number; detail: string }

/** The rollback's deployment in a DescribeServices answer, and whether it is done. */
function judge(
  rollback: StartedRollback,
  deployments: readonly Deployment[]
):
  | { done: true; ok: boolean; reason: string }
  | { done: false; detail: string } {
  const mine =
    deployments.find((d) => d.id === rollback.deploymentId) ??
    deployments.find(
      (d) =>
        d.status === 'PRIMARY' &&
        d.taskDefinition === rollback.taskDefinitionArn
    )
  if (!mine) return { done: false, detail: 'its deployment is not listed' }
  if (mine.rolloutState === 'FAILED') {
    return {
      done: true,
      ok: false,
      reason: mine.rolloutStateReason ?? 'FAILED'
    }
  }
  const others = deployments.filter((d) => d !== mine).length
  if (mine.rolloutState === 'COMPLETED' && others === 0) {
    return { done: true, ok: true, reason: '' }
  }
  return {
    done: false,
    detail: `${mine.runningCount ?? 0}/${mine.desiredCount ?? 0} tasks running, ${mine.rolloutState ?? 'IN_PROGRESS'}${others > 0 ? `, ${others} other deployment(s) draining` : ''}`
  }
}

/** What the wait needs: ECS clients, a clock, a log, and its bounds. */
export interface RollbackWaitDeps {
  ecsFor: (region: string) => ECSClient
  clock: Clock
  log: (line: string) => void
  budgetSeconds: number
  pollSeconds: number
}

/**
 * Polls DescribeServices until every rollback's deployment is COMPLETED
 * with nothing else left (healthy), FAILED, or the budget is spent.
 * Transient errors spend a poll; any other error ends the wait, and the
 * rollbacks not yet done are reported as still waiting with that error.
 */
export async function waitForRollbacks(
  rollbacks: readonly StartedRollback[],
  deps: RollbackWaitDeps
): Promise<Map<string, RollbackState>> {
  const result = new Map<string, RollbackState>()
  const start = deps.clock.now()
  const elapsed = (): number => Math.round((deps.clock.now() - start) / 1000)
  let detail = new Map<string, string>()
  for (;;) {
    const pending = rollbacks.filter((r) => !result.has(r.flavor))
    if (pending.length === 0) return result
    try {
      detail = await poll(pending, deps.ecsFor, result, elapsed())
    } catch (error) {
      if (!isTransientAwsError(error)) {
        for (const r of pending) {
          result.set(r.flavor, {
            state: 'waiting',
            seconds: elapsed(),
            detail: `its state could not be read: ${errorMessage(error)}`
          })
        }
        return result
      }
    }
    if (elapsed() + deps.pollSeconds > deps.budgetSeconds) break
    await deps.clock.sleep(deps.pollSeconds * 1000)
  }
  for (const r of rollbacks.filter((x) => !result.has(x.flavor))) {
    result.set(r.flavor, {
      state: 'waiting',
      seconds: elapsed(),
      detail: detail.get(r.flavor) ?? 'not read'
    })
    deps.log(`${r.flavor}: rollback not healthy within ${deps.budgetSeconds} s`)
  }
  return result
}

/** One DescribeServices per cluster (10 services a call); settles what is done, returns the rest's progress. */
async function poll(
  pending: readonly StartedRollback[],
  ecsFor: (region: string) => ECSClient,
  result: Map<string, RollbackState>,
  seconds: number
): Promise<Map<string, string>> {
  const detail = new Map<string, string>()
  const groups = new Map<string, StartedRollback[]>()
  for (const r of pending) {
    const key = `${r.region}\n${r.cluster}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += 10) {
      const batch = group.slice(i, i + 10)
      const out = await ecsFor(batch[0].region).send(
        new DescribeServicesCommand({
          cluster: batch[0].cluster,
          services: batch.map((r) => r.service)
        })
      )
      for (const r of batch) {
        const service = out.services?.find((s) => s.serviceName === r.service)
        const verdict = judge(r, service?.deployments ?? [])
        if (verdict.done) {
          result.set(
            r.flavor,
            verdict.ok
              ? { state: 'healthy', seconds }
              : { state: 'failed', reason: verdict.reason }
          )
        } else {
          detail.set(r.flavor, verdict.detail)
        }
      }
    }
  }
  return detail
}
