import type {
  CreateClusterRequest,
  CreateServiceRequest,
  DeleteServiceRequest,
  DeregisterTaskDefinitionRequest,
  DescribeClustersRequest,
  DescribeServicesRequest,
  DescribeTaskDefinitionRequest,
  DescribeTasksRequest,
  ListServicesRequest,
  ListTagsForResourceRequest,
  ListTaskDefinitionsRequest,
  ListTasksRequest,
  RegisterTaskDefinitionRequest,
  TagResourceRequest,
  ThresholdConfiguration,
  UntagResourceRequest,
  UpdateServiceRequest
} from '@aws-sdk/client-ecs'
import { parseBehavior, behaviorFor } from './behavior.js'
import {
  EcsApiError,
  clientException,
  invalidParameter,
  serviceNotActive,
  serviceNotFound
} from './errors.js'
import {
  clusterShape,
  serviceShape,
  taskDefinitionShape,
  taskShape
} from './shapes.js'
import { startServiceDeployment } from './service-deployments.js'
import { checkStrategy } from './strategies.js'
import { runTaskOperations } from './run-task.js'
import { isLive, launchTask, settleTask } from './tasks.js'
import type { Service, Tag, World } from './world.js'

type Json = Record<string, unknown>
/** One ECS operation: the request body in, the response body out. */
export type Operation = (world: World, input: unknown) => Json

const NAME = /^[A-Za-z0-9_-]{1,255}$/

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') {
    throw invalidParameter(`${field} can not be null or empty.`)
  }
  return value
}

function checkTags(tags: Tag[] | undefined): Tag[] {
  const list = tags ?? []
  if (list.length > 50)
    throw invalidParameter('Tags can have at most 50 items.')
  for (const t of list) {
    if (!t.key) throw invalidParameter('Tag keys can not be null or empty.')
  }
  return list.map((t) => ({ key: t.key, value: t.value ?? '' }))
}

function paginate(
  items: string[],
  input: { maxResults?: number; nextToken?: string }
): Json {
  const max = input.maxResults ?? 100
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    throw invalidParameter('maxResults must be between 1 and 100.')
  }
  const start = input.nextToken
    ? Number(Buffer.from(input.nextToken, 'base64').toString())
    : 0
  if (!Number.isInteger(start) || start < 0)
    throw invalidParameter('Invalid nextToken.')
  const page = items.slice(start, start + max)
  const next =
    start + max < items.length
      ? Buffer.from(String(start + max)).toString('base64')
      : undefined
  return { page, nextToken: next }
}

function activeService(
  world: World,
  clusterRef: string | undefined,
  ref: unknown
): Service {
  const cluster = world.cluster(clusterRef)
  const service = world.service(cluster, requireString(ref, 'service'))
  if (!service) throw serviceNotFound()
  if (service.status !== 'ACTIVE') throw serviceNotActive()
  return service
}

function deploymentConfiguration(
  input: CreateServiceRequest['deploymentConfiguration'],
  base?: Service['deploymentConfiguration']
): Service['deploymentConfiguration'] {
  const merged = {
    ...base,
    ...input,
    maximumPercent: input?.maximumPercent ?? base?.maximumPercent ?? 200,
    minimumHealthyPercent:
      input?.minimumHealthyPercent ?? base?.minimumHealthyPercent ?? 100,
    deploymentCircuitBreaker: {
      enable:
        input?.deploymentCircuitBreaker?.enable ??
        base?.deploymentCircuitBreaker.enable ??
        false,
      rollback:
        input?.deploymentCircuitBreaker?.rollback ??
        base?.deploymentCircuitBreaker.rollback ??
        false,
      ...thresholdOf(input, base)
    }
  }
  checkStrategy(merged)
  if (merged.maximumPercent < 100 || merged.maximumPercent > 200) {
    throw invalidParameter('maximumPercent must be between 100 and 200.')
  }
  if (merged.minimumHealthyPercent < 0 || merged.minimumHealthyPercent > 100) {
    throw invalidParameter('minimumHealthyPercent must be between 0 and 100.')
  }
  if (merged.maximumPercent === 100 && merged.minimumHealthyPercent === 100) {
    throw invalidParameter(
      'The deployment configuration must allow either more than 100 maximumPercent or less than 100 minimumHealthyPercent.'
    )
  }
  return merged
}

