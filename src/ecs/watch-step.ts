/** One evaluation in progress and the helpers every judging module shares: notes, verdicts. */
import { classifyStoppedTask } from './failure-classifier.js'
import type {
  FailureCategory,
  StoppedTaskReport,
  WatchResult
} from './types.js'
import type { HookAnswer, WatchState } from './watch-state.js'

const MAX_TIMELINE = 300

/** One evaluation in progress: a private copy of the state, the time, the log. */
export interface Step {
  w: WatchState
  now: number
  log: string[]
  answers: HookAnswer[]
}

export function begin(state: WatchState, now: number): Step {
  return {
    w: {
      ...state,
      seenEvents: new Set(state.seenEvents),
      stopped: [...state.stopped],
      timeline: [...state.timeline],
      answeredHooks: [...state.answeredHooks],
      rebalanced: new Set(state.rebalanced)
    },
    now,
    log: [],
    answers: []
  }
}

export function elapsed(step: Step): number {
  return (step.now - step.w.start) / 1000
}

export function note(step: Step, text: string): void {
  if (step.w.timeline.length < MAX_TIMELINE) {
    step.w.timeline.push({
      atSeconds: Math.round(elapsed(step) * 10) / 10,
      text
    })
  }
}

export function finish(
  step: Step,
  result: WatchResult['result'],
  category?: FailureCategory,
  reason?: string
): void {
  const { w } = step
  const verdict =
    result === 'healthy' ? 'healthy' : `${result}: ${category ?? ''}`
  note(step, reason ? `${verdict} (${reason})` : verdict)
  step.log.push(
    `${w.target.service}: ${result.toUpperCase()}${category ? ` [${category}]` : ''}${reason ? ` ${reason}` : ''}`
  )
  w.result = {
    cluster: w.target.cluster,
    service: w.target.service,
    deploymentId: w.deploymentId,
    result,
    failureCategory: category,
    failureReason: reason,
    durationSeconds: Math.round(elapsed(step) * 10) / 10,
    ...(w.serviceDeploymentInfo
      ? { serviceDeployment: w.serviceDeploymentInfo }
      : {}),
    stoppedTasks: w.stopped,
    timeline: w.timeline
  }
}

/** The last stopped task's reason, appended to a verdict. */
export function lastStoppedHint(w: { stopped: StoppedTaskReport[] }): string {
  const last = w.stopped[w.stopped.length - 1]
  if (!last) return ''
  const c = last.containers.find(
    (x) => x.exitCode !== undefined && x.exitCode !== 0
  )
  // ECS's own rollback reason says only that tasks failed; the cause a
  // person acts on (out of memory and the limit, a pull or health failure)
  // is in the task.
  const cause = classifyStoppedTask(last)
  const detail = cause && cause.category !== 'crash' ? `: ${cause.reason}` : ''
  return `; last stopped task: ${last.stoppedReason ?? last.stopCode ?? ''}${c ? ` (${c.name} exit ${c.exitCode})` : ''}${detail}`
}
