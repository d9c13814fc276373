import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Failure,
  type Service,
  type ServiceDeployment,
  type Task
} from '@aws-sdk/client-ecs'

/** ECS's own limits per call. */
export const DESCRIBE_SERVICES_BATCH = 10
export const DESCRIBE_TASKS_BATCH = 100
export const DESCRIBE_SERVICE_DEPLOYMENTS_BATCH = 20

/** Errors that mean this caller cannot read service deployments at all. */
function unsupported(error: unknown): boolean {
  return /AccessDenied|UnknownOperation|UnsupportedFeature|UnrecognizedClient/i.test(
    (error as { name?: string })?.name ?? ''
  )
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size))
  }
  return out
}

/** Counts API calls by operation, for the benchmark and the summary. */
export type CallCounter = Record<string, number>

/**
 * The few read calls the watcher makes, batched the way ECS allows, with
 * every call counted.
 */
export class EcsReader {
  readonly calls: CallCounter = {}
  private readonly memoryCache = new Map<string, Map<string, number>>()

  /**
   * `callTimeoutMs` bounds one call, SDK retries included: a poll that
   * stalls in the SDK's backoff gives way to the watcher's own backoff.
   */
  constructor(
    private readonly ecs: ECSClient,
    private readonly callTimeoutMs?: number
  ) {}

  private options(): { abortSignal?: AbortSignal } {
    return this.callTimeoutMs
      ? { abortSignal: AbortSignal.timeout(this.callTimeoutMs) }
      : {}
  }

  private count(operation: string): void {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1
  }

  /** DescribeServices, 10 names per call, for one cluster. */
  async describeServices(
    cluster: string,
    services: readonly string[]
  ): Promise<{ services: Service[]; failures: Failure[] }> {
    const found: Service[] = []
    const failures: Failure[] = []
    for (const batch of chunks(services, DESCRIBE_SERVICES_BATCH)) {
      this.count('DescribeServices')
      const out = await this.ecs.send(
        new DescribeServicesCommand({ cluster, services: batch }),
        this.options()
      )
      found.push(...(out.services ?? []))
      failures.push(...(out.failures ?? []))
    }
    return { services: found, failures }
  }

  /**
   * Stopped task ARNs of one service (first page, newest first as ECS lists
   * them). ECS refuses `startedBy` together with `serviceName`, so the
   * deployment is matched later on each task's `startedBy`.
   */
  async listStoppedTasks(cluster: string, service: string): Promise<string[]> {
    this.count('ListTasks')
    const out = await this.ecs.send(
      new ListTasksCommand({
        cluster,
        serviceName: service,
        desiredStatus: 'STOPPED',
        maxResults: 100
      }),
      this.options()
    )
    return out.taskArns ?? []
  }

  /** DescribeTasks, 100 ARNs per call. */
  async describeTasks(
    cluster: string,
    arns: readonly string[]
  ): Promise<Task[]> {
    const tasks: Task[] = []
    for (const batch of chunks(arns, DESCRIBE_TASKS_BATCH)) {
      this.count('DescribeTasks')
      const out = await this.ecs.send(
        new DescribeTasksCommand({ cluster, tasks: batch }),
        this.options()
      )
      tasks.push(...(out.tasks ?? []))
    }
    return tasks
  }

  /**
   * Memory limits (MiB) of a task definition's containers, once per ARN;
   * only asked for when an OOM kill needs a limit the task does not carry.
   */
  async containerMemory(taskDefinition: string): Promise<Map<string, number>> {
    const cached = this.memoryCache.get(taskDefinition)
    if (cached) return cached
    this.count('DescribeTaskDefinition')
    const out = await this.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition }),
      this.options()
    )
    const limits = new Map<string, number>()
    const definition = out.taskDefinition
    for (const c of definition?.containerDefinitions ?? []) {
      const limit =
        c.memory ?? c.memoryReservation ?? Number(definition?.memory ?? 0)
      if (c.name && limit) limits.set(c.name, limit)
    }
    this.memoryCache.set(taskDefinition, limits)
    return limits
  }

  /** False once ECS refused DescribeServiceDeployments (no IAM permission, old endpoint). */
  serviceDeploymentsReadable = true

  /**
   * DescribeServiceDeployments, 20 ARNs per call. Without the permission
   * the watch goes on with DescribeServices alone (an empty answer).
   */
  async describeServiceDeployments(
    arns: readonly string[]
  ): Promise<ServiceDeployment[]> {
    const found: ServiceDeployment[] = []
    if (!this.serviceDeploymentsReadable) return found
    for (const batch of chunks(arns, DESCRIBE_SERVICE_DEPLOYMENTS_BATCH)) {
      this.count('DescribeServiceDeployments')
      try {
        const out = await this.ecs.send(
          new DescribeServiceDeploymentsCommand({
            serviceDeploymentArns: batch
          }),
          this.options()
        )
        found.push(...(out.serviceDeployments ?? []))
      } catch (error) {
        if (!unsupported(error)) throw error
        this.serviceDeploymentsReadable = false
        return []
      }
    }
    return found
  }

  /** Sum of all counted calls. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0)
  }
}
