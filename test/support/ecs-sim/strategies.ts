/**
 * How a service deployment moves through its strategy: ROLLING (with the
 * alarm watch after steady state), and BLUE_GREEN, LINEAR and CANARY through
 * ECS's lifecycle stages, with bake times, PAUSE hooks and rollbacks. The
 * scheduler asks `gateOf` what it may do; `stepServiceDeployment` runs after
 * each scheduler pass.
 */
import { invalidParameter } from './errors.js'
import { isLive, isReady } from './tasks.js'
import {
  alarmState,
  isFinal,
  recordOf,
  steering,
  type HookDetail,
  type LifecycleStage,
  type ServiceDeploymentRecord
} from './service-deployments.js'
import type { Deployment, Service, World } from './world.js'

/** Alarm watch after steady state when `bakeTimeInMinutes` is not set (simulator's choice). */
export const DEFAULT_ALARM_BAKE_MS = 300_000

/** How long a stage without work of its own lasts (simulator's choice). */
export const STAGE_MIN_MS = 10_000

/** Stages a non-rolling deployment walks through, in order. */
const STAGES: LifecycleStage[] = [
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP'
]

/** What the scheduler may do for a service this pass. */
export interface Gate {
  /** Launch tasks for the PRIMARY deployment. */
  launch: boolean
  /** Stop tasks of older deployments. */
  drainOld: boolean
  /** Extra room on top of desired: the whole green fleet for non-rolling. */
  fullGreen: boolean
  /** Keep the PRIMARY deployment IN_PROGRESS even when all is ready. */
  holdCompletion: boolean
}

const OPEN: Gate = {
  launch: true,
  drainOld: true,
  fullGreen: false,
  holdCompletion: false
}

function active(
  world: World,
  service: Service
): ServiceDeploymentRecord | undefined {
  const r = recordOf(world, service)
  return r && !isFinal(r) ? r : undefined
}

export function gateOf(world: World, service: Service): Gate {
  const r = active(world, service)
  if (!r || r.rollback || r.target !== service.deployments[0]) return OPEN
  if (r.strategy === 'ROLLING') {
    return { ...OPEN, holdCompletion: r.alarmStatus === 'MONITORING' }
  }
  const stage = r.lifecycleStage ?? 'PRE_SCALE_UP'
  const index = STAGES.indexOf(stage)
  return {
    launch: index >= STAGES.indexOf('SCALE_UP'),
    drainOld: stage === 'CLEAN_UP',
    fullGreen: true,
    holdCompletion: stage !== 'CLEAN_UP'
  }
}

function minutes(n: number | undefined): number {
  return (n ?? 0) * 60_000
}

function readyCount(world: World, d: Deployment): number {
  return [...world.live].filter(
    (t) => t.deploymentId === d.id && isLive(t) && isReady(t)
  ).length
}

function enter(
  world: World,
  r: ServiceDeploymentRecord,
  stage: LifecycleStage
): void {
  r.lifecycleStage = stage
  r.stageSince = world.time
  r.updatedAt = world.time
  for (const hook of r.configuration.lifecycleHooks ?? []) {
    if (!(hook.lifecycleStages as string[] | undefined)?.includes(stage))
      continue
    const pause = hook.targetType === 'PAUSE' || !hook.hookTargetArn
    r.hooks.push({
      hookId: world.ids.hex(24),
      stage,
      targetType: pause ? 'PAUSE' : 'AWS_LAMBDA',
      targetArn: pause ? undefined : hook.hookTargetArn,
      // A Lambda hook is played as one that answered SUCCEEDED at once.
      status: pause ? 'AWAITING_ACTION' : 'SUCCEEDED'
    })
  }
}

function waiting(r: ServiceDeploymentRecord): boolean {
  return r.hooks.some(
    (h) => h.stage === r.lifecycleStage && h.status === 'AWAITING_ACTION'
  )
}

/** The stage's own work is done and it may move on. */
function stageDone(world: World, r: ServiceDeploymentRecord): boolean {
  const c = r.configuration
  const since = world.time - r.stageSince
  switch (r.lifecycleStage) {
    case 'SCALE_UP':
      return readyCount(world, r.target) >= r.service.desiredCount
    case 'PRODUCTION_TRAFFIC_SHIFT':
      return shiftTraffic(world, r)
    case 'BAKE_TIME':
      return since >= minutes(c.bakeTimeInMinutes)
    case 'CLEAN_UP':
      return r.target.rolloutState === 'COMPLETED'
    default:
      return since >= STAGE_MIN_MS
  }
}

