import type {
  CreateServiceRequest,
  RegisterTaskDefinitionRequest,
  UpdateServiceRequest
} from '@aws-sdk/client-ecs'
import { parseBehavior, type BehaviorRule } from './behavior.js'
import { SimClock } from './clock.js'
import { ecrOperations } from './ecr.js'
import { EcsApiError } from './errors.js'
import { FaultInjector, type FaultConfig, type FaultKind } from './faults.js'
import { operations as coreOperations } from './operations.js'
import { rebalance } from './rebalancing.js'
import {
  serviceDeploymentOperations,
  setAlarmState
} from './service-deployments.js'
import { stepWorld } from './scheduler.js'
import { serviceShape, taskShape } from './shapes.js'
import { World } from './world.js'

/** One ECS request as the simulator saw it. */
export interface RequestLogEntry {
  seq: number
  operation: string
  /** Simulated epoch ms when it was answered. */
  simTime: number
  /** Wall-clock epoch ms when it arrived. */
  realTime: number
  status: number
  errorCode?: string
  fault?: FaultKind
  /** From the SDK's `amz-sdk-invocation-id`: the same for every retry of a call. */
  invocationId?: string
  /** From the SDK's `amz-sdk-request: attempt=N`. */
  attempt?: number
}

/** A service as `state()` shows it: the DescribeServices shape, times in epoch seconds. */
export interface ServiceState {
  serviceName: string
  serviceArn: string
  clusterArn: string
  status: string
  desiredCount: number
  runningCount: number
  pendingCount: number
  taskDefinition: string
  deployments: {
    id: string
    status: string
    taskDefinition: string
    desiredCount: number
    runningCount: number
    pendingCount: number
    failedTasks: number
    rolloutState: string
    rolloutStateReason: string
  }[]
  events: { id: string; createdAt: number; message: string }[]
  /** ARN of the ServiceDeployment the latest update started. */
  currentServiceDeployment?: string
  availabilityZoneRebalancing: string
}

/** A task as `state()` shows it: the DescribeTasks shape, times in epoch seconds. */
export interface TaskState {
  taskArn: string
  group: string
  startedBy: string
  taskDefinitionArn: string
  lastStatus: string
  desiredStatus: string
  healthStatus: string
  stopCode?: string
  stoppedReason?: string
  containers: {
    name: string
    exitCode?: number
    reason?: string
    memory?: string
  }[]
}

export interface SimState {
  /** Simulated epoch ms the world has been stepped to. */
  time: number
  speed: number
  clusters: { name: string; arn: string; capacity?: number }[]
  taskDefinitions: { arn: string; status: string }[]
  services: ServiceState[]
  tasks: TaskState[]
  behaviors: BehaviorRule[]
}

/** A world to load at start (`--seed-file`) or through `POST /_sim/world`. */
export interface WorldSeed {
  clusters?: (string | { name: string; capacity?: number })[]
  taskDefinitions?: RegisterTaskDefinitionRequest[]
  /** `steady: true` starts the service with its tasks running and its deployment COMPLETED. */
  services?: (CreateServiceRequest & { steady?: boolean })[]
  behaviors?: BehaviorRule[]
  faults?: FaultConfig
}

export interface SimCoreOptions {
  region: string
  accountId: string
  speed: number
  seed: number
  startTime: number
  tickMs: number
  faults?: FaultConfig
  /** The plain-HTTP registry the ECR stand-in reads (`localhost:5000`). */
  registry?: string
}

const LOG_LIMIT = 20_000

const operations = { ...coreOperations, ...serviceDeploymentOperations }

/**
 * The simulator without its HTTP face: a world, the clock that drives it,
 * the fault dice and the request log. Every request first steps the world
 * up to the clock's now, so answers are consistent with simulated time.
 */
export class SimCore {
  readonly world: World
  readonly clock: SimClock
  readonly faults: FaultInjector
  readonly requestLog: RequestLogEntry[] = []
  readonly tickMs: number
  /** Where ECR's image lookups read manifests. */
  readonly registry: string
  private seq = 0

  constructor(options: SimCoreOptions) {
    this.world = new World(options)
    this.clock = new SimClock(options.startTime, options.speed)
    this.faults = new FaultInjector(options.faults, options.seed)
    this.tickMs = options.tickMs
    this.registry =
      options.registry ?? process.env.ERT_REGISTRY ?? 'localhost:5000'
  }

  /** Steps the world tick by tick up to the clock's now. */
  catchUp(): void {
    const target = this.clock.now()
    while (this.world.time + this.tickMs <= target) {
      this.world.time += this.tickMs
      stepWorld(this.world)
    }
  }

  advance(ms: number): void {
    this.clock.advance(ms)
    this.catchUp()
  }

