import { planTask } from './behavior.js'
import type {
  Deployment,
  Service,
  Task,
  TaskDefinitionRecord,
  World
} from './world.js'
import { shortId } from './world.js'

/** How long each step of a task's life takes in simulated time. */
export const TIMINGS = {
  provisioningMs: 2_000,
  pullMs: 4_000,
  stoppingMs: 2_000,
  /** An unhealthy task is noticed after this, or after the grace period if longer. */
  healthDetectMs: 30_000,
  placementRetryMs: 30_000,
  /** Launch back-off after a whole batch failed, doubling up to the max. */
  launchBackoffMs: 10_000,
  maxLaunchBackoffMs: 900_000,
  /** How long a drained FAILED deployment stays in the list. */
  failedDeploymentLingerMs: 60_000,
  stoppedRetentionMs: 3_600_000
}

export const OOM_REASON =
  'OutOfMemoryError: Container killed due to memory usage'

/** What a stop does to the deployment that owned the task. */
export type StopKind = 'failure' | 'scheduler'

export interface StopDetails {
  stopCode: string
  stoppedReason: string
  /** Applied to the container that caused the stop. */
  container?: { name: string; exitCode?: number; reason?: string }
  /** STOPPING first (scheduler stops) or straight to STOPPED (failures). */
  graceful: boolean
}

/** Launches one task of a deployment, PROVISIONING from now. */
export function launchTask(
  world: World,
  service: Service,
  deployment: Deployment,
  td: TaskDefinitionRecord
): Task {
  const id = world.ids.hex(32)
  const arn = world.arn(`task/${service.clusterName}/${id}`)
  const task: Task = {
    arn,
    id,
    clusterName: service.clusterName,
    serviceName: service.name,
    deploymentId: deployment.id,
    taskDefinitionArn: td.arn,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    healthStatus: 'UNKNOWN',
    createdAt: world.time,
    containers: td.containerDefinitions.map((c) => ({
      name: c.name ?? '',
      image: c.image ?? '',
      arn: world.arn(
        `container/${service.clusterName}/${id}/${world.ids.uuid()}`
      ),
      lastStatus: 'PENDING',
      healthStatus: 'UNKNOWN',
      hasHealthCheck: c.healthCheck !== undefined,
      essential: c.essential !== false,
      cpu: c.cpu,
      memory: c.memory,
      memoryReservation: c.memoryReservation
    })),
    cpu: td.body.cpu as string | undefined,
    memory: td.body.memory as string | undefined,
    launchType: service.launchType,
    version: 1,
    plan: planTask(td.containerDefinitions, world.behaviorRules),
    tags: service.propagateTags === 'SERVICE' ? [...service.tags] : []
  }
  world.addTask(task)
  return task
}

/** Marks a task as already running and healthy (for worlds seeded steady). */
export function settleTask(task: Task, now: number): void {
  task.createdAt = now - 60_000
  task.pullStartedAt = now - 58_000
  task.pullStoppedAt = now - 54_000
  task.startedAt = now - 54_000
  task.readyAt = now - 49_000
  task.lastStatus = 'RUNNING'
  for (const c of task.containers) {
    c.lastStatus = 'RUNNING'
    if (c.hasHealthCheck) c.healthStatus = 'HEALTHY'
  }
  if (task.containers.some((c) => c.hasHealthCheck)) {
    task.healthStatus = 'HEALTHY'
  }
}

export function isLive(task: Task): boolean {
  return task.desiredStatus === 'RUNNING'
}

export function isReady(task: Task): boolean {
  return (
    task.desiredStatus === 'RUNNING' &&
    task.lastStatus === 'RUNNING' &&
    task.readyAt !== undefined
  )
}

/** Stops a task now; returns false when it was already stopping. */
export function stopTask(
  world: World,
  task: Task,
  details: StopDetails
): boolean {
  if (task.desiredStatus === 'STOPPED') return false
  task.desiredStatus = 'STOPPED'
  task.stopCode = details.stopCode
  task.stoppedReason = details.stoppedReason
  task.stoppingAt = world.time
  task.version++
  if (details.container) {
    const c = task.containers.find((x) => x.name === details.container?.name)
    if (c) {
      c.exitCode = details.container.exitCode
      c.reason = details.container.reason
    }
  }
  if (details.graceful && task.lastStatus === 'RUNNING') {
    task.lastStatus = 'DEACTIVATING'
  } else {
    finishStop(world, task)
  }
  return true
}

function finishStop(world: World, task: Task): void {
  task.lastStatus = 'STOPPED'
  task.stoppedAt = world.time
  task.version++
  world.markStopped(task)
  for (const c of task.containers) {
    if (c.lastStatus === 'RUNNING' && c.exitCode === undefined) {
      // Containers stopped by the agent after SIGTERM.
      c.exitCode = task.stopCode === 'ServiceSchedulerInitiated' ? 0 : 143
    }
    c.lastStatus = 'STOPPED'
  }
}

/** What happened to a task in one step, for the scheduler to act on. */
export type TaskOutcome =
  | { kind: 'ready' }
  | { kind: 'failed' }
  | { kind: 'unhealthy'; via: 'elb' | 'container' }

/**
 * Moves one task along its life at `world.time` and reports what the
 * scheduler must count: a task that passed health checks, one that failed.
 */
