/**
 * Availability Zone rebalancing: ECS stops healthy tasks of a service to
 * even out its spread and starts replacements. The simulator does it on
 * request (control API), since it has no real zones to balance.
 */
import { isReady, stopTask } from './tasks.js'
import { shortId, type Service, type World } from './world.js'

/**
 * Stops `count` healthy tasks of the service's PRIMARY deployment the way
 * AZ rebalancing does; the scheduler then starts their replacements.
 * Returns the stopped task ARNs (none when rebalancing is DISABLED).
 */
export function rebalance(world: World, service: Service, count = 1): string[] {
  if (service.availabilityZoneRebalancing !== 'ENABLED') return []
  const primary = service.deployments[0]
  const victims = world
    .unstoppedTasksOf(service)
    .filter((t) => t.deploymentId === primary?.id && isReady(t))
    .slice(0, count)
  if (victims.length === 0) return []
  const zone = `${world.region}a`
  const total = world.unstoppedTasksOf(service).length
  world.addEvent(
    service,
    `service (${service.name}) is not AZ balanced with ${total} tasks in ${zone}, 0 tasks in ${world.region}b, and 0 tasks in ${world.region}c. AZ Rebalancing in progress.`
  )
  for (const task of victims) {
    stopTask(world, task, {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'AZ Rebalancing',
      graceful: true
    })
  }
  world.addEvent(
    service,
    `${service.name} has stopped ${victims.length} tasks in Availability Zone ${zone} to AZ Rebalance: ${victims.map((t) => shortId(t.arn)).join(', ')}.`
  )
  return victims.map((t) => t.arn)
}
