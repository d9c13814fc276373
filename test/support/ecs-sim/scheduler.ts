import { planTask } from './behavior.js'
import {
  TIMINGS,
  isLive,
  isReady,
  launchTask,
  stepTask,
  stopTask
} from './tasks.js'
import { breakerThresholdOf } from './service-deployments.js'
import { breakerTripped, gateOf, stepServiceDeployment } from './strategies.js'
import type { Deployment, Service, Task, World } from './world.js'

/** Consecutive failures that trip the circuit breaker (0.5 × desired, 3..200). */
export function breakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * desiredCount)))
}

/** Tasks list for events: `(task a) (task b)`. */
function taskList(tasks: Task[]): string {
  return tasks.map((t) => `(task ${t.id})`).join(' ')
}

/**
 * One scheduler pass at `world.time`: every task moves along its life, then
 * every service launches, drains, completes or rolls back deployments.
 */
export function stepWorld(world: World): void {
  world.purgeStopped(TIMINGS.stoppedRetentionMs)
  for (const task of [...world.live]) {
    const service = world.services.get(
      `${task.clusterName}/${task.serviceName}`
    )
    const outcome = stepTask(world, task, service)
    if (!outcome || !service) continue
    const deployment = service.deployments.find(
      (d) => d.id === task.deploymentId
    )
    if (!deployment) continue
    deployment.updatedAt = world.time
    if (outcome.kind === 'ready') {
      // resetOnHealthyTask: one healthy task ends the breaker's watch.
      deployment.failedTasks = 0
      deployment.consecutiveFailures = 0
      deployment.breakerWatching = false
    } else {
      recordFailure(world, service, deployment)
    }
  }
  for (const service of world.services.values()) {
    scheduleService(world, service)
    stepServiceDeployment(world, service)
  }
}

const impairedNoticed = new WeakSet<Deployment>()

function recordFailure(
  world: World,
  service: Service,
  deployment: Deployment
): void {
  deployment.failedTasks++
  deployment.consecutiveFailures++
  deployment.updatedAt = world.time
  // Like ECS's launch throttle: each fully failed batch doubles the wait.
  const batches = Math.floor(
    deployment.consecutiveFailures / Math.max(1, service.desiredCount)
  )
  if (batches >= 1) {
    const wait = Math.min(
      TIMINGS.maxLaunchBackoffMs,
      TIMINGS.launchBackoffMs * 2 ** (batches - 1)
    )
    deployment.nextLaunchAt = Math.max(
      deployment.nextLaunchAt,
      world.time + wait
    )
  }
  if (
    deployment.status !== 'PRIMARY' ||
    deployment.rolloutState !== 'IN_PROGRESS'
  ) {
    return
  }
  if (deployment.failedTasks < breakerThresholdOf(service)) return
  if (!impairedNoticed.has(deployment)) {
    impairedNoticed.add(deployment)
    world.addEvent(
      service,
      `(service ${service.name}) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`
    )
  }
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker
  if (!breaker.enable || !deployment.breakerWatching) return
  deployment.rolloutState = 'FAILED'
  deployment.rolloutStateReason =
    'ECS deployment circuit breaker: tasks failed to start.'
  world.addEvent(
    service,
    `(service ${service.name}) (deployment ${deployment.id}) deployment failed: tasks failed to start.`
  )
  const target = service.lastCompleted
  // Rollback needs a deployment that once completed; otherwise it stays FAILED.
  if (
    breaker.rollback &&
    target &&
    world.taskDefinition(target.taskDefinitionArn)
  ) {
    world.addEvent(
      service,
      `(service ${service.name}) rolling back to deployment ${target.id}.`
    )
    const rollback = world.newDeployment(service, target.taskDefinitionArn)
    rollback.rolloutStateReason = `ECS deployment circuit breaker: rolling back to deploymentId ${target.id}.`
    breakerTripped(world, service, rollback)
  } else {
    breakerTripped(world, service, undefined)
  }
}

