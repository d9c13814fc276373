/** The one pre-flight look at the services a deploy or a wait will touch, so bad input fails before any write or wait. */
import type { Service } from '@aws-sdk/client-ecs'
import type { EcsReader } from './ecs-reader.js'
import { serviceMatches } from './service-deployments.js'

/** One service asked for: found ACTIVE, or why not. */
export type ServiceLookup =
  | { name: string; service: Service; problem?: undefined }
  | { name: string; service?: undefined; problem: string }

/**
 * Looks the services of one cluster up (one DescribeServices per 10).
 * `clusterMissing` when ECS does not know the cluster; otherwise one lookup
 * per name, in order.
 */
export async function lookUpServices(
  reader: EcsReader,
  cluster: string,
  names: readonly string[]
): Promise<
  { clusterMissing: true } | { clusterMissing: false; lookups: ServiceLookup[] }
> {
  let found: Service[]
  try {
    found = (await reader.describeServices(cluster, names)).services
  } catch (error) {
    if ((error as Error).name === 'ClusterNotFoundException') {
      return { clusterMissing: true }
    }
    throw error
  }
  const lookups = names.map((name): ServiceLookup => {
    const service = found.find((s) => serviceMatches(s, name))
    if (!service) {
      return {
        name,
        problem: `service "${name}" not found in cluster "${cluster}"`
      }
    }
    if (service.status !== 'ACTIVE') {
      return {
        name,
        problem: `service "${name}" in cluster "${cluster}" is ${service.status}, not ACTIVE`
      }
    }
    return { name, service }
  })
  return { clusterMissing: false, lookups }
}
