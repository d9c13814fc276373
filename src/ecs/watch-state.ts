/** What the watcher keeps about one service between polls, and what one poll brings it. */
import type { Service, Task } from '@aws-sdk/client-ecs'
import type { HealthCheckEvent } from './failure-classifier.js'
import type { StoppedTaskReport, WatchResult, WatchTarget } from './types.js'

/**
 * `startup`: stopped tasks count against the lenient startup budget;
 * `strict`: after grace, or once every desired task runs.
 */
export type Phase = 'startup' | 'strict'

/** What the watcher remembers about one service between polls. */
export interface WatchState {
  readonly target: WatchTarget
  /** Clock time the watch began (ms). */
  readonly start: number
  phase: Phase
  deploymentId?: string
  /** Whether the followed deployment has been chosen. */
  resolved: boolean
  startupFailures: number
  strictFailures: number
  soakSince?: number
  statusLine: string
  seenEvents: Set<string>
  eventsBaselined: boolean
  lastHealthEvent?: HealthCheckEvent
  stopped: StoppedTaskReport[]
  timeline: WatchResult['timeline']
  /** Set once the watch has a verdict. */
  result?: WatchResult
}

/** A task that stopped since the last poll, with its container limits when ECS had to be asked. */
export interface StoppedTask {
  task: Task
  /** Memory (MiB) per container name, from the task definition. */
  memoryLimits?: ReadonlyMap<string, number>
}

/** What one poll saw of one service. */
export interface ServiceSnapshot {
  /** Undefined when ECS did not return the service. */
  service?: Service
  stopped: StoppedTask[]
}

/** The outcome of judging one snapshot. */
export interface Evaluation {
  state: WatchState
  /** Whether anything moved, so the poll interval stays short. */
  changed: boolean
  /** Lines for the action's log. */
  log: string[]
}

/** The state of a watch that has seen nothing yet. */
export function initialState(target: WatchTarget, start: number): WatchState {
  return {
    target,
    start,
    phase: 'startup',
    deploymentId: target.deploymentId,
    resolved: false,
    startupFailures: 0,
    strictFailures: 0,
    statusLine: '',
    seenEvents: new Set(),
    eventsBaselined: false,
    stopped: [],
    timeline: []
  }
}

/** The next time the watch must look again for grace, soak or timeout to end on time. */
export function deadlines(state: WatchState): number[] {
  const p = state.target.policy
  const out = [state.start + p.timeoutSeconds * 1000]
  if (state.phase === 'startup') {
    out.push(state.start + p.startupGraceSeconds * 1000)
  }
  if (state.soakSince !== undefined) {
    out.push(state.soakSince + p.stableForSeconds * 1000)
  }
  return out
}
