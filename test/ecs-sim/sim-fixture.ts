import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type DeploymentConfiguration,
  type Service,
  type Task
} from '@aws-sdk/client-ecs'
import {
  startEcsSimulator,
  type EcsSimulator,
  type EcsSimulatorOptions
} from '../support/ecs-sim/index.js'

export const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef'

export interface FixtureOptions {
  desiredCount?: number
  loadBalancer?: boolean
  healthCheckGracePeriodSeconds?: number
  circuitBreaker?: { enable: boolean; rollback: boolean }
  minimumHealthyPercent?: number
  maximumPercent?: number
  /** Strategy, alarms, hooks…: merged into the service's deploymentConfiguration. */
  deployment?: Omit<
    DeploymentConfiguration,
    'deploymentCircuitBreaker' | 'minimumHealthyPercent' | 'maximumPercent'
  >
  sim?: EcsSimulatorOptions
  client?: { maxAttempts?: number; retryMode?: string }
}

/**
 * A simulator holding cluster `staging` with service `web` at steady state on
 * `web:1`, and an SDK client pointed at it. Tests act only through `ecs`.
 */
export interface Fixture {
  sim: EcsSimulator
  ecs: ECSClient
  service(): Promise<Service>
  messages(): Promise<string[]>
  register(
    behavior: string,
    extra?: Partial<ContainerDefinition>
  ): Promise<string>
  /** UpdateService to a task definition; returns the new deployment id. */
  deploy(taskDefinition: string): Promise<string>
  tasks(filter: {
    desiredStatus?: 'RUNNING' | 'STOPPED'
    startedBy?: string
  }): Promise<Task[]>
  stop(): Promise<void>
}

export async function startFixture(
  options: FixtureOptions = {}
): Promise<Fixture> {
  const sim = await startEcsSimulator({
    startTime: Date.UTC(2026, 0, 1),
    ...options.sim
  })
  const ecs = new ECSClient({
    endpoint: sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: options.client?.maxAttempts,
    retryMode: options.client?.retryMode
  })
  sim.createCluster('staging')
  sim.registerTaskDefinition({
    family: 'web',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'app', image: 'registry.example/web:v1', memory: 512 }
    ]
  })
  sim.createService({
    cluster: 'staging',
    serviceName: 'web',
    taskDefinition: 'web:1',
    desiredCount: options.desiredCount ?? 2,
    loadBalancers:
      options.loadBalancer === false
        ? []
        : [{ targetGroupArn: TG, containerName: 'app', containerPort: 8000 }],
    healthCheckGracePeriodSeconds: options.healthCheckGracePeriodSeconds,
    deploymentConfiguration: {
      ...options.deployment,
      minimumHealthyPercent: options.minimumHealthyPercent,
      maximumPercent: options.maximumPercent,
      deploymentCircuitBreaker: options.circuitBreaker ?? {
        enable: true,
        rollback: true
      }
    },
    steady: true
  })

  const service = async (): Promise<Service> => {
    const out = await ecs.send(
      new DescribeServicesCommand({ cluster: 'staging', services: ['web'] })
    )
    const found = out.services?.[0]
    if (!found) throw new Error('service web not described')
    return found
  }
  let tag = 1
  return {
    sim,
    ecs,
    service,
    messages: async () =>
      ((await service()).events ?? []).map((e) => e.message ?? ''),
    async register(behavior, extra = {}) {
      tag++
      const out = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'web',
          cpu: '256',
          memory: '512',
          containerDefinitions: [
            {
              name: 'app',
              image: `registry.example/web:v${tag}`,
              memory: 512,
              environment: behavior
                ? [{ name: 'SIM_BEHAVIOR', value: behavior }]
                : [],
              ...extra
            }
          ]
        })
      )
      return out.taskDefinition?.taskDefinitionArn ?? ''
    },
    async deploy(taskDefinition) {
      const out = await ecs.send(
        new UpdateServiceCommand({
          cluster: 'staging',
          service: 'web',
          taskDefinition
        })
      )
      return out.service?.deployments?.[0].id ?? ''
    },
    async tasks(filter) {
      const list = await ecs.send(
        new ListTasksCommand({
          cluster: 'staging',
          serviceName: 'web',
          ...filter
        })
      )
      if (!list.taskArns?.length) return []
      const out = await ecs.send(
        new DescribeTasksCommand({ cluster: 'staging', tasks: list.taskArns })
      )
      return out.tasks ?? []
    },
    async stop() {
      ecs.destroy()
      await sim.stop()
    }
  }
}