/** Moves production traffic one step; true once it is all on the target. */
function shiftTraffic(world: World, r: ServiceDeploymentRecord): boolean {
  const c = r.configuration
  const since = world.time - r.stageSince
  if (r.strategy === 'LINEAR') {
    const step = c.linearConfiguration?.stepPercent ?? 10
    const bake = minutes(c.linearConfiguration?.stepBakeTimeInMinutes ?? 6)
    if (r.trafficPercent === 0 || since >= bake) {
      if (r.trafficPercent >= 100) return true
      r.trafficPercent = Math.min(100, r.trafficPercent + step)
      r.stageSince = world.time
      r.updatedAt = world.time
    }
    return false
  }
  if (r.strategy === 'CANARY') {
    const canary = c.canaryConfiguration?.canaryPercent ?? 5
    const bake = minutes(c.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10)
    if (r.trafficPercent === 0) {
      r.trafficPercent = canary
      r.stageSince = world.time
      r.updatedAt = world.time
      return false
    }
    if (r.trafficPercent < 100 && since >= bake) {
      r.trafficPercent = 100
      r.stageSince = world.time
      r.updatedAt = world.time
    }
    return r.trafficPercent >= 100 && world.time > r.stageSince
  }
  r.trafficPercent = 100
  return since >= STAGE_MIN_MS
}

/** Alarms first: one in ALARM while watched stops or rolls back the deployment. */
function watchAlarms(world: World, r: ServiceDeploymentRecord): boolean {
  if (r.alarmStatus !== 'MONITORING') return false
  const names = r.configuration.alarms?.alarmNames ?? []
  const firing = names.filter((n) => alarmState(world, n) === 'ALARM')
  if (firing.length === 0) return false
  r.alarmStatus = 'TRIGGERED'
  r.triggeredAlarms = firing
  const service = r.service
  world.addEvent(
    service,
    `(service ${service.name}) (deployment ${r.target.id}) deployment failed: alarm detected.`
  )
  if (r.configuration.alarms?.rollback) {
    rollBack(world, r, `Cloudwatch alarm(s) ${firing.join(', ')} triggered.`)
  } else {
    failWithoutRollback(
      world,
      r,
      `Cloudwatch alarm(s) ${firing.join(', ')} triggered.`
    )
  }
  return true
}

function failWithoutRollback(
  world: World,
  r: ServiceDeploymentRecord,
  reason: string
): void {
  r.target.rolloutState = 'FAILED'
  r.target.rolloutStateReason = `ECS deployment failed: ${reason}`
  r.status = 'STOPPED'
  r.statusReason = reason
  r.stoppedAt = r.finishedAt = r.updatedAt = world.time
}

/**
 * Puts the source revision back: a blue fleet still running takes the
 * traffic again (blue/green before clean-up), otherwise a new deployment of
 * the source revision rolls out (rolling).
 */
export function rollBack(
  world: World,
  r: ServiceDeploymentRecord,
  reason: string
): void {
  const service = r.service
  const source = r.sources[0]
  r.status = 'ROLLBACK_IN_PROGRESS'
  r.statusReason = reason
  r.updatedAt = world.time
  r.target.rolloutState = 'FAILED'
  r.target.rolloutStateReason = `ECS deployment rollback: ${reason}`
  if (r.breakerStatus === 'MONITORING') r.breakerStatus = 'MONITORING_COMPLETE'
  if (r.alarmStatus === 'MONITORING') r.alarmStatus = 'MONITORING_COMPLETE'
  for (const h of r.hooks) {
    if (h.status === 'AWAITING_ACTION') h.status = 'FAILED'
  }
  if (!source) {
    r.status = 'ROLLBACK_FAILED'
    r.statusReason = `${reason} There is no previous service revision to roll back to.`
    r.finishedAt = world.time
    return
  }
  r.rollback = {
    reason,
    startedAt: world.time,
    revisionArn: source.revisionArn
  }
  r.trafficPercent = 0
  // The source revision's tasks still run (blue before clean-up, or a
  // rolling deployment that never drained them): they take over again.
  const blue = service.deployments.find((d) => d === source.deployment)
  if (blue) {
    service.deployments = [
      blue,
      ...service.deployments.filter((d) => d !== blue)
    ]
    for (const d of service.deployments)
      d.status = d === blue ? 'PRIMARY' : 'ACTIVE'
    service.taskDefinitionArn = blue.taskDefinitionArn
    r.rollbackDeployment = blue
  } else if (world.taskDefinition(source.deployment.taskDefinitionArn)) {
    r.rollbackDeployment = world.newDeployment(
      service,
      source.deployment.taskDefinitionArn
    )
    r.rollbackDeployment.rolloutStateReason = `ECS deployment rolling back to deployment ${source.deployment.id}.`
  }
  world.addEvent(
    service,
    `(service ${service.name}) rolling back to deployment ${source.deployment.id}.`
  )
}

function answerHook(
  world: World,
  r: ServiceDeploymentRecord,
  hook: HookDetail,
  action: 'CONTINUE' | 'ROLLBACK'
): void {
  hook.status = action === 'CONTINUE' ? 'SUCCEEDED' : 'FAILED'
  r.updatedAt = world.time
  if (action === 'ROLLBACK') {
    rollBack(
      world,
      r,
      `Lifecycle hook ${hook.hookId} at ${hook.stage} answered ROLLBACK.`
    )
  }
}

steering.rollback = (world, r, reason) => rollBack(world, r, reason)
steering.answerHook = answerHook

