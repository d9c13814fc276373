/** The watcher's judgement, without I/O: one service's state and one poll's snapshot in, the next state and any verdict out. */
import type { Deployment, Service } from '@aws-sdk/client-ecs'
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
import { isRebalancingStop, rebalancedTaskIds } from './az-rebalancing.js'
import { advancePhase, soakOrTimeout } from './watch-phases.js'
import {
  answerHook,
  answerOurHook,
  ecsDone,
  ecsFailure,
  followServiceDeployment,
  matchServiceDeployment,
  ourWaitingHook,
  greenHealthy
} from './watch-service-deployment.js'
import type {
  Evaluation,
  ServiceSnapshot,
  StoppedTask,
  WatchState
} from './watch-state.js'
import {
  begin,
  finish,
  lastStoppedHint,
  note,
  type Step
} from './watch-step.js'

/** Ends a watch from outside a poll (ECS kept throttling past the timeout). */
export function timeOut(
  state: WatchState,
  now: number,
  reason: string
): Evaluation {
  const step = begin(state, now)
  finish(step, 'timeout', 'timeout', reason)
  return { state: step.w, changed: true, log: step.log, answers: step.answers }
}

/** Applies one poll's view of a service to its watch. */
export function evaluate(
  state: WatchState,
  snapshot: ServiceSnapshot,
  now: number
): Evaluation {
  const step = begin(state, now)
  const changed = judge(step, snapshot)
  // A watch that fails while ECS waits on our hook tells ECS to roll back.
  const hook = step.w.result
    ? ourWaitingHook(step, snapshot.serviceDeployment)
    : undefined
  if (
    hook &&
    snapshot.serviceDeployment &&
    step.w.result?.result !== 'healthy'
  ) {
    answerHook(step, snapshot.serviceDeployment, hook, 'ROLLBACK')
  }
  return { state: step.w, changed, log: step.log, answers: step.answers }
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
  const sd = matchServiceDeployment(
    step,
    deployment,
    snapshot.serviceDeployment
  )
  if (sd) changed = followServiceDeployment(step, sd) || changed
  const stopped = countStoppedTasks(step, snapshot.stopped, deployment)
  if (stopped.length > 0) changed = true
  const failures = [...events.failures, ...stopped]
  const ecs = sd ? ecsFailure(sd) : undefined
  if (ecs) {
    const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
    if (primary?.id === deployment.id && !w.rollbackSeenEarly) {
      w.rollbackSeenEarly = true
      return changed
    }
    finish(
      step,
      'failed',
      ecs.category,
      `${ecs.reason}; PRIMARY is ${shortTaskDefinition(primary?.taskDefinition)}${lastStoppedHint(w)}`
    )
    return true
  }
  if (spendBudgets(step, failures)) return true
  if (replaced(step, service, deployment)) return true
  // Blue/green, linear and canary keep blue up until clean-up: there the
  // new revision counts as all running (and healthy) once ECS is past
  // SCALE_UP; rolling deployments read as before.
  const greenUp = sd ? greenHealthy(sd) : undefined
  const allRunning =
    greenUp === undefined
      ? allTasksRunning(service, deployment, events.unhealthyNow)
      : greenUp && !events.unhealthyNow
  changed = advancePhase(step, allRunning, deployment) || changed
  const steady =
    allRunning &&
    failures.length === 0 &&
    (greenUp !== undefined
      ? deployment.status === 'PRIMARY'
      : (deployment.pendingCount ?? 0) === 0 &&
        (deployment.runningCount ?? 0) === (deployment.desiredCount ?? 0) &&
        (deployment.rolloutState === 'COMPLETED' ||
          (service.deployments ?? []).length <= 1))
  const soak = soakOrTimeout(step, steady, ecsDone(sd))
  if (!w.result && sd) answerOurHook(step, sd)
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
    for (const id of rebalancedTaskIds(message)) w.rebalanced.add(id)
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
    if (isRebalancingStop(task, w.rebalanced)) {
      const id = (task.taskArn ?? '').split('/').pop()
      step.log.push(
        `${w.target.service}: task ${id} stopped by AZ rebalancing; not a failure`
      )
      note(step, `task ${id} stopped by AZ rebalancing (not counted)`)
      continue
    }
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
