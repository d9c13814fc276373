/**
 * The one-off task that runs before a rollout (database migrations): started
 * with RunTask from the flavor's new task definition, followed with
 * DescribeTasks until STOPPED, judged by its container's exit code.
 */
import {
  DescribeTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type ECSClient,
  type NetworkConfiguration,
  type Tag,
  type Task
} from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { errorMessage } from '../common/errors.js'
import type { PreDeploySpec } from './flavor-manifest-pre-deploy.js'

/** What became of the pre-deploy task; the summary and outputs show it. */
export interface PreDeployOutcome {
  flavor: string
  status: 'succeeded' | 'failed' | 'skipped' | 'would-run'
  /** Why it was skipped, or what failed, in one line. */
  reason?: string
  taskDefinitionArn?: string
  taskArn?: string
  container: string
  command?: string[]
  exitCode?: number
  containerReason?: string
  stopCode?: string
  stoppedReason?: string
  logGroup?: string
  /** `prefix/container/task-id`, from the container's awslogs options. */
  logStream?: string
  durationSeconds?: number
}

/** One run of the task: where, what, and how long to wait. */
export interface PreDeployRun {
  spec: PreDeploySpec
  cluster: string
  taskDefinitionArn: string
  container: string
  containerDefinitions: ContainerDefinition[]
  /** The service's, when the manifest sets none. */
  networkConfiguration?: NetworkConfiguration
  launchType?: string
  tags: Tag[]
}

export interface PreDeployTaskDeps {
  ecs: ECSClient
  clock: Clock
  log: (line: string) => void
  pollIntervalSeconds: number
}

/** Who started the task, as ListTasks `startedBy` and the console show it. */
export const PRE_DEPLOY_STARTED_BY = 'release-train/pre-deploy'

/** The CloudWatch Logs group and stream of a task's container, when it logs with awslogs and a stream prefix. */
export function logStreamOf(
  definitions: ContainerDefinition[],
  container: string,
  taskArn: string
): { logGroup?: string; logStream?: string } {
  const config = definitions.find((c) => c.name === container)?.logConfiguration
  if (config?.logDriver !== 'awslogs') return {}
  const options = config.options ?? {}
  const prefix = options['awslogs-stream-prefix']
  const taskId = taskArn.split('/').pop() ?? taskArn
  return {
    ...(options['awslogs-group'] && { logGroup: options['awslogs-group'] }),
    ...(prefix && { logStream: `${prefix}/${container}/${taskId}` })
  }
}

/** Reads what a STOPPED task says about itself into the outcome. */
function judge(outcome: PreDeployOutcome, task: Task): void {
  const c = task.containers?.find((x) => x.name === outcome.container)
  outcome.stopCode = task.stopCode
  outcome.stoppedReason = task.stoppedReason
  outcome.exitCode = c?.exitCode
  outcome.containerReason = c?.reason
  if (c?.exitCode === 0) {
    outcome.status = 'succeeded'
    return
  }
  outcome.status = 'failed'
  const exit =
    c?.exitCode === undefined
      ? `container ${outcome.container} has no exit code`
      : `container ${outcome.container} exited with ${c.exitCode}`
  outcome.reason = [
    exit,
    c?.reason,
    task.stopCode && `${task.stopCode}: ${task.stoppedReason ?? ''}`.trim()
  ]
    .filter(Boolean)
    .join('; ')
}

/**
 * Starts the task and waits until it is STOPPED or `timeoutSeconds` pass
 * (then stops it). Never throws for an ECS error: the outcome says failed.
 */
export async function runPreDeployTask(
  run: PreDeployRun,
  deps: PreDeployTaskDeps
): Promise<PreDeployOutcome> {
  const { spec, container } = run
  const outcome: PreDeployOutcome = {
    flavor: spec.flavor,
    status: 'failed',
    taskDefinitionArn: run.taskDefinitionArn,
    container,
    ...(spec.command && { command: spec.command })
  }
  const started = deps.clock.now()
  const elapsed = (): number => Math.round((deps.clock.now() - started) / 1000)
  let task: Task | undefined
  try {
    const response = await deps.ecs.send(
      new RunTaskCommand({
        cluster: run.cluster,
        taskDefinition: run.taskDefinitionArn,
        count: 1,
        startedBy: PRE_DEPLOY_STARTED_BY,
        ...(run.launchType && {
          launchType: run.launchType as 'FARGATE' | 'EC2'
        }),
        ...(run.networkConfiguration && {
          networkConfiguration: run.networkConfiguration
        }),
        ...(spec.command && {
          overrides: {
            containerOverrides: [{ name: container, command: spec.command }]
          }
        }),
        tags: run.tags
      })
    )
    task = response.tasks?.[0]
    if (!task?.taskArn) {
      const failure = response.failures?.[0]
      outcome.reason = `RunTask started no task: ${failure ? `${failure.reason ?? ''} ${failure.detail ?? ''} (${failure.arn ?? ''})`.trim() : 'no failure given'}`
      return outcome
    }
  } catch (error) {
    outcome.reason = `RunTask failed: ${errorMessage(error)}`
    return outcome
  }
  const taskArn = task.taskArn as string
  outcome.taskArn = taskArn
  Object.assign(
    outcome,
    logStreamOf(run.containerDefinitions, container, taskArn)
  )
  deps.log(
    `pre-deploy: started ${taskArn} (${spec.command?.join(' ') ?? 'the container command'})`
  )
  const deadline = started + spec.timeoutSeconds * 1000
  let lastStatus = task.lastStatus
  for (;;) {
    if (task.lastStatus === 'STOPPED') {
      judge(outcome, task)
      break
    }
    if (deps.clock.now() >= deadline) {
      outcome.reason = `not STOPPED after ${spec.timeoutSeconds}s (last status ${task.lastStatus ?? 'unknown'}); stopped it`
      try {
        await deps.ecs.send(
          new StopTaskCommand({
            cluster: run.cluster,
            task: taskArn,
            reason: 'release-train: pre-deploy task timed out'
          })
        )
      } catch (error) {
        outcome.reason += ` (StopTask failed: ${errorMessage(error)})`
      }
      break
    }
    await deps.clock.sleep(deps.pollIntervalSeconds * 1000)
    try {
      const described = await deps.ecs.send(
        new DescribeTasksCommand({ cluster: run.cluster, tasks: [taskArn] })
      )
      task = described.tasks?.[0] ?? task
    } catch (error) {
      // One failed poll is not the task's failure; the deadline bounds it.
      deps.log(`pre-deploy: DescribeTasks failed: ${errorMessage(error)}`)
    }
    if (task.lastStatus !== lastStatus) {
      lastStatus = task.lastStatus
      deps.log(`pre-deploy: ${lastStatus ?? '?'} after ${elapsed()}s`)
    }
  }
  outcome.durationSeconds = elapsed()
  deps.log(
    `pre-deploy: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}${outcome.logStream ? `; log stream ${outcome.logStream}` : ''}`
  )
  return outcome
}
