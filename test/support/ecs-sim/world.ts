import type {
  ContainerDefinition,
  DeploymentConfiguration,
  LoadBalancer,
  NetworkConfiguration,
  ThresholdConfiguration
} from '@aws-sdk/client-ecs'
import type { BehaviorRule, TaskPlan } from './behavior.js'
import { clusterNotFound } from './errors.js'
import { SeededRandom } from './random.js'

/** ECS's tag shape on the wire. */
export interface Tag {
  key?: string
  value?: string
}

export interface Cluster {
  name: string
  arn: string
  status: 'ACTIVE' | 'INACTIVE'
  tags: Tag[]
  /** Most tasks it can hold at once; undefined is unlimited. */
  capacity?: number
}

export interface TaskDefinitionRecord {
  arn: string
  family: string
  revision: number
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS'
  registeredAt: number
  deregisteredAt?: number
  containerDefinitions: ContainerDefinition[]
  /** Every other field of the registration, returned as given. */
  body: Record<string, unknown>
  tags: Tag[]
}

export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED'

export interface Deployment {
  id: string
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE'
  taskDefinitionArn: string
  desiredCount: number
  failedTasks: number
  /** Failures since the last healthy task; drives the launch back-off. */
  consecutiveFailures: number
  createdAt: number
  updatedAt: number
  rolloutState: RolloutState
  rolloutStateReason: string
  /** The circuit breaker stops watching once one task has run healthy. */
  breakerWatching: boolean
  /** When its last task stopped (FAILED deployments linger a while). */
  drainedAt?: number
  /** No launch before this time (placement retry back-off). */
  nextLaunchAt: number
}

export interface ServiceEvent {
  id: string
  createdAt: number
  message: string
}

export interface Service {
  name: string
  arn: string
  clusterName: string
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE'
  desiredCount: number
  taskDefinitionArn: string
  launchType: string
  loadBalancers: LoadBalancer[]
  healthCheckGracePeriodSeconds: number
  deploymentConfiguration: {
    maximumPercent: number
    minimumHealthyPercent: number
    deploymentCircuitBreaker: {
      enable: boolean
      rollback: boolean
      thresholdConfiguration?: ThresholdConfiguration
    }
  } & Omit<
    DeploymentConfiguration,
    'maximumPercent' | 'minimumHealthyPercent' | 'deploymentCircuitBreaker'
  >
  networkConfiguration?: NetworkConfiguration
  propagateTags?: string
  enableECSManagedTags: boolean
  tags: Tag[]
  createdAt: number
  /** PRIMARY first, as DescribeServices lists them. */
  deployments: Deployment[]
  /** Newest first, at most 100. */
  events: ServiceEvent[]
  lastCompleted?: { id: string; taskDefinitionArn: string }
  steady: boolean
  /** The ServiceDeployment the latest CreateService/UpdateService started. */
  currentServiceDeploymentArn?: string
  availabilityZoneRebalancing: 'ENABLED' | 'DISABLED'
}

export interface TaskContainer {
  name: string
  image: string
  arn: string
  lastStatus: string
  exitCode?: number
  reason?: string
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'
  hasHealthCheck: boolean
  essential: boolean
  cpu?: number
  memory?: number
  memoryReservation?: number
}

export interface Task {
  arn: string
  id: string
  clusterName: string
  serviceName: string
  deploymentId: string
  taskDefinitionArn: string
  lastStatus:
    | 'PROVISIONING'
    | 'PENDING'
    | 'RUNNING'
    | 'DEACTIVATING'
    | 'STOPPING'
    | 'STOPPED'
  desiredStatus: 'RUNNING' | 'STOPPED'
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'
  createdAt: number
  pullStartedAt?: number
  pullStoppedAt?: number
  startedAt?: number
  stoppingAt?: number
  stoppedAt?: number
  stopCode?: string
  stoppedReason?: string
  containers: TaskContainer[]
  cpu?: string
  memory?: string
  launchType: string
  version: number
  plan: TaskPlan
  /** When it first passed health checks; a ready task counts as healthy. */
  readyAt?: number
  tags: Tag[]
  /** RunTask's: who started it, its group and overrides (service tasks leave them unset). */
  startedBy?: string
  group?: string
  overrides?: Record<string, unknown>
}

export interface WorldOptions {
  region: string
  accountId: string
  seed: number
  startTime: number
}

/**
 * Everything the simulated account holds, and the lookups the operations
 * and the scheduler share. It never looks at the clock itself: `time` is the
 * moment the scheduler last stepped to.
 */
