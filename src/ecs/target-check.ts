/** wait-healthy's input check: every cluster, service and deployment it would follow exists, before any waiting. */
import type { ECSClient } from '@aws-sdk/client-ecs'
import { EcsReader } from './ecs-reader.js'
import { findDeployment } from './service-deployments.js'
import { lookUpServices } from './service-preflight.js'
import type { WatchTarget } from './types.js'

/** A problem found before watching: the action turns it into an input error. */
export interface TargetProblem {
  target: WatchTarget
  field: 'cluster' | 'service' | 'deploymentId' | 'taskDefinitionArn'
  message: string
}

/**
 * Checks the targets with one DescribeServices per 10 services, so bad input
 * fails before any waiting.
 */
export async function checkTargets(
  targets: WatchTarget[],
  ecs: ECSClient
): Promise<TargetProblem[]> {
  const reader = new EcsReader(ecs)
  const problems: TargetProblem[] = []
  for (const cluster of new Set(targets.map((t) => t.cluster))) {
    const list = targets.filter((t) => t.cluster === cluster)
    const found = await lookUpServices(
      reader,
      cluster,
      list.map((t) => t.service)
    )
    if (found.clusterMissing) {
      for (const target of list) {
        problems.push({
          target,
          field: 'cluster',
          message: `cluster "${cluster}" not found`
        })
      }
      continue
    }
    list.forEach((target, i) => {
      const { service, problem } = found.lookups[i]
      if (!service) {
        problems.push({ target, field: 'service', message: problem })
      } else if (target.deploymentId && !findDeployment(service, target)) {
        problems.push({
          target,
          field: 'deploymentId',
          message: `deployment "${target.deploymentId}" is not on service "${target.service}" (it has ${(service.deployments ?? []).map((d) => d.id).join(', ') || 'none'})`
        })
      } else if (target.taskDefinitionArn && !findDeployment(service, target)) {
        problems.push({
          target,
          field: 'taskDefinitionArn',
          message: `no deployment of task definition "${target.taskDefinitionArn}" on service "${target.service}"`
        })
      }
    })
  }
  return problems
}
