/** The watcher's judgement, without I/O: one service's state and one poll's snapshot in, the next state and any verdict out. */
import type { Deployment, Service } from '@aws-sdk/client-ecs'
import { formatDuration } from '../common/duration.js'
import {
  classifyServiceEvent,
  classifyStoppedTask,
  parseHealthCheckEvent,
  reportOf,
  type Classification
} from './failure-classifier.js'
import {
  allTasksRunning,
  belongsTo,
  deploymentLine,
  findDeployment,
  shortTaskDefinition
} from './service-deployments.js'
import type {
  FailureCategory,
  StoppedTaskReport,
  WatchResult
} from './types.js'
import type {
  Evaluation,
  ServiceSnapshot,
  StoppedTask,
  WatchState
} from './watch-state.js'

const MAX_TIMELINE = 300

/** One evaluation in progress: a private copy of the state, the time, the log. */
interface Step {
  w: WatchState
  now: number
  log: string[]
}

function begin(state: WatchState, now: number): Step {
  return {
    w: {
      ...state,
      seenEvents: new Set(state.seenEvents),
      stopped: [...state.stopped],
      timeline: [...state.timeline]
    },
    now,
    log: []
  }
}

function elapsed(step: Step): number {
  return (step.now - step.w.start) / 1000
}

function note(step: Step, text: string): void {
  if (step.w.timeline.length < MAX_TIMELINE) {
    step.w.timeline.push({
      atSeconds: Math.round(elapsed(step) * 10) / 10,
      text
    })
  }
}

function finish(
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
    stoppedTasks: w.stopped,
    timeline: w.timeline
  }
}

/** Ends a watch from outside a poll (ECS kept throttling past the timeout). */
export function timeOut(
  state: WatchState,
  now: number,
  reason: string
): Evaluation {
  const step = begin(state, now)
  finish(step, 'timeout', 'timeout', reason)
  return { state: step.w, changed: true, log: step.log }
}

/** Applies one poll's view of a service to its watch. */
export function evaluate(
  state: WatchState,
  snapshot: ServiceSnapshot,
  now: number
): Evaluation {
  const step = begin(state, now)
  const changed = judge(step, snapshot)
  return { state: step.w, changed, log: step.log }
}

/** The checks in the order they decide; true when anything changed. */
function judge(step: Step, snapshot: ServiceSnapshot): boolean {
  const { w } = step
  const { service } = snapshot
  if (!service || service.status !== 'ACTIVE') {
    finish(
      step,
      'failed',
      undefined,
      `service ${w.target.service} is ${service?.status ?? 'missing'} in cluster ${w.target.cluster}`
    )
    return true
  }
  const deployment = followDeployment(step, service)
  let changed = noteStatusLine(step, service)
  const events = readEvents(step, service, deployment)
  changed = events.changed || changed
  if (!deployment) {
    finish(step, 'failed', 'rolled-back', deploymentGone(w, service))
    return true
  }
  const stopped = countStoppedTasks(step, snapshot.stopped, deployment)
  if (stopped.length > 0) changed = true
  const failures = [...events.failures, ...stopped]
  if (spendBudgets(step, failures)) return true
  if (replaced(step, service, deployment)) return true
  const allRunning = allTasksRunning(service, deployment, events.unhealthyNow)
  changed = advancePhase(step, allRunning, deployment) || changed
  const steady =
    allRunning &&
    (deployment.pendingCount ?? 0) === 0 &&
    (deployment.runningCount ?? 0) === (deployment.desiredCount ?? 0) &&
    (deployment.rolloutState === 'COMPLETED' ||
      (service.deployments ?? []).length <= 1) &&
    failures.length === 0
  const soak = soakOrTimeout(step, steady)
  return soak === 'finished' || soak === 'changed' || changed
}