export class World {
  readonly region: string
  readonly accountId: string
  time: number
  readonly clusters = new Map<string, Cluster>()
  /** Family → revisions, revision N at index N-1. */
  readonly taskDefinitions = new Map<string, TaskDefinitionRecord[]>()
  /** Keyed `cluster/service`. */
  readonly services = new Map<string, Service>()
  /** Every task still listed, by ARN. */
  readonly tasks = new Map<string, Task>()
  /** Tasks not yet STOPPED: the only ones the scheduler steps. */
  readonly live = new Set<Task>()
  private readonly byService = new Map<string, Set<Task>>()
  /** STOPPED tasks in the order they stopped, for retention. */
  private readonly stoppedOrder: Task[] = []
  readonly behaviorRules: BehaviorRule[] = []
  readonly ids: SeededRandom

  constructor(options: WorldOptions) {
    this.region = options.region
    this.accountId = options.accountId
    this.time = options.startTime
    this.ids = new SeededRandom(options.seed ^ 0x5eed)
  }

  arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`
  }

  /** Cluster by name or ARN (`default` when omitted); throws ClusterNotFound. */
  cluster(ref: string | undefined): Cluster {
    const name = (ref || 'default').split('/').pop() ?? ''
    const cluster = this.clusters.get(name)
    if (!cluster || cluster.status !== 'ACTIVE') throw clusterNotFound()
    return cluster
  }

  /** Service by name or ARN within a cluster (any status). */
  service(cluster: Cluster, ref: string): Service | undefined {
    const name = ref.split('/').pop() ?? ''
    if (ref.startsWith('arn:')) {
      const parts = ref.split(':').pop()?.split('/') ?? []
      // service/<cluster>/<name>; the older service/<name> has no cluster.
      if (parts.length === 3 && parts[1] !== cluster.name) return undefined
    }
    return this.services.get(`${cluster.name}/${name}`)
  }

  serviceArn(cluster: string, name: string): string {
    return this.arn(`service/${cluster}/${name}`)
  }

  /** `family`, `family:rev` or an ARN; a bare family is its latest ACTIVE revision. */
  taskDefinition(ref: string): TaskDefinitionRecord | undefined {
    const short = ref.startsWith('arn:')
      ? (ref.split(':task-definition/')[1] ?? '')
      : ref
    const [family, rev] = short.split(':')
    const revisions = this.taskDefinitions.get(family)
    if (!revisions) return undefined
    if (rev === undefined) {
      return [...revisions].reverse().find((td) => td.status === 'ACTIVE')
    }
    return revisions[Number(rev) - 1]
  }

  tasksOf(service: Service): Task[] {
    return [
      ...(this.byService.get(`${service.clusterName}/${service.name}`) ?? [])
    ]
  }

  /** Tasks of a service that have not reached STOPPED yet. */
  unstoppedTasksOf(service: Service): Task[] {
    return [...this.live].filter(
      (t) =>
        t.clusterName === service.clusterName && t.serviceName === service.name
    )
  }

  addTask(task: Task): void {
    this.tasks.set(task.arn, task)
    this.live.add(task)
    const key = `${task.clusterName}/${task.serviceName}`
    const set = this.byService.get(key) ?? new Set<Task>()
    set.add(task)
    this.byService.set(key, set)
  }

  markStopped(task: Task): void {
    this.live.delete(task)
    this.stoppedOrder.push(task)
  }

  /** Forgets tasks stopped longer ago than `retentionMs`. */
  purgeStopped(retentionMs: number): void {
    while (
      this.stoppedOrder.length > 0 &&
      this.time - (this.stoppedOrder[0].stoppedAt ?? this.time) >= retentionMs
    ) {
      const task = this.stoppedOrder.shift() as Task
      this.tasks.delete(task.arn)
      this.byService
        .get(`${task.clusterName}/${task.serviceName}`)
        ?.delete(task)
    }
  }

  addEvent(service: Service, message: string): void {
    service.events.unshift({
      id: this.ids.uuid(),
      createdAt: this.time,
      message
    })
    if (service.events.length > 100) service.events.length = 100
  }

  /** A new PRIMARY deployment; the previous ones become ACTIVE and drain. */
  newDeployment(service: Service, taskDefinitionArn: string): Deployment {
    for (const d of service.deployments) d.status = 'ACTIVE'
    const deployment: Deployment = {
      id: `ecs-svc/${this.ids.digits(19)}`,
      status: 'PRIMARY',
      taskDefinitionArn,
      desiredCount: service.desiredCount,
      failedTasks: 0,
      consecutiveFailures: 0,
      createdAt: this.time,
      updatedAt: this.time,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      breakerWatching: true,
      nextLaunchAt: this.time
    }
    service.deployments.unshift(deployment)
    service.taskDefinitionArn = taskDefinitionArn
    service.steady = false
    return deployment
  }
}

/** The short name of a resource for event texts: the last ARN segment. */
export function shortId(arn: string): string {
  return arn.split('/').pop() ?? arn
}
