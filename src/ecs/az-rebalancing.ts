/**
 * Availability Zone rebalancing: ECS stops healthy tasks to even out a
 * service across zones. Those stops are ECS's housekeeping, not failures of
 * the deployment, so they must not spend its failure budget.
 */
import type { Task } from '@aws-sdk/client-ecs'

/** ECS names the tasks in its TASKS_STOPPED event: "… to AZ Rebalance: id, id." */
const REBALANCE_EVENT = /to AZ Rebalance:\s*(.+?)\.?$/i

/** Task ids a service event says were stopped (or started) to rebalance. */
export function rebalancedTaskIds(message: string): string[] {
  const match = REBALANCE_EVENT.exec(message)
  if (!match) return []
  return match[1]
    .split(/[\s,()]+/)
    .map((id) => id.replace(/^task\s*/i, '').trim())
    .filter((id) => /^[0-9a-f]{32}$/i.test(id))
}

/** A stop ECS made to rebalance zones: named in its event, or saying so. */
export function isRebalancingStop(
  task: Task,
  rebalanced: ReadonlySet<string>
): boolean {
  const id = (task.taskArn ?? '').split('/').pop() ?? ''
  return (
    task.stopCode === 'ServiceSchedulerInitiated' &&
    (rebalanced.has(id) || /AZ Rebalanc/i.test(task.stoppedReason ?? ''))
  )
}