function followDeployment(
  step: Step,
  service: Service
): Deployment | undefined {
  const { w } = step
  const deployment = w.resolved
    ? findDeployment(service, { deploymentId: w.deploymentId })
    : findDeployment(service, w.target)
  if (!w.resolved) {
    w.resolved = true
    w.deploymentId = deployment?.id
    if (deployment) {
      note(
        step,
        `following deployment ${deployment.id} (${shortTaskDefinition(deployment.taskDefinition)})`
      )
    }
  }
  return deployment
}

function noteStatusLine(step: Step, service: Service): boolean {
  const line = (service.deployments ?? []).map(deploymentLine).join(' | ')
  if (line === step.w.statusLine) return false
  step.w.statusLine = line
  step.log.push(`${step.w.target.service}: ${line}`)
  note(step, line)
  return true
}

/** Logs each new service event; placement failures count, health-check ones mark the service unhealthy now. */
function readEvents(
  step: Step,
  service: Service,
  deployment: Deployment | undefined
): { failures: Classification[]; unhealthyNow: boolean; changed: boolean } {
  const { w } = step
  const since = deployment?.createdAt?.getTime() ?? Infinity
  const failures: Classification[] = []
  let unhealthyNow = false
  let changed = false
  for (const event of [...(service.events ?? [])].reverse()) {
    const id = event.id ?? `${event.createdAt?.getTime()}:${event.message}`
    if (w.seenEvents.has(id)) continue
    w.seenEvents.add(id)
    // The first poll sees history: only events of our deployment count.
    const fresh =
      w.eventsBaselined || (event.createdAt?.getTime() ?? 0) >= since
    if (!fresh) continue
    const message = event.message ?? ''
    changed = true
    step.log.push(`${w.target.service} event: ${message}`)
    note(step, `event: ${message}`)
    const health = parseHealthCheckEvent(message)
    if (health) {
      w.lastHealthEvent = health
      unhealthyNow = true
    }
    const placement = classifyServiceEvent(message)
    if (placement) failures.push(placement)
  }
  w.eventsBaselined = true
  return { failures, unhealthyNow, changed }
}

function deploymentGone(w: WatchState, service: Service): string {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
  const wanted = w.deploymentId
    ? `deployment ${w.deploymentId}`
    : w.target.taskDefinitionArn
      ? `a deployment of ${shortTaskDefinition(w.target.taskDefinitionArn)}`
      : 'a PRIMARY deployment'
  return `${wanted} is no longer on service ${w.target.service}; PRIMARY is ${shortTaskDefinition(primary?.taskDefinition)}${lastStoppedHint(w)}`
}

/** Classifies our deployment's newly stopped tasks; scale-in and user stops are not failures. */
function countStoppedTasks(
  step: Step,
  stopped: StoppedTask[],
  deployment: Deployment
): Classification[] {
  const { w } = step
  const failures: Classification[] = []
  for (const { task, memoryLimits } of stopped) {
    if (!belongsTo(task, deployment)) continue
    const report = reportOf(
      task,
      memoryLimits ? (_arn, name) => memoryLimits.get(name) : undefined
    )
    const classification = classifyStoppedTask(
      report,
      task.healthStatus === 'UNHEALTHY'
    )
    if (!classification) continue
    const ev = w.lastHealthEvent
    if (classification.category === 'health-check' && ev?.targetGroup) {
      classification.reason += ` (target group ${ev.targetGroup}${ev.codes ? `, status codes [${ev.codes}]` : ''})`
    }
    report.category = classification.category
    w.stopped.push(report)
    const code = report.containers
      .filter((c) => c.exitCode !== undefined)
      .map((c) => `${c.name}=${c.exitCode}`)
      .join(' ')
    step.log.push(
      `${w.target.service}: task ${report.taskArn.split('/').pop()} stopped [${classification.category}] ${report.stoppedReason ?? ''}${code ? ` exit ${code}` : ''}`
    )
    note(step, `stopped [${classification.category}]: ${classification.reason}`)
    failures.push(classification)
  }
  return failures
}

