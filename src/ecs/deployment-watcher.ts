/** The polling loop that follows several deployments together: read, judge, sleep until something can change. */
import {
  ContinueServiceDeploymentCommand,
  type ECSClient
} from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { formatDuration } from '../common/duration.js'
import { EcsReader } from './ecs-reader.js'
import { PollSchedule } from './poll-schedule.js'
import type { WatchResult, WatchTarget } from './types.js'
import { evaluate, timeOut } from './watch-evaluate.js'
import {
  deadlines,
  initialState,
  type Evaluation,
  type HookAnswer,
  type WatchState
} from './watch-state.js'
import { readSnapshots } from './watch-reads.js'

/** What the watcher needs from outside: a client, a clock, a log. */
export interface WatchDeps {
  ecs: ECSClient
  clock: Clock
  log?: (line: string) => void
  /** Seconds between polls: `min` while things change, up to `max` idle. */
  pollIntervalSeconds?: { min: number; max: number }
  /**
   * Real seconds one ECS call may take, SDK retries included, before the
   * poll counts as throttled. Only for real clocks; unset in tests.
   */
  callTimeoutSeconds?: number
}

/**
 * Ten services polled every 5 s cost 2 ListTasks/s, a tenth of ECS's 20/s
 * sustained cluster-read rate; idle polls stretch to 10 s so a steady state
 * is still seen within 10 s.
 */
export const DEFAULT_POLL_INTERVAL = { min: 5, max: 10 }

/** Consecutive throttled or 5xx polls tolerated before giving up. */
const MAX_ERROR_STREAK = 20

function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return (
    /throttl|toomanyrequests|requestlimitexceeded|abort|timeout/i.test(
      e?.name ?? ''
    ) || e?.$metadata?.httpStatusCode === 429
  )
}

function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    ?.$metadata?.httpStatusCode
  return isThrottling(error) || (status !== undefined && status >= 500)
}

/**
 * Watches the deployments of several services together until each is
 * healthy, failed or timed out, and says why (the judgement is
 * `evaluate`'s). A poll that ECS throttles or fails with a 5xx backs off;
 * a watch past its timeout while ECS keeps throttling ends as a timeout.
 */
export async function watchDeployments(
  targets: WatchTarget[],
  deps: WatchDeps
): Promise<WatchResult[]> {
  const { clock } = deps
  const log = deps.log ?? (() => undefined)
  const interval = deps.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL
  const schedule = new PollSchedule(interval.min, interval.max)
  const reader = new EcsReader(
    deps.ecs,
    deps.callTimeoutSeconds ? deps.callTimeoutSeconds * 1000 : undefined
  )
  const start = clock.now()
  const states = targets.map((t) => initialState(t, start))
  const seenTasks = new Set<string>()
  let errorStreak = 0

  const answers: HookAnswer[] = []
  const apply = (i: number, evaluation: Evaluation): boolean => {
    states[i] = evaluation.state
    for (const line of evaluation.log) log(line)
    answers.push(...(evaluation.answers ?? []))
    return evaluation.changed
  }

  for (;;) {
    const active = states.flatMap((s, i) => (s.result ? [] : [i]))
    if (active.length === 0) break
    let changed = false
    let throttled = false
    try {
      const snapshots = await readSnapshots(
        reader,
        active.map((i) => states[i].target),
        seenTasks,
        active.map((i) => states[i].serviceDeploymentArn)
      )
      const now = clock.now()
      active.forEach((i, k) => {
        if (apply(i, evaluate(states[i], snapshots[k], now))) changed = true
      })
      errorStreak = 0
    } catch (error) {
      if (!isTransient(error)) throw error
      errorStreak++
      throttled = true
      log(
        `ECS answered ${(error as Error).name ?? 'an error'}; backing off (${errorStreak} in a row)`
      )
      if (errorStreak >= MAX_ERROR_STREAK) throw error
      const now = clock.now()
      const seconds = (now - start) / 1000
      for (const i of active) {
        if (seconds >= states[i].target.policy.timeoutSeconds) {
          apply(
            i,
            timeOut(
              states[i],
              now,
              `ECS kept throttling; no verdict after ${formatDuration(seconds)}`
            )
          )
        }
      }
    }
    if (answers.length > 0) {
      await sendAnswers(deps.ecs, answers.splice(0), log)
      changed = true
    }
    if (states.every((s) => s.result)) break
    await clock.sleep(
      nextWait(states, clock.now(), schedule.next({ changed, throttled }))
    )
  }
  return states.map((s) => s.result as WatchResult)
}

/** Milliseconds to sleep: the schedule's wait, cut short so grace, soak and timeout end on time. */
function nextWait(
  states: readonly WatchState[],
  now: number,
  scheduled: number
): number {
  let wait = scheduled
  for (const state of states.filter((s) => !s.result)) {
    for (const d of deadlines(state)) {
      if (d > now) wait = Math.min(wait, (d - now) / 1000)
    }
  }
  return Math.max(wait, 0.05) * 1000
}

/**
 * Answers PAUSE hooks. A refused answer (the hook timed out or someone else
 * answered) is logged: the next poll shows what ECS did instead.
 */
async function sendAnswers(
  ecs: ECSClient,
  answers: HookAnswer[],
  log: (line: string) => void
): Promise<void> {
  for (const a of answers) {
    try {
      await ecs.send(
        new ContinueServiceDeploymentCommand({
          serviceDeploymentArn: a.serviceDeploymentArn,
          hookId: a.hookId,
          action: a.action
        })
      )
      log(`${a.service}: ContinueServiceDeployment ${a.action} at ${a.stage}`)
    } catch (error) {
      log(
        `${a.service}: ContinueServiceDeployment ${a.action} at ${a.stage} refused: ${(error as Error).name}: ${(error as Error).message}`
      )
    }
  }
}