/** The circuit breaker tripped: the record follows the scheduler's verdict. */
export function breakerTripped(
  world: World,
  service: Service,
  rollback: Deployment | undefined
): void {
  const r = active(world, service)
  if (!r) return
  r.breakerStatus = 'TRIGGERED'
  const reason = 'ECS deployment circuit breaker: tasks failed to start.'
  if (!rollback) {
    failWithoutRollback(world, r, reason)
    return
  }
  r.status = 'ROLLBACK_IN_PROGRESS'
  r.statusReason = reason
  r.updatedAt = world.time
  r.rollbackDeployment = rollback
  r.rollback = {
    reason,
    startedAt: world.time,
    revisionArn: r.sources[0]?.revisionArn ?? r.targetRevisionArn
  }
}

/** One pass over a service's current deployment, after the scheduler's. */
export function stepServiceDeployment(world: World, service: Service): void {
  const r = active(world, service)
  if (!r) return
  if (r.status === 'PENDING') {
    r.status = 'IN_PROGRESS'
    r.startedAt = r.updatedAt = world.time
    if (r.strategy !== 'ROLLING') enter(world, r, 'PRE_SCALE_UP')
  }
  if (
    r.status === 'ROLLBACK_REQUESTED' ||
    r.status === 'ROLLBACK_IN_PROGRESS'
  ) {
    finishRollback(world, r)
    return
  }
  if (r.status !== 'IN_PROGRESS') return
  if (watchAlarms(world, r)) return
  if (r.target.rolloutState === 'FAILED') return
  if (r.strategy === 'ROLLING') {
    stepRolling(world, r)
    return
  }
  if (waiting(r) || !stageDone(world, r)) return
  const next = STAGES[STAGES.indexOf(r.lifecycleStage ?? 'PRE_SCALE_UP') + 1]
  if (next) enter(world, r, next)
  else succeed(world, r)
}

/** Rolling: steady state opens the alarm watch; its end completes the deployment. */
function stepRolling(world: World, r: ServiceDeploymentRecord): void {
  const service = r.service
  const allReady =
    service.deployments.length === 1 &&
    readyCount(world, r.target) >= service.desiredCount
  if (r.alarmStatus === 'MONITORING' && allReady) {
    r.monitorUntil ??=
      world.time +
      (r.configuration.bakeTimeInMinutes !== undefined
        ? minutes(r.configuration.bakeTimeInMinutes)
        : DEFAULT_ALARM_BAKE_MS)
    if (world.time >= r.monitorUntil) r.alarmStatus = 'MONITORING_COMPLETE'
    return
  }
  if (r.target.rolloutState === 'COMPLETED') succeed(world, r)
}

function succeed(world: World, r: ServiceDeploymentRecord): void {
  r.status = 'SUCCESSFUL'
  r.statusReason = undefined
  r.finishedAt = r.updatedAt = world.time
  if (r.alarmStatus === 'MONITORING') r.alarmStatus = 'MONITORING_COMPLETE'
  if (r.breakerStatus === 'MONITORING') r.breakerStatus = 'MONITORING_COMPLETE'
  r.trafficPercent = 100
}

function finishRollback(world: World, r: ServiceDeploymentRecord): void {
  const back = r.rollbackDeployment
  const service = r.service
  if (!back) return
  if (back.rolloutState === 'FAILED') {
    r.status = 'ROLLBACK_FAILED'
    r.finishedAt = r.updatedAt = world.time
    return
  }
  if (
    service.deployments[0] === back &&
    world.unstoppedTasksOf(service).every((t) => t.deploymentId === back.id) &&
    readyCount(world, back) >= service.desiredCount
  ) {
    r.status = 'ROLLBACK_SUCCESSFUL'
    r.finishedAt = r.updatedAt = world.time
  }
}

/** Rejects a strategy configuration ECS would reject (InvalidParameterException). */
export function checkStrategy(
  config: Service['deploymentConfiguration']
): void {
  const strategy = config.strategy ?? 'ROLLING'
  if (!['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'].includes(strategy)) {
    throw invalidParameter(`strategy ${String(strategy)} is not valid.`)
  }
  const bake = config.bakeTimeInMinutes
  if (
    bake !== undefined &&
    (!Number.isInteger(bake) || bake < 0 || bake > 1440)
  ) {
    throw invalidParameter('bakeTimeInMinutes must be between 0 and 1440.')
  }
  const step = config.linearConfiguration?.stepPercent
  if (step !== undefined && (step < 3 || step > 100)) {
    throw invalidParameter(
      'linearConfiguration.stepPercent must be between 3.0 and 100.0.'
    )
  }
  const canary = config.canaryConfiguration?.canaryPercent
  if (canary !== undefined && (canary < 0.1 || canary > 100)) {
    throw invalidParameter(
      'canaryConfiguration.canaryPercent must be between 0.1 and 100.0.'
    )
  }
  for (const hook of config.lifecycleHooks ?? []) {
    for (const stage of hook.lifecycleStages ?? []) {
      if (
        !(STAGES as string[]).includes(stage) &&
        stage !== 'RECONCILE_SERVICE'
      ) {
        throw invalidParameter(`lifecycleStages value ${stage} is not valid.`)
      }
    }
  }
}