/** Charges failures to the phase's budget; true when the watch failed. */
function spendBudgets(step: Step, failures: Classification[]): boolean {
  const { w } = step
  const p = w.target.policy
  for (const failure of failures) {
    w.soakSince = undefined
    if (failure.fatal) {
      finish(step, 'failed', failure.category, failure.reason)
      return true
    }
    if (w.phase === 'startup') w.startupFailures++
    else w.strictFailures++
    const [count, budget, label] =
      w.phase === 'startup'
        ? [w.startupFailures, p.startupFailureBudget, 'startup grace']
        : [w.strictFailures, p.failureBudget, 'strict phase']
    if (count > budget) {
      finish(
        step,
        'failed',
        failure.category,
        `${failure.reason} — ${count} failure(s) in the ${label}, budget ${budget}`
      )
      return true
    }
  }
  return false
}

/** Rolled back by the circuit breaker or replaced by someone else's deployment. */
function replaced(
  step: Step,
  service: Service,
  deployment: Deployment
): boolean {
  if (deployment.rolloutState !== 'FAILED' && deployment.status === 'PRIMARY')
    return false
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
  const why =
    deployment.rolloutState === 'FAILED'
      ? `deployment ${deployment.id} FAILED${deployment.rolloutStateReason ? `: ${deployment.rolloutStateReason}` : ''}`
      : `deployment ${deployment.id} is no longer PRIMARY (now ${deployment.status})`
  finish(
    step,
    'failed',
    'rolled-back',
    `${why}; PRIMARY is ${shortTaskDefinition(primary?.taskDefinition)}${lastStoppedHint(step.w)}`
  )
  return true
}

/** Startup ends when grace is over or every desired task runs. */
function advancePhase(
  step: Step,
  allRunning: boolean,
  deployment: Deployment
): boolean {
  const { w } = step
  const p = w.target.policy
  if (w.phase !== 'startup') return false
  if (elapsed(step) < p.startupGraceSeconds && !allRunning) return false
  w.phase = 'strict'
  const why = allRunning
    ? `all ${deployment.desiredCount ?? 0} desired task(s) running`
    : 'startup grace over'
  step.log.push(
    `${w.target.service}: ${why}; failure budget ${p.failureBudget} applies now`
  )
  note(step, `${why}; strict failure budget ${p.failureBudget}`)
  return true
}

/** Healthy after `stableFor` of steady state; timeout at the deadline. */
function soakOrTimeout(
  step: Step,
  steady: boolean
): 'finished' | 'changed' | 'same' {
  const { w, now } = step
  const p = w.target.policy
  let changed = false
  if (steady) {
    if (w.soakSince === undefined) {
      w.soakSince = now
      changed = true
      step.log.push(
        `${w.target.service}: steady; soaking for ${formatDuration(p.stableForSeconds)}`
      )
      note(step, `steady; soak ${formatDuration(p.stableForSeconds)}`)
    }
    if ((now - w.soakSince) / 1000 >= p.stableForSeconds) {
      finish(step, 'healthy')
      return 'finished'
    }
  } else if (w.soakSince !== undefined) {
    w.soakSince = undefined
    changed = true
    note(step, 'left steady state; soak restarts')
  }
  if (elapsed(step) >= p.timeoutSeconds) {
    finish(
      step,
      'timeout',
      'timeout',
      `not healthy after ${formatDuration(elapsed(step))}: ${w.statusLine}${lastStoppedHint(w)}`
    )
    return 'finished'
  }
  return changed ? 'changed' : 'same'
}

function lastStoppedHint(w: { stopped: StoppedTaskReport[] }): string {
  const last = w.stopped[w.stopped.length - 1]
  if (!last) return ''
  const c = last.containers.find(
    (x) => x.exitCode !== undefined && x.exitCode !== 0
  )
  return `; last stopped task: ${last.stoppedReason ?? last.stopCode ?? ''}${c ? ` (${c.name} exit ${c.exitCode})` : ''}`
}
