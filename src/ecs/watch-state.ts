/** What the watcher keeps about one service between polls, and what one poll brings it. */
import type { Service, ServiceDeployment, Task } from '@aws-sdk/client-ecs'
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
  /** The soak passed while ECS was still busy (logged once). */
  soakedNoted?: boolean
  statusLine: string
  seenEvents: Set<string>
  eventsBaselined: boolean
  lastHealthEvent?: HealthCheckEvent
  stopped: StoppedTaskReport[]
  timeline: WatchResult['timeline']
  /** ECS's record of the followed deployment, once matched. */
  serviceDeploymentArn?: string
  serviceDeploymentInfo?: WatchResult['serviceDeployment']
  /** Last stage line shown, so each change is logged once. */
  stageLine?: string
  /** Extra seconds on top of the timeout: bake times and hook waits. */
  extraSeconds: number
  /** When the watch last saw a PAUSE hook waiting (for the time budget). */
  pausedSince?: number
  /** Hooks this watch has answered. */
  answeredHooks: string[]
  /** Task ids ECS named as stopped to rebalance Availability Zones. */
  rebalanced: Set<string>
  /**
   * ECS's record said rolled back while the service (read earlier in the same
   * poll) still named our deployment PRIMARY: the verdict waits one poll so it
   * names the revision ECS went back to.
   */
  rollbackSeenEarly?: boolean
  /** Set once the watch has a verdict. */
  result?: WatchResult
}

/** A ContinueServiceDeployment the watcher must send. */
export interface HookAnswer {
  serviceDeploymentArn: string
  hookId: string
  action: 'CONTINUE' | 'ROLLBACK'
  stage: string
  service: string
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
  /** ECS's record of the deployment (DescribeServiceDeployments), when readable. */
  serviceDeployment?: ServiceDeployment
}

/** The outcome of judging one snapshot. */
export interface Evaluation {
  state: WatchState
  /** Whether anything moved, so the poll interval stays short. */
  changed: boolean
  /** Lines for the action's log. */
  log: string[]
  /** PAUSE hooks to answer now. */
  answers: HookAnswer[]
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
    timeline: [],
    extraSeconds: 0,
    answeredHooks: [],
    rebalanced: new Set()
  }
}

/** The next time the watch must look again for grace, soak or timeout to end on time. */
export function deadlines(state: WatchState): number[] {
  const p = state.target.policy
  const out = [state.start + (p.timeoutSeconds + state.extraSeconds) * 1000]
  if (state.phase === 'startup') {
    out.push(state.start + p.startupGraceSeconds * 1000)
  }
  if (state.soakSince !== undefined) {
    out.push(state.soakSince + p.stableForSeconds * 1000)
  }
  return out
}
