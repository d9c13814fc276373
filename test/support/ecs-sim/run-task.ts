/**
 * One-off tasks (RunTask, StopTask) and the end of a task definition's life
 * (DeleteTaskDefinitions): what a deploy's migration task and its revision
 * clean-up call. A one-off task belongs to no service; it runs its command
 * and stops with the exit code that a run-task outcome rule scripts.
 */
import type {
  DeleteTaskDefinitionsRequest,
  RunTaskRequest,
  StopTaskRequest
} from '@aws-sdk/client-ecs'
import type { TaskPlan } from './behavior.js'
import { clientException, invalidParameter } from './errors.js'
import { taskDefinitionShape, taskShape } from './shapes.js'
import { launchTask, stopTask } from './tasks.js'
import type { Deployment, Service, Tag, World } from './world.js'

type Json = Record<string, unknown>

/** How a one-off task ends; set through `setRunTaskOutcome` or `POST /_sim/run-task-outcomes`. */
export interface RunTaskOutcome {
  /** Matches tasks of this family only (any family when unset). */
  family?: string
  /** Matches when the overridden command, joined by spaces, contains this. */
  command?: string
  /** Exit code of the essential container (default 0). */
  exitCode?: number
  /** Killed for memory instead: exit 137 and the OOM reason. */
  oom?: boolean
  /** Seconds after RUNNING (default 5). */
  afterSeconds?: number
}

const outcomes = new WeakMap<World, RunTaskOutcome[]>()

/** Adds a rule; the newest matching rule wins. */
export function addRunTaskOutcome(world: World, rule: RunTaskOutcome): void {
  if (rule.exitCode !== undefined && !Number.isInteger(rule.exitCode)) {
    throw new Error('run-task outcome: exitCode must be an integer')
  }
  outcomes.set(world, [...(outcomes.get(world) ?? []), { ...rule }])
}

function planFor(
  world: World,
  family: string,
  command: string[] | undefined,
  container: string,
  base: TaskPlan
): TaskPlan {
  const text = (command ?? []).join(' ')
  const rule = [...(outcomes.get(world) ?? [])]
    .reverse()
    .find(
      (r) =>
        (!r.family || r.family === family) &&
        (!r.command || text.includes(r.command))
    )
  // Without a rule the image's own behaviour decides when it has an exit;
  // otherwise a one-off command finishes cleanly after 5 s.
  // A one-off task has no load balancer or service health check to fail.
  if (!rule && base.exit) return { ...base, readyAfterMs: 0 }
  const afterMs = (rule?.afterSeconds ?? 5) * 1000
  return {
    placement: false,
    readyAfterMs: 0,
    exit: rule?.oom
      ? { afterMs, exitCode: 137, oom: true, container }
      : { afterMs, exitCode: rule?.exitCode ?? 0, oom: false, container }
  }
}

function checkTags(tags: Tag[] | undefined): Tag[] {
  const list = tags ?? []
  if (list.length > 50)
    throw invalidParameter('Tags can have at most 50 items.')
  return list.map((t) => ({ key: t.key, value: t.value ?? '' }))
}

export const runTaskOperations: Record<
  string,
  (world: World, input: unknown) => Json
> = {
  RunTask(world, raw) {
    const input = raw as RunTaskRequest
    const cluster = world.cluster(input.cluster)
    if (!input.taskDefinition) {
      throw invalidParameter('TaskDefinition can not be null or empty.')
    }
    const td = world.taskDefinition(input.taskDefinition)
    if (!td) throw clientException('TaskDefinition not found.')
    if (td.status !== 'ACTIVE') {
      throw clientException(
        `TaskDefinition is inactive (${td.family}:${td.revision}).`
      )
    }
    const count = input.count ?? 1
    if (!Number.isInteger(count) || count < 1 || count > 10) {
      throw invalidParameter('count must be between 1 and 10.')
    }
    if ((input.startedBy ?? '').length > 128) {
      throw invalidParameter('startedBy can be at most 128 characters.')
    }
    const overrides = input.overrides?.containerOverrides ?? []
    for (const o of overrides) {
      if (!td.containerDefinitions.some((c) => c.name === o.name)) {
        throw invalidParameter(
          `Override for container named ${o.name} is not a container in the TaskDefinition.`
        )
      }
    }
    const awsvpc = td.body.networkMode === 'awsvpc'
    const subnets =
      input.networkConfiguration?.awsvpcConfiguration?.subnets ?? []
    if (awsvpc && subnets.length === 0) {
      throw invalidParameter(
        "Network Configuration must be provided when networkMode 'awsvpc' is specified."
      )
    }
    const tags = checkTags(input.tags)
    const owner = {
      clusterName: cluster.name,
      name: '',
      launchType: input.launchType ?? 'FARGATE',
      tags: [],
      propagateTags: undefined
    } as unknown as Service
    const tasks: Json[] = []
    for (let i = 0; i < count; i++) {
      const task = launchTask(world, owner, { id: '' } as Deployment, td)
      const essential =
        td.containerDefinitions.find((c) => c.essential !== false)?.name ?? ''
      const command = overrides.find((o) => o.name === essential)?.command
      task.plan = planFor(world, td.family, command, essential, task.plan)
      task.startedBy = input.startedBy
      task.group = input.group ?? `family:${td.family}`
      task.overrides = {
        containerOverrides: overrides,
        inferenceAcceleratorOverrides: []
      }
      task.tags = tags
      tasks.push(taskShape(world, task, false))
    }
    return { tasks, failures: [] }
  },

  StopTask(world, raw) {
    const input = raw as StopTaskRequest
    const cluster = world.cluster(input.cluster)
    if (!input.task) throw invalidParameter('Task can not be null or empty.')
    const id = input.task.split('/').pop() ?? ''
    const task = world.tasks.get(world.arn(`task/${cluster.name}/${id}`))
    if (!task) throw invalidParameter('The referenced task was not found.')
    stopTask(world, task, {
      stopCode: 'UserInitiated',
      stoppedReason: input.reason ?? 'Task stopped by user',
      graceful: true
    })
    return { task: taskShape(world, task, false) }
  },

  DeleteTaskDefinitions(world, raw) {
    const input = raw as DeleteTaskDefinitionsRequest
    const refs = input.taskDefinitions ?? []
    if (refs.length === 0) {
      throw invalidParameter('taskDefinitions can not be null or empty.')
    }
    if (refs.length > 10) {
      throw invalidParameter('taskDefinitions can have at most 10 items.')
    }
    const taskDefinitions: Json[] = []
    const failures: Json[] = []
    for (const ref of refs) {
      const td = /:\d+$/.test(ref) ? world.taskDefinition(ref) : undefined
      const arn = ref.startsWith('arn:')
        ? ref
        : world.arn(`task-definition/${ref}`)
      if (!td) {
        failures.push({
          arn,
          reason: 'TASK_DEFINITION_NOT_FOUND',
          detail: 'The specified task definition does not exist.'
        })
      } else if (td.status === 'ACTIVE') {
        failures.push({
          arn: td.arn,
          reason: 'TASK_DEFINITION_IN_USE',
          detail:
            'The specified task definition is still in ACTIVE status. Please deregister the target and try again.'
        })
      } else {
        td.status = 'DELETE_IN_PROGRESS'
        taskDefinitions.push(taskDefinitionShape(td))
      }
    }
    return { taskDefinitions, failures }
  }
}
