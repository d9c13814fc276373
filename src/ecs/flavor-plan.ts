/** The read-only half of a deploy: every service and task definition read, every new one rendered and checked, before any write. */
import {
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type Service,
  type Tag,
  type TaskDefinition
} from '@aws-sdk/client-ecs'
import { forFlavors } from '../common/aws-calls.js'
import { ConfigurationError } from '../common/errors.js'
import { EcsReader } from './ecs-reader.js'
import type { DeployFlavor } from './flavor-manifest.js'
import { lookUpServices } from './service-preflight.js'
import {
  diffTaskDefinitions,
  type FieldChange
} from './task-definition-diff.js'
import {
  registrableTaskDefinition,
  renderTaskDefinition,
  type TaskDefinitionInput
} from './task-definition-render.js'

/** Everything known about one flavor before any write. */
export interface FlavorPlan {
  flavor: DeployFlavor
  service: Service
  current: TaskDefinition
  currentTags: Tag[]
  rendered: TaskDefinitionInput
  changes: FieldChange[]
  /** The new revision once this run registered it. */
  registered?: { taskDefinitionArn?: string; revision?: number }
}

/** Items grouped by a key, in first-seen order. */
export function groupBy<T>(
  items: T[],
  key: (item: T) => string
): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    groups.set(k, [...(groups.get(k) ?? []), item])
  }
  return groups
}

/**
 * Reads every service and task definition and renders the new ones. All
 * checks (missing or inactive service, container not in the task
 * definition, unsupported controller) happen here, before any write, and
 * are reported together.
 */
export async function planDeployments(
  flavors: DeployFlavor[],
  image: string,
  deps: { ecsFor: (region: string) => ECSClient }
): Promise<FlavorPlan[]> {
  const problems: string[] = []
  const services = new Map<DeployFlavor, Service>()
  const byCluster = groupBy(flavors, (f) => `${f.region}\u0000${f.cluster}`)
  for (const group of byCluster.values()) {
    const { region, cluster } = group[0]
    const found = await forFlavors(
      group.map((f) => f.name),
      lookUpServices(
        new EcsReader(deps.ecsFor(region)),
        cluster,
        group.map((f) => f.service)
      )
    )
    if (found.clusterMissing) {
      problems.push(
        `Cluster "${cluster}" not found in ${region || 'the default region'} (flavors ${group.map((f) => f.name).join(', ')})`
      )
      continue
    }
    group.forEach((f, i) => {
      const { service, problem } = found.lookups[i]
      const controller = service?.deploymentController?.type
      if (!service) problems.push(`Flavor "${f.name}": ${problem}`)
      else if (controller && controller !== 'ECS') {
        problems.push(
          `Flavor "${f.name}": service "${f.service}" uses the ${controller} deployment controller; only ECS rolling deployments are supported`
        )
      } else if (!service.taskDefinition) {
        problems.push(
          `Flavor "${f.name}": service "${f.service}" has no task definition`
        )
      } else services.set(f, service)
    })
  }

  const plans: FlavorPlan[] = []
  for (const f of flavors) {
    const service = services.get(f)
    if (!service) continue
    const described = await forFlavors(
      [f.name],
      deps.ecsFor(f.region).send(
        new DescribeTaskDefinitionCommand({
          taskDefinition: service.taskDefinition,
          include: ['TAGS']
        })
      )
    )
    const current = described.taskDefinition
    if (!current) {
      problems.push(
        `Flavor "${f.name}": task definition ${service.taskDefinition} could not be described`
      )
      continue
    }
    try {
      const rendered = renderTaskDefinition(current, {
        containers: f.containers,
        image,
        cpu: f.cpu,
        memory: f.memory,
        containerMemory: f.containerMemory,
        environmentVariables: f.environmentVariables,
        command: f.command
      })
      plans.push({
        flavor: f,
        service,
        current,
        currentTags: described.tags ?? [],
        rendered,
        changes: diffTaskDefinitions(
          registrableTaskDefinition(current),
          rendered
        )
      })
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error
      problems.push(`Flavor "${f.name}": ${error.message}`)
    }
  }
  if (problems.length > 0) {
    throw new ConfigurationError(
      `Nothing was deployed; fix these first:\n${problems.map((p) => `- ${p}`).join('\n')}`
    )
  }
  return plans
}
