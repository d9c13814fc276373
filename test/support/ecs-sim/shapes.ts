import type {
  Cluster,
  Deployment,
  Service,
  Task,
  TaskDefinitionRecord,
  World
} from './world.js'

/** awsJson1.1 sends timestamps as epoch seconds. */
export function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000
}

type Json = Record<string, unknown>

function countTasks(
  world: World,
  service: Service,
  deploymentId?: string
): {
  running: number
  pending: number
} {
  let running = 0
  let pending = 0
  for (const t of world.tasksOf(service)) {
    if (deploymentId && t.deploymentId !== deploymentId) continue
    if (t.desiredStatus !== 'RUNNING') continue
    if (t.lastStatus === 'RUNNING') running++
    else if (t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING')
      pending++
  }
  return { running, pending }
}

export function clusterShape(
  world: World,
  cluster: Cluster,
  withTags: boolean
): Json {
  const tasks = [...world.live].filter(
    (t) => t.clusterName === cluster.name && t.desiredStatus === 'RUNNING'
  )
  return {
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    status: cluster.status,
    registeredContainerInstancesCount: 0,
    runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
    activeServicesCount: [...world.services.values()].filter(
      (s) => s.clusterName === cluster.name && s.status === 'ACTIVE'
    ).length,
    statistics: [],
    settings: [{ name: 'containerInsights', value: 'disabled' }],
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: [],
    tags: withTags ? cluster.tags : undefined
  }
}

function deploymentShape(world: World, service: Service, d: Deployment): Json {
  const counts = countTasks(world, service, d.id)
  return {
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinitionArn,
    desiredCount: d.desiredCount,
    pendingCount: counts.pending,
    runningCount: counts.running,
    failedTasks: d.failedTasks,
    createdAt: seconds(d.createdAt),
    updatedAt: seconds(d.updatedAt),
    launchType: service.launchType,
    platformVersion: service.launchType === 'FARGATE' ? '1.4.0' : undefined,
    platformFamily: service.launchType === 'FARGATE' ? 'Linux' : undefined,
    networkConfiguration: service.networkConfiguration,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason
  }
}

export function serviceShape(
  world: World,
  service: Service,
  withTags: boolean
): Json {
  const counts = countTasks(world, service)
  return {
    serviceArn: service.arn,
    serviceName: service.name,
    clusterArn: world.arn(`cluster/${service.clusterName}`),
    loadBalancers: service.loadBalancers,
    serviceRegistries: [],
    status: service.status,
    desiredCount: service.desiredCount,
    runningCount: counts.running,
    pendingCount: counts.pending,
    launchType: service.launchType,
    platformVersion: service.launchType === 'FARGATE' ? 'LATEST' : undefined,
    platformFamily: service.launchType === 'FARGATE' ? 'Linux' : undefined,
    taskDefinition: service.taskDefinitionArn,
    deploymentConfiguration: service.deploymentConfiguration,
    deployments: service.deployments.map((d) =>
      deploymentShape(world, service, d)
    ),
    events: service.events.map((e) => ({
      id: e.id,
      createdAt: seconds(e.createdAt),
      message: e.message
    })),
    createdAt: seconds(service.createdAt),
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: service.networkConfiguration,
    healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    createdBy: `arn:aws:iam::${world.accountId}:role/deployer`,
    enableECSManagedTags: service.enableECSManagedTags,
    propagateTags: service.propagateTags ?? 'NONE',
    enableExecuteCommand: false,
    availabilityZoneRebalancing: service.availabilityZoneRebalancing,
    currentServiceDeployment: service.currentServiceDeploymentArn,
    tags: withTags ? service.tags : undefined
  }
}

export function taskDefinitionShape(td: TaskDefinitionRecord): Json {
  return {
    ...td.body,
    taskDefinitionArn: td.arn,
    family: td.family,
    revision: td.revision,
    status: td.status,
    containerDefinitions: td.containerDefinitions,
    volumes: td.body.volumes ?? [],
    placementConstraints: td.body.placementConstraints ?? [],
    requiresAttributes: [],
    compatibilities: ['EC2', 'FARGATE'],
    registeredAt: seconds(td.registeredAt),
    deregisteredAt: seconds(td.deregisteredAt),
    registeredBy: 'arn:aws:iam::123456789012:role/deployer'
  }
}

export function taskShape(world: World, task: Task, withTags: boolean): Json {
  return {
    taskArn: task.arn,
    clusterArn: world.arn(`cluster/${task.clusterName}`),
    taskDefinitionArn: task.taskDefinitionArn,
    group: task.group ?? `service:${task.serviceName}`,
    startedBy: task.startedBy ?? task.deploymentId,
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    healthStatus: task.healthStatus,
    createdAt: seconds(task.createdAt),
    pullStartedAt: seconds(task.pullStartedAt),
    pullStoppedAt: seconds(task.pullStoppedAt),
    startedAt: seconds(task.startedAt),
    connectivity: task.startedAt !== undefined ? 'CONNECTED' : undefined,
    connectivityAt: seconds(task.startedAt),
    stoppingAt: seconds(task.stoppingAt),
    executionStoppedAt: seconds(task.stoppedAt),
    stoppedAt: seconds(task.stoppedAt),
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    cpu: task.cpu,
    memory: task.memory,
    launchType: task.launchType,
    platformVersion: task.launchType === 'FARGATE' ? '1.4.0' : undefined,
    availabilityZone: `${world.region}a`,
    version: task.version,
    attachments: [],
    overrides: task.overrides ?? {
      containerOverrides: [],
      inferenceAcceleratorOverrides: []
    },
    enableExecuteCommand: false,
    containers: task.containers.map((c) => ({
      containerArn: c.arn,
      taskArn: task.arn,
      name: c.name,
      image: c.image,
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
      healthStatus: c.healthStatus,
      cpu: c.cpu === undefined ? undefined : String(c.cpu),
      memory: c.memory === undefined ? undefined : String(c.memory),
      memoryReservation:
        c.memoryReservation === undefined
          ? undefined
          : String(c.memoryReservation),
      networkBindings: [],
      networkInterfaces: []
    })),
    tags: withTags ? task.tags : undefined
  }
}