function scheduleService(world: World, service: Service): void {
  if (service.status === 'INACTIVE') return
  const now = world.time
  const tasks = world.unstoppedTasksOf(service)
  const live = tasks.filter(isLive)
  const liveOf = (d: Deployment): Task[] =>
    live.filter((t) => t.deploymentId === d.id && isLive(t))
  const primary = service.deployments[0]
  const scaling = `Scaling activity initiated by (deployment ${primary?.id ?? 'none'})`
  const stopped: Task[] = []
  const drain = (task: Task): void => {
    if (
      stopTask(world, task, {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: scaling,
        graceful: true
      })
    ) {
      stopped.push(task)
    }
  }

  if (service.status === 'DRAINING') {
    live.forEach(drain)
    if (world.unstoppedTasksOf(service).length === 0) {
      service.status = 'INACTIVE'
      for (const d of service.deployments) d.status = 'INACTIVE'
    }
    reportStopped(world, service, stopped)
    return
  }
  if (!primary) return

  const desired = service.desiredCount
  const config = service.deploymentConfiguration
  const gate = gateOf(world, service)
  // Blue/green, linear and canary scale the whole green fleet beside blue.
  const maxTotal = gate.fullGreen
    ? live.filter((t) => t.deploymentId !== primary.id).length + desired
    : Math.max(desired, Math.floor((desired * config.maximumPercent) / 100))
  const minHealthy = Math.min(
    desired,
    Math.ceil((desired * config.minimumHealthyPercent) / 100)
  )
  primary.desiredCount = desired

  // Launch for the PRIMARY deployment, within maximumPercent.
  const need = desired - liveOf(primary).length
  const room = maxTotal - live.filter(isLive).length
  if (
    primary.rolloutState !== 'FAILED' &&
    gate.launch &&
    now >= primary.nextLaunchAt &&
    need > 0 &&
    room > 0
  ) {
    launchFor(world, service, primary, Math.min(need, room))
  }

  // Scale in a PRIMARY that has more than desired, not-yet-healthy first.
  const primaryLive = liveOf(primary).sort(readyLast)
  for (const t of primaryLive.slice(
    0,
    Math.max(0, primaryLive.length - desired)
  )) {
    drain(t)
  }

  // Drain older deployments while minimumHealthyPercent still holds.
  let healthy = live.filter((t) => isLive(t) && isReady(t)).length
  for (const old of gate.drainOld ? service.deployments.slice(1) : []) {
    for (const t of liveOf(old).sort(readyLast)) {
      if (isReady(t)) {
        if (healthy - 1 < minHealthy) continue
        healthy--
      }
      drain(t)
    }
    old.desiredCount = liveOf(old).length
  }
  reportStopped(world, service, stopped)

  // A drained deployment leaves the list once its last task has stopped.
  const unstopped = world.unstoppedTasksOf(service)
  service.deployments = service.deployments.filter((d, i) => {
    if (i === 0) return true
    const gone = unstopped.every((t) => t.deploymentId !== d.id)
    if (!gone) return true
    // A failed deployment stays listed a while, so pollers can see it FAILED.
    if (d.rolloutState === 'FAILED') {
      d.drainedAt ??= now
      if (now - d.drainedAt < TIMINGS.failedDeploymentLingerMs) return true
    }
    d.status = 'INACTIVE'
    return false
  })

  const primaryTasks = liveOf(primary)
  const allReady =
    primaryTasks.length === desired && primaryTasks.every(isReady)
  if (
    primary.rolloutState === 'IN_PROGRESS' &&
    service.deployments.length === 1 &&
    allReady &&
    !gate.holdCompletion
  ) {
    primary.rolloutState = 'COMPLETED'
    primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`
    primary.updatedAt = now
    service.lastCompleted = {
      id: primary.id,
      taskDefinitionArn: primary.taskDefinitionArn
    }
    world.addEvent(
      service,
      `(service ${service.name}) (deployment ${primary.id}) deployment completed.`
    )
  }
  const steady =
    service.deployments.length === 1 &&
    primary.rolloutState === 'COMPLETED' &&
    allReady
  if (steady && !service.steady) {
    world.addEvent(
      service,
      `(service ${service.name}) has reached a steady state.`
    )
  }
  service.steady = steady
}

function readyLast(a: Task, b: Task): number {
  return Number(isReady(a)) - Number(isReady(b))
}

function launchFor(
  world: World,
  service: Service,
  deployment: Deployment,
  count: number
): void {
  const td = world.taskDefinition(deployment.taskDefinitionArn)
  if (!td) return
  const plan = planTask(td.containerDefinitions, world.behaviorRules)
  const cluster = world.clusters.get(service.clusterName)
  const inCluster = [...world.live].filter(
    (t) => t.clusterName === service.clusterName && isLive(t)
  ).length
  const capacity =
    cluster?.capacity === undefined ? Infinity : cluster.capacity - inCluster
  if (plan.placement || capacity <= 0) {
    world.addEvent(
      service,
      `(service ${service.name}) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`
    )
    deployment.nextLaunchAt = world.time + TIMINGS.placementRetryMs
    recordFailure(world, service, deployment)
    return
  }
  const started: Task[] = []
  for (let i = 0; i < Math.min(count, capacity); i++) {
    started.push(launchTask(world, service, deployment, td))
  }
  world.addEvent(
    service,
    `(service ${service.name}) has started ${started.length} tasks: ${taskList(started)}.`
  )
}

function reportStopped(world: World, service: Service, stopped: Task[]): void {
  if (stopped.length === 0) return
  world.addEvent(
    service,
    `(service ${service.name}) has stopped ${stopped.length} running tasks: ${taskList(stopped)}.`
  )
}