  /**
   * Answers one ECS operation, or an ECR one (`ecr:BatchGetImage`): faults first (a failed request changes
   * nothing), then the operation on a world caught up to now.
   */
  async handle(
    operation: string,
    input: unknown,
    meta: { invocationId?: string; attempt?: number }
  ): Promise<{
    status: number
    body: Record<string, unknown>
    errorCode?: string
  }> {
    const realTime = Date.now()
    const decision = this.faults.decide(operation, this.clock.now())
    if (decision.latencyMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, decision.latencyMs))
    }
    this.catchUp()
    let status = 200
    let body: Record<string, unknown>
    let errorCode: string | undefined
    try {
      if (decision.error) throw decision.error
      const op = operations[operation]
      const ecr = ecrOperations[operation]
      if (ecr) {
        body = await ecr(
          { registry: this.registry, accountId: this.world.accountId },
          (input ?? {}) as Record<string, unknown>,
          this.clock.now()
        )
      } else if (op) {
        body = op(this.world, input ?? {})
      } else {
        throw new EcsApiError(
          'UnknownOperationException',
          `The ECS simulator does not model ${operation}.`
        )
      }
    } catch (e) {
      const err =
        e instanceof EcsApiError
          ? e
          : new EcsApiError('ServerException', String(e), 500)
      status = err.status
      errorCode = err.code
      body = { __type: err.code, message: err.message }
    }
    this.log({
      operation,
      simTime: this.world.time,
      realTime,
      status,
      errorCode,
      fault: decision.fault,
      ...meta
    })
    return { status, body, errorCode }
  }

  private log(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.requestLog.push({ seq: ++this.seq, ...entry })
    if (this.requestLog.length > LOG_LIMIT) this.requestLog.shift()
  }

  /** Calls an operation directly (no faults, not logged); throws EcsApiError. */
  call(operation: string, input: unknown): Record<string, unknown> {
    this.catchUp()
    const op = operations[operation]
    if (!op) throw new Error(`unknown operation ${operation}`)
    return op(this.world, input)
  }

  addBehavior(rule: BehaviorRule): void {
    parseBehavior(rule.behavior)
    this.world.behaviorRules.push({
      image: rule.image,
      behavior: rule.behavior
    })
  }

  createCluster(name: string, options: { capacity?: number } = {}): string {
    this.call('CreateCluster', { clusterName: name })
    const cluster = this.world.clusters.get(name)
    if (!cluster) throw new Error(`cluster ${name} was not created`)
    cluster.capacity = options.capacity
    return cluster.arn
  }

  registerTaskDefinition(input: RegisterTaskDefinitionRequest): {
    taskDefinitionArn: string
    revision: number
  } {
    const out = this.call('RegisterTaskDefinition', input) as {
      taskDefinition: { taskDefinitionArn: string; revision: number }
    }
    return {
      taskDefinitionArn: out.taskDefinition.taskDefinitionArn,
      revision: out.taskDefinition.revision
    }
  }

  createService(input: CreateServiceRequest & { steady?: boolean }): {
    serviceArn: string
    deploymentId: string
  } {
    const { steady, ...request } = input
    const out = this.call('CreateService', {
      ...request,
      simSteady: steady
    }) as {
      service: { serviceArn: string; deployments: { id: string }[] }
    }
    return {
      serviceArn: out.service.serviceArn,
      deploymentId: out.service.deployments[0].id
    }
  }

  updateService(input: UpdateServiceRequest): { deploymentId: string } {
    const out = this.call('UpdateService', input) as {
      service: { deployments: { id: string }[] }
    }
    return { deploymentId: out.service.deployments[0].id }
  }

  /** Sets a CloudWatch alarm's state (OK | ALARM | INSUFFICIENT_DATA) as deployments see it. */
  setAlarmState(name: string, state: string): void {
    this.catchUp()
    setAlarmState(this.world, name, state)
  }

  /** Stops healthy tasks as AZ rebalancing does; returns their ARNs. */
  rebalance(cluster: string, name: string, count = 1): string[] {
    this.catchUp()
    const service = this.world.services.get(`${cluster}/${name}`)
    if (!service) throw new Error(`no service ${cluster}/${name}`)
    return rebalance(this.world, service, count)
  }

  loadWorld(seed: WorldSeed): void {
    for (const rule of seed.behaviors ?? []) this.addBehavior(rule)
    for (const c of seed.clusters ?? []) {
      if (typeof c === 'string') this.createCluster(c)
      else this.createCluster(c.name, { capacity: c.capacity })
    }
    for (const td of seed.taskDefinitions ?? []) this.registerTaskDefinition(td)
    for (const s of seed.services ?? []) this.createService(s)
    if (seed.faults) this.faults.set(seed.faults)
  }

  service(cluster: string, name: string): ServiceState | undefined {
    this.catchUp()
    const service = this.world.services.get(`${cluster}/${name}`)
    return service
      ? (serviceShape(this.world, service, false) as unknown as ServiceState)
      : undefined
  }

  state(): SimState {
    this.catchUp()
    const world = this.world
    return {
      time: world.time,
      speed: this.clock.speed,
      clusters: [...world.clusters.values()].map((c) => ({
        name: c.name,
        arn: c.arn,
        capacity: c.capacity
      })),
      taskDefinitions: [...world.taskDefinitions.values()]
        .flat()
        .map((td) => ({ arn: td.arn, status: td.status })),
      services: [...world.services.values()].map(
        (s) => serviceShape(world, s, false) as unknown as ServiceState
      ),
      tasks: [...world.tasks.values()].map(
        (t) => taskShape(world, t, false) as unknown as TaskState
      ),
      behaviors: [...world.behaviorRules]
    }
  }
}