function thresholdOf(
  input: CreateServiceRequest['deploymentConfiguration'],
  base?: Service['deploymentConfiguration']
): { thresholdConfiguration?: ThresholdConfiguration } {
  const value =
    input?.deploymentCircuitBreaker?.thresholdConfiguration ??
    base?.deploymentCircuitBreaker.thresholdConfiguration
  return value === undefined ? {} : { thresholdConfiguration: value }
}

function checkDesired(count: unknown): number {
  if (count === undefined) return 0
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw invalidParameter('desiredCount must be an integer >= 0.')
  }
  return count
}

/** Every behaviour in a task definition must parse before it is accepted. */
function checkBehaviors(
  world: World,
  input: RegisterTaskDefinitionRequest
): void {
  for (const c of input.containerDefinitions ?? []) {
    try {
      parseBehavior(behaviorFor(c, world.behaviorRules))
    } catch (e) {
      throw clientException(`Container ${c.name}: ${(e as Error).message}`)
    }
  }
}

export const operations: Record<string, Operation> = {
  CreateCluster(world, raw) {
    const input = raw as CreateClusterRequest
    const name = input.clusterName ?? 'default'
    if (!NAME.test(name)) {
      throw invalidParameter(
        'Cluster name can only contain letters, numbers, hyphens and underscores.'
      )
    }
    let cluster = world.clusters.get(name)
    if (!cluster || cluster.status !== 'ACTIVE') {
      cluster = {
        name,
        arn: world.arn(`cluster/${name}`),
        status: 'ACTIVE',
        tags: checkTags(input.tags)
      }
      world.clusters.set(name, cluster)
    }
    return { cluster: clusterShape(world, cluster, true) }
  },

  DescribeClusters(world, raw) {
    const input = raw as DescribeClustersRequest
    const refs = input.clusters?.length ? input.clusters : ['default']
    if (refs.length > 100)
      throw invalidParameter('clusters can have at most 100 items.')
    const withTags = input.include?.includes('TAGS') ?? false
    const clusters: Json[] = []
    const failures: Json[] = []
    for (const ref of refs) {
      const cluster = world.clusters.get(ref.split('/').pop() ?? '')
      if (cluster) clusters.push(clusterShape(world, cluster, withTags))
      else
        failures.push({
          arn: ref.startsWith('arn:') ? ref : world.arn(`cluster/${ref}`),
          reason: 'MISSING'
        })
    }
    return { clusters, failures }
  },

  ListClusters(world, raw) {
    const { page, nextToken } = paginate(
      [...world.clusters.values()]
        .filter((c) => c.status === 'ACTIVE')
        .map((c) => c.arn),
      raw as { maxResults?: number; nextToken?: string }
    ) as { page: string[]; nextToken?: string }
    return { clusterArns: page, nextToken }
  },

  RegisterTaskDefinition(world, raw) {
    const input = raw as RegisterTaskDefinitionRequest
    const family = requireString(input.family, 'Family')
    if (!NAME.test(family)) {
      throw clientException(
        'Family contains invalid characters; up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.'
      )
    }
    const containers = input.containerDefinitions ?? []
    if (containers.length === 0) {
      throw clientException('Container list cannot be empty.')
    }
    for (const c of containers) {
      if (!c.name)
        throw clientException('Container.name should not be null or empty.')
      if (!c.image)
        throw clientException('Container.image should not be null or empty.')
    }
    const names = new Set(containers.map((c) => c.name))
    if (names.size !== containers.length) {
      throw clientException(
        'Container names must be unique within a task definition.'
      )
    }
    if (
      input.requiresCompatibilities?.includes('FARGATE') &&
      (!input.cpu || !input.memory)
    ) {
      throw clientException(
        'Fargate requires task definition to have cpu and memory values.'
      )
    }
    checkBehaviors(world, input)
    const tags = checkTags(input.tags)
    const revisions = world.taskDefinitions.get(family) ?? []
    world.taskDefinitions.set(family, revisions)
    const revision = revisions.length + 1
    const body: Record<string, unknown> = { ...input }
    delete body.tags
    const td = {
      arn: world.arn(`task-definition/${family}:${revision}`),
      family,
      revision,
      status: 'ACTIVE' as const,
      registeredAt: world.time,
      containerDefinitions: containers,
      body,
      tags
    }
    revisions.push(td)
    return { taskDefinition: taskDefinitionShape(td), tags: td.tags }
  },

  DescribeTaskDefinition(world, raw) {
    const input = raw as DescribeTaskDefinitionRequest
    const td = world.taskDefinition(
      requireString(input.taskDefinition, 'taskDefinition')
    )
    if (!td) throw clientException('Unable to describe task definition.')
    const body: Json = { taskDefinition: taskDefinitionShape(td) }
    if (input.include?.includes('TAGS')) body.tags = td.tags
    return body
  },

  ListTaskDefinitions(world, raw) {
    const input = raw as ListTaskDefinitionsRequest
    const status = input.status ?? 'ACTIVE'
    if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(status)) {
      throw invalidParameter(`status ${status} is not valid.`)
    }
    if (input.sort && !['ASC', 'DESC'].includes(input.sort)) {
      throw invalidParameter(`sort ${input.sort} is not valid.`)
    }
    // familyPrefix is "the full family name" in the API reference: no prefix match.
    const all = [...world.taskDefinitions.values()]
      .flat()
      .filter((td) => td.status === status)
      .filter((td) => !input.familyPrefix || td.family === input.familyPrefix)
      .sort((a, b) =>
        a.family === b.family
          ? a.revision - b.revision
          : a.family < b.family
            ? -1
            : 1
      )
    if (input.sort === 'DESC') all.reverse()
    const { page, nextToken } = paginate(
      all.map((td) => td.arn),
      input
    ) as {
      page: string[]
      nextToken?: string
    }
    return { taskDefinitionArns: page, nextToken }
  },

  DeregisterTaskDefinition(world, raw) {
    const input = raw as DeregisterTaskDefinitionRequest
    const ref = requireString(input.taskDefinition, 'taskDefinition')
    const short = ref.startsWith('arn:')
      ? (ref.split(':task-definition/')[1] ?? '')
      : ref
    if (!/:\d+$/.test(short)) {
      throw clientException('Task definition revision must be specified.')
    }
    const td = world.taskDefinition(ref)
    if (!td)
      throw clientException('The specified task definition does not exist.')
    if (td.status === 'ACTIVE') {
      td.status = 'INACTIVE'
      td.deregisteredAt = world.time
    }
    return { taskDefinition: taskDefinitionShape(td) }
  },

  CreateService(world, raw) {
    const input = raw as CreateServiceRequest & { simSteady?: boolean }
    const cluster = world.cluster(input.cluster)
    const name = requireString(input.serviceName, 'serviceName')
    if (!NAME.test(name)) {
      throw invalidParameter(
        'Service name can only contain letters, numbers, hyphens and underscores.'
      )
    }
    const existing = world.service(cluster, name)
    if (existing && existing.status !== 'INACTIVE') {
      throw invalidParameter('Creation of service was not idempotent.')
    }
    const td = world.taskDefinition(
      requireString(input.taskDefinition, 'taskDefinition')
    )
    if (!td || td.status !== 'ACTIVE')
      throw invalidParameter('TaskDefinition not found.')
    const grace = input.healthCheckGracePeriodSeconds ?? 0
    if (!Number.isInteger(grace) || grace < 0 || grace > 2147483647) {
      throw invalidParameter(
        'healthCheckGracePeriodSeconds must be between 0 and 2147483647.'
      )
    }
    for (const lb of input.loadBalancers ?? []) {
      if (!lb.targetGroupArn && !lb.loadBalancerName) {
        throw invalidParameter('loadBalancers need a targetGroupArn.')
      }
      if (!td.containerDefinitions.some((c) => c.name === lb.containerName)) {
        throw invalidParameter(
          `The container ${lb.containerName} does not exist in the task definition.`
        )
      }
    }
    const service: Service = {
      name,
      arn: world.serviceArn(cluster.name, name),
      clusterName: cluster.name,
      status: 'ACTIVE',
      desiredCount: checkDesired(input.desiredCount),
      taskDefinitionArn: td.arn,
      launchType: input.launchType ?? 'FARGATE',
      loadBalancers: input.loadBalancers ?? [],
      healthCheckGracePeriodSeconds: grace,
      deploymentConfiguration: deploymentConfiguration(
        input.deploymentConfiguration
      ),
      networkConfiguration: input.networkConfiguration,
      propagateTags: input.propagateTags,
      enableECSManagedTags: input.enableECSManagedTags ?? false,
      tags: checkTags(input.tags),
      createdAt: world.time,
      deployments: [],
      events: [],
      steady: false,
      availabilityZoneRebalancing:
        input.availabilityZoneRebalancing ?? 'ENABLED'
    }
    world.services.set(`${cluster.name}/${name}`, service)
    const deployment = world.newDeployment(service, td.arn)
    const record = startServiceDeployment(world, service, deployment)
    if (input.simSteady) {
      // A world seeded at steady state: tasks already up, deployment done.
      for (let i = 0; i < service.desiredCount; i++) {
        settleTask(launchTask(world, service, deployment, td), world.time)
      }
      deployment.rolloutState = 'COMPLETED'
      deployment.rolloutStateReason = `ECS deployment ${deployment.id} completed.`
      service.lastCompleted = { id: deployment.id, taskDefinitionArn: td.arn }
      service.steady = true
      record.status = 'SUCCESSFUL'
      record.startedAt = record.finishedAt = world.time
      if (record.alarmStatus === 'MONITORING')
        record.alarmStatus = 'MONITORING_COMPLETE'
      if (record.breakerStatus === 'MONITORING')
        record.breakerStatus = 'MONITORING_COMPLETE'
      record.trafficPercent = 100
      world.addEvent(service, `(service ${name}) has reached a steady state.`)
    }
    return { service: serviceShape(world, service, true) }
  },

  UpdateService(world, raw) {
    const input = raw as UpdateServiceRequest
    const service = activeService(world, input.cluster, input.service)
    let td = world.taskDefinition(service.taskDefinitionArn)
    if (input.taskDefinition !== undefined) {
      td = world.taskDefinition(
        requireString(input.taskDefinition, 'taskDefinition')
      )
      if (!td || td.status !== 'ACTIVE')
        throw invalidParameter('TaskDefinition not found.')
    }
    const desired =
      input.desiredCount === undefined
        ? service.desiredCount
        : checkDesired(input.desiredCount)
    const config = input.deploymentConfiguration
      ? deploymentConfiguration(
          input.deploymentConfiguration,
          service.deploymentConfiguration
        )
      : service.deploymentConfiguration
    if (input.healthCheckGracePeriodSeconds !== undefined) {
      const grace = input.healthCheckGracePeriodSeconds
      if (!Number.isInteger(grace) || grace < 0 || grace > 2147483647) {
        throw invalidParameter(
          'healthCheckGracePeriodSeconds must be between 0 and 2147483647.'
        )
      }
      service.healthCheckGracePeriodSeconds = grace
    }
    service.deploymentConfiguration = config
    if (input.desiredCount !== undefined && desired !== service.desiredCount) {
      service.desiredCount = desired
      service.steady = false
    }
    if (input.loadBalancers) service.loadBalancers = input.loadBalancers
    if (input.networkConfiguration)
      service.networkConfiguration = input.networkConfiguration
    const changedTd =
      td !== undefined && td.arn !== service.deployments[0]?.taskDefinitionArn
    if (input.availabilityZoneRebalancing)
      service.availabilityZoneRebalancing = input.availabilityZoneRebalancing
    if (td && (changedTd || input.forceNewDeployment)) {
      startServiceDeployment(
        world,
        service,
        world.newDeployment(service, td.arn)
      )
    }
    return { service: serviceShape(world, service, false) }
  },

  DeleteService(world, raw) {
    const input = raw as DeleteServiceRequest
    const service = activeService(world, input.cluster, input.service)
    if (service.desiredCount > 0 && !input.force) {
      throw invalidParameter(
        'The service cannot be stopped while it is scaled above 0.'
      )
    }
    service.desiredCount = 0
    service.status = 'DRAINING'
    return { service: serviceShape(world, service, false) }
  },

  DescribeServices(world, raw) {
    const input = raw as DescribeServicesRequest
    const refs = input.services ?? []
    if (refs.length === 0) throw invalidParameter('Services cannot be empty.')
    if (refs.length > 10) {
      throw invalidParameter('services can have at most 10 items.')
    }
    const cluster = world.cluster(input.cluster)
    const withTags = input.include?.includes('TAGS') ?? false
    const services: Json[] = []
    const failures: Json[] = []
    for (const ref of refs) {
      const service = world.service(cluster, ref)
      if (service) services.push(serviceShape(world, service, withTags))
      else {
        failures.push({
          arn: ref.startsWith('arn:')
            ? ref
            : world.serviceArn(cluster.name, ref),
          reason: 'MISSING'
        })
      }
    }
    return { services, failures }
  },

  ListServices(world, raw) {
    const input = raw as ListServicesRequest
    const cluster = world.cluster(input.cluster)
    const arns = [...world.services.values()]
      .filter((s) => s.clusterName === cluster.name && s.status !== 'INACTIVE')
      .map((s) => s.arn)
    const { page, nextToken } = paginate(arns, input) as {
      page: string[]
      nextToken?: string
    }
    return { serviceArns: page, nextToken }
  },

  ListTasks(world, raw) {
    const input = raw as ListTasksRequest
    const cluster = world.cluster(input.cluster)
    if (input.serviceName && !world.service(cluster, input.serviceName)) {
      throw serviceNotFound()
    }
    const serviceName = input.serviceName?.split('/').pop()
    const desired = input.desiredStatus ?? 'RUNNING'
    if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desired)) {
      throw invalidParameter(`desiredStatus ${desired} is not valid.`)
    }
    const family = input.family
    const arns = [...world.tasks.values()]
      .filter((t) => t.clusterName === cluster.name)
      .filter((t) => !serviceName || t.serviceName === serviceName)
      .filter(
        (t) =>
          !input.startedBy ||
          (t.startedBy ?? t.deploymentId) === input.startedBy
      )
      .filter(
        (t) =>
          !family ||
          world.taskDefinition(t.taskDefinitionArn)?.family === family
      )
      .filter((t) =>
        desired === 'STOPPED'
          ? t.desiredStatus === 'STOPPED'
          : desired === 'PENDING'
            ? t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING'
            : isLive(t)
      )
      .map((t) => t.arn)
    const { page, nextToken } = paginate(arns, input) as {
      page: string[]
      nextToken?: string
    }
    return { taskArns: page, nextToken }
  },

  DescribeTasks(world, raw) {
    const input = raw as DescribeTasksRequest
    const refs = input.tasks ?? []
    if (refs.length === 0) throw invalidParameter('Tasks cannot be empty.')
    if (refs.length > 100)
      throw invalidParameter('tasks can have at most 100 items.')
    const cluster = world.cluster(input.cluster)
    const withTags = input.include?.includes('TAGS') ?? false
    const tasks: Json[] = []
    const failures: Json[] = []
    for (const ref of refs) {
      const id = ref.split('/').pop() ?? ''
      const task = world.tasks.get(world.arn(`task/${cluster.name}/${id}`))
      if (task) tasks.push(taskShape(world, task, withTags))
      else {
        failures.push({
          arn: ref.startsWith('arn:')
            ? ref
            : world.arn(`task/${cluster.name}/${id}`),
          reason: 'MISSING'
        })
      }
    }
    return { tasks, failures }
  },

  TagResource(world, raw) {
    const input = raw as TagResourceRequest
    const holder = taggable(world, input.resourceArn)
    const tags = checkTags(input.tags)
    for (const tag of tags) {
      const at = holder.tags.findIndex((t) => t.key === tag.key)
      if (at >= 0) holder.tags[at] = tag
      else holder.tags.push(tag)
    }
    return {}
  },

  UntagResource(world, raw) {
    const input = raw as UntagResourceRequest
    const holder = taggable(world, input.resourceArn)
    const drop = new Set(input.tagKeys ?? [])
    holder.tags.splice(
      0,
      holder.tags.length,
      ...holder.tags.filter((t) => !drop.has(t.key ?? ''))
    )
    return {}
  },

  ListTagsForResource(world, raw) {
    const input = raw as ListTagsForResourceRequest
    return { tags: taggable(world, input.resourceArn).tags }
  },

  ...runTaskOperations
}

/** The resource behind an ARN that carries tags. */
function taggable(world: World, arn: string | undefined): { tags: Tag[] } {
  const ref = requireString(arn, 'resourceArn')
  const m =
    /^arn:aws:ecs:[^:]+:\d+:(cluster|service|task-definition|task)\/(.+)$/.exec(
      ref
    )
  if (!m) throw invalidParameter('The ARN provided is invalid.')
  const [, kind, rest] = m
  let found: { tags: Tag[] } | undefined
  if (kind === 'cluster') found = world.clusters.get(rest)
  if (kind === 'service') {
    const parts = rest.split('/')
    found = world.services.get(
      parts.length === 2 ? `${parts[0]}/${parts[1]}` : `default/${parts[0]}`
    )
  }
  if (kind === 'task-definition') found = world.taskDefinition(ref)
  if (kind === 'task') found = world.tasks.get(ref)
  if (!found) {
    throw new EcsApiError(
      'ResourceNotFoundException',
      'The specified resource is not found.'
    )
  }
  return found
}
