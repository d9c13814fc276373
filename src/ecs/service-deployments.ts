/** How a service's deployments and stopped tasks are matched to what a watch follows. */
import type { Deployment, Service, Task } from '@aws-sdk/client-ecs'
import type { WatchTarget } from './types.js'

/** `family:revision` of a task definition ARN, for logs and messages. */
export function shortTaskDefinition(arn: string | undefined): string {
  return (arn ?? '?').split('/').pop() ?? '?'
}

/** One deployment as a status line: status, revision and counts. */
export function deploymentLine(d: Deployment): string {
  const rollout = d.rolloutState ? ` ${d.rolloutState}` : ''
  return `${d.status} ${shortTaskDefinition(d.taskDefinition)} desired ${d.desiredCount ?? 0} running ${d.runningCount ?? 0} pending ${d.pendingCount ?? 0} failed ${d.failedTasks ?? 0}${rollout}`
}

/** Whether ECS's answer is the service asked for, by name or ARN. */
export function serviceMatches(service: Service, name: string): boolean {
  return service.serviceName === name || service.serviceArn === name
}

/** Same task definition, whether given as a full ARN or `family:revision`. */
export function sameTaskDefinition(a: string, b: string | undefined): boolean {
  if (!b) return false
  return a === b || shortTaskDefinition(a) === shortTaskDefinition(b)
}

/** The deployment a target follows, as the service shows it now. */
export function findDeployment(
  service: Service,
  target: Pick<WatchTarget, 'deploymentId' | 'taskDefinitionArn'>
): Deployment | undefined {
  const deployments = service.deployments ?? []
  if (target.deploymentId) {
    return deployments.find((d) => d.id === target.deploymentId)
  }
  if (target.taskDefinitionArn) {
    const arn = target.taskDefinitionArn
    const matching = deployments.filter((d) =>
      sameTaskDefinition(arn, d.taskDefinition)
    )
    return matching.find((d) => d.status === 'PRIMARY') ?? matching[0]
  }
  return deployments.find((d) => d.status === 'PRIMARY')
}

/** A stopped task belongs to our deployment when ECS says it started it. */
export function belongsTo(
  task: Task,
  deployment: Deployment | undefined
): boolean {
  if (!deployment) return false
  if (task.startedBy) return task.startedBy === deployment.id
  return sameTaskDefinition(
    deployment.taskDefinition ?? '',
    task.taskDefinitionArn
  )
}

/**
 * Counts alone say RUNNING, not healthy. ECS drains the old deployment only
 * as new tasks pass their health checks, and completes the rollout once all
 * do, so either one is the sign that the new tasks are healthy.
 */
export function allTasksRunning(
  service: Service,
  deployment: Deployment,
  unhealthyNow: boolean
): boolean {
  const others = (service.deployments ?? []).filter(
    (d) => d.id !== deployment.id
  )
  return (
    (deployment.runningCount ?? 0) >= (deployment.desiredCount ?? 0) &&
    !unhealthyNow &&
    (deployment.rolloutState === undefined ||
      deployment.rolloutState === 'COMPLETED' ||
      others.every((d) => (d.runningCount ?? 0) === 0))
  )
}
