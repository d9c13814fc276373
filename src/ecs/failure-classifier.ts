import type { Task } from '@aws-sdk/client-ecs'
import type { FailureCategory, StoppedTaskReport } from './types.js'

/** Why one stopped task or one service event counts as a failure. */
export interface Classification {
  category: FailureCategory
  /** A sentence a person can act on. */
  reason: string
  /** Retrying cannot help (bad image, missing secret): end the wait at once. */
  fatal: boolean
}

/** Memory limits (MiB) by container name, for tasks that do not carry them. */
export type MemoryLookup = (
  taskDefinitionArn: string,
  container: string
) => number | undefined

const OOM = /outofmemory|killed due to memory|container killed.*memory/i
const SCALE_IN =
  /scaling activity initiated by|deployment .* completed|task stopped by user|stopping instance/i

function taskId(arn: string | undefined): string {
  return (arn ?? '').split('/').pop() ?? ''
}

function memoryOf(
  task: Task,
  container: string,
  lookup?: MemoryLookup
): number | undefined {
  const own = task.containers?.find((c) => c.name === container)?.memory
  if (own && Number(own) > 0) return Number(own)
  const fromDefinition = task.taskDefinitionArn
    ? lookup?.(task.taskDefinitionArn, container)
    : undefined
  if (fromDefinition) return fromDefinition
  return task.memory && Number(task.memory) > 0
    ? Number(task.memory)
    : undefined
}

/** The stopped task as the summary shows it (no classification yet). */
export function reportOf(task: Task, lookup?: MemoryLookup): StoppedTaskReport {
  return {
    taskArn: task.taskArn ?? '',
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    stoppedAt: task.stoppedAt?.toISOString(),
    containers: (task.containers ?? []).map((c) => ({
      name: c.name ?? '',
      exitCode: c.exitCode,
      reason: c.reason,
      memoryLimit: memoryOf(task, c.name ?? '', lookup)
    }))
  }
}

/** True when the task stopped on purpose (scale-in, replaced, user stop). */
export function isExpectedStop(task: StoppedTaskReport): boolean {
  const containersFailed = task.containers.some(
    (c) => (c.exitCode !== undefined && c.exitCode !== 0) || c.reason
  )
  if (containersFailed && task.stopCode !== 'UserInitiated') return false
  return (
    task.stopCode === 'UserInitiated' ||
    (task.stopCode === 'ServiceSchedulerInitiated' &&
      SCALE_IN.test(task.stoppedReason ?? ''))
  )
}

/**
 * Names the cause of a stopped task from its stop code, reason and
 * containers. `undefined` for stops that are not failures (scale-in, a
 * user's stop). Order matters: a pull error can also carry exit codes, and
 * an OOM kill also "exits" with 137, so the specific causes are tried first.
 */
export function classifyStoppedTask(
  task: StoppedTaskReport,
  taskHealthUnhealthy = false
): Classification | undefined {
  if (isExpectedStop(task)) return undefined
  const id = taskId(task.taskArn)
  const stopped = task.stoppedReason ?? ''
  const texts = [stopped, ...task.containers.map((c) => c.reason ?? '')]

  const pull = texts.find((t) => /CannotPullContainerError/i.test(t))
  if (pull) {
    return {
      category: 'image-pull',
      reason: `task ${id} could not pull its image: ${pull}`,
      fatal: true
    }
  }
  const init = texts.find((t) => /ResourceInitializationError/i.test(t))
  if (init) {
    return {
      category: 'secrets',
      reason: `task ${id} could not fetch its secrets or registry auth: ${init}`,
      fatal: true
    }
  }
  const oom = task.containers.find((c) => OOM.test(c.reason ?? ''))
  if (oom || /OutOfMemory/i.test(stopped)) {
    const container = oom ?? task.containers.find((c) => c.exitCode === 137)
    const name = container?.name ?? 'a container'
    const limit = container?.memoryLimit
      ? ` (memory limit ${container.memoryLimit} MiB)`
      : ''
    return {
      category: 'oom',
      reason: `container ${name} of task ${id} ran out of memory${limit} and was killed (exit ${container?.exitCode ?? 137}): ${container?.reason ?? stopped}`,
      fatal: false
    }
  }
  const elb = /ELB health checks?.*?\(target-group ([^)]+)\)/i.exec(stopped)
  if (elb || /ELB health check/i.test(stopped)) {
    return {
      category: 'health-check',
      reason: `task ${id} failed ELB health checks${elb ? ` in target group ${elb[1]}` : ''}`,
      fatal: false
    }
  }
  if (/health ?check/i.test(stopped) || taskHealthUnhealthy) {
    return {
      category: 'health-check',
      reason: `task ${id} failed its container health check: ${stopped || 'UNHEALTHY'}`,
      fatal: false
    }
  }
  const exited = task.containers.find(
    (c) => c.exitCode !== undefined && c.exitCode !== 0
  )
  if (exited) {
    return {
      category: 'crash',
      reason: `essential container ${exited.name} of task ${id} exited with code ${exited.exitCode}${exited.reason ? `: ${exited.reason}` : ''}`,
      fatal: false
    }
  }
  return {
    category: 'crash',
    reason: `task ${id} stopped: ${stopped || task.stopCode || 'no reason given'}`,
    fatal: false
  }
}

/** What a service event says about health checks, kept to enrich reasons. */
export interface HealthCheckEvent {
  targetGroup?: string
  codes?: string
  message: string
}

/** Reads the target group and status codes from an "is unhealthy" event. */
export function parseHealthCheckEvent(
  message: string
): HealthCheckEvent | undefined {
  if (!/unhealthy|health checks? failed/i.test(message)) return undefined
  const group = /\(target-group ([^)]+)\)/i.exec(message)
  const codes = /codes?:?\s*\[([^\]]*)\]/i.exec(message)
  return { targetGroup: group?.[1], codes: codes?.[1], message }
}

/** A placement failure event ("was unable to place a task"). */
export function classifyServiceEvent(
  message: string
): Classification | undefined {
  if (/was unable to place a task/i.test(message)) {
    return { category: 'placement', reason: message, fatal: false }
  }
  return undefined
}