export function stepTask(
  world: World,
  task: Task,
  service: Service | undefined
): TaskOutcome | undefined {
  const now = world.time
  if (task.lastStatus === 'STOPPED') return undefined
  if (task.desiredStatus === 'STOPPED') {
    if (task.lastStatus === 'DEACTIVATING') {
      if (now - (task.stoppingAt ?? now) >= TIMINGS.stoppingMs / 2) {
        task.lastStatus = 'STOPPING'
      }
    } else if (now - (task.stoppingAt ?? now) >= TIMINGS.stoppingMs) {
      finishStop(world, task)
    }
    return undefined
  }
  const plan = task.plan
  if (task.lastStatus === 'PROVISIONING') {
    if (now - task.createdAt < TIMINGS.provisioningMs) return undefined
    if (plan.startFailure?.kind === 'secrets') {
      const reason = secretsReason(world, task)
      stopTask(world, task, {
        stopCode: 'TaskFailedToStart',
        stoppedReason: reason,
        container: { name: plan.startFailure.container, reason },
        graceful: false
      })
      return { kind: 'failed' }
    }
    task.lastStatus = 'PENDING'
    task.pullStartedAt = now
    return undefined
  }
  if (task.lastStatus === 'PENDING') {
    if (now - (task.pullStartedAt ?? now) < TIMINGS.pullMs) return undefined
    task.pullStoppedAt = now
    if (plan.startFailure?.kind === 'pull') {
      const name = plan.startFailure.container
      const image = task.containers.find((c) => c.name === name)?.image ?? ''
      const reason = `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${image}: not found`
      stopTask(world, task, {
        stopCode: 'TaskFailedToStart',
        stoppedReason: reason,
        container: { name, reason },
        graceful: false
      })
      return { kind: 'failed' }
    }
    task.lastStatus = 'RUNNING'
    task.startedAt = now
    task.version++
    for (const c of task.containers) c.lastStatus = 'RUNNING'
    return undefined
  }
  // RUNNING
  const ranFor = now - (task.startedAt ?? now)
  if (plan.exit && ranFor >= plan.exit.afterMs) {
    const { container, exitCode, oom } = plan.exit
    stopTask(world, task, {
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      container: {
        name: container,
        exitCode,
        reason: oom ? OOM_REASON : undefined
      },
      graceful: false
    })
    return { kind: 'failed' }
  }
  const graceMs = (service?.healthCheckGracePeriodSeconds ?? 0) * 1000
  if (task.readyAt === undefined) {
    const detectAt = Math.max(graceMs, TIMINGS.healthDetectMs)
    if (plan.readyAfterMs !== undefined && ranFor >= plan.readyAfterMs) {
      task.readyAt = now
      setHealth(task, 'HEALTHY')
      return { kind: 'ready' }
    }
    if (ranFor >= detectAt) return failHealth(world, task, service)
    return undefined
  }
  if (
    plan.failHealthAfterMs !== undefined &&
    ranFor >= plan.failHealthAfterMs &&
    ranFor >= graceMs
  ) {
    return failHealth(world, task, service)
  }
  return undefined
}

function setHealth(task: Task, status: 'HEALTHY' | 'UNHEALTHY'): void {
  let any = false
  for (const c of task.containers) {
    if (c.hasHealthCheck) {
      c.healthStatus = status
      any = true
    }
  }
  if (any) task.healthStatus = status
}

/** The target group a service's tasks register in, if it has one. */
export function targetGroupOf(
  service: Service | undefined
): string | undefined {
  return service?.loadBalancers.find((lb) => lb.targetGroupArn)?.targetGroupArn
}

function failHealth(
  world: World,
  task: Task,
  service: Service | undefined
): TaskOutcome {
  const tg = targetGroupOf(service)
  if (tg && service) {
    const port = service.loadBalancers[0]?.containerPort ?? 80
    world.addEvent(
      service,
      `(service ${service.name}) (task ${task.id}) (port ${port}) is unhealthy in (target-group ${tg}) due to (reason Health checks failed with these codes: [502]).`
    )
    stopTask(world, task, {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: `Task failed ELB health checks in (target-group ${tg})`,
      graceful: true
    })
    return { kind: 'unhealthy', via: 'elb' }
  }
  setHealth(task, 'UNHEALTHY')
  task.healthStatus = 'UNHEALTHY'
  if (service) {
    world.addEvent(
      service,
      `(service ${service.name}) (task ${task.id}) failed container health checks.`
    )
  }
  stopTask(world, task, {
    stopCode: 'ServiceSchedulerInitiated',
    stoppedReason: 'Task failed container health checks',
    graceful: true
  })
  return { kind: 'unhealthy', via: 'container' }
}

function secretsReason(world: World, task: Task): string {
  const container = world
    .taskDefinition(task.taskDefinitionArn)
    ?.containerDefinitions.find(
      (c) => c.name === task.plan.startFailure?.container
    )
  const secret =
    container?.secrets?.[0]?.valueFrom ??
    `arn:aws:secretsmanager:${world.region}:${world.accountId}:secret:${shortId(task.serviceName)}-secrets`
  return `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret ${secret} from secrets manager: AccessDeniedException: User is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secret}`
}
