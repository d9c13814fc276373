import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service
} from '@aws-sdk/client-ecs'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'

let sim: EcsSimulator
let ecs: ECSClient

const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef'

beforeEach(async () => {
  sim = await startEcsSimulator({ startTime: Date.UTC(2026, 0, 1) })
  ecs = new ECSClient({
    endpoint: sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' }
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
    desiredCount: 2,
    loadBalancers: [
      { targetGroupArn: TG, containerName: 'app', containerPort: 8000 }
    ],
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true }
    },
    steady: true
  })
})

afterEach(async () => {
  ecs.destroy()
  await sim.stop()
})

async function describe1(): Promise<Service> {
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster: 'staging', services: ['web'] })
  )
  const service = out.services?.[0]
  if (!service) throw new Error('service not described')
  return service
}

async function register(behavior: string, tag = 'v2'): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'app',
          image: `registry.example/web:${tag}`,
          memory: 512,
          environment: [{ name: 'SIM_BEHAVIOR', value: behavior }]
        }
      ]
    })
  )
  return out.taskDefinition?.taskDefinitionArn ?? ''
}

describe('healthy rolling deployment', () => {
  it('starts at steady state with one COMPLETED deployment', async () => {
    const service = await describe1()
    expect(service.runningCount).toBe(2)
    expect(service.deployments).toHaveLength(1)
    expect(service.deployments?.[0].rolloutState).toBe('COMPLETED')
    expect(service.events?.[0].message).toBe(
      '(service web) has reached a steady state.'
    )
  })

  it('reaches COMPLETED, drains the old deployment and reports steady state', async () => {
    const arn = await register('healthy:20s')
    expect(arn).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/web:2')
    const updated = await ecs.send(
      new UpdateServiceCommand({
        cluster: 'staging',
        service: 'web',
        taskDefinition: arn
      })
    )
    const newId = updated.service?.deployments?.[0].id ?? ''
    expect(newId).toMatch(/^ecs-svc\/\d{19}$/)
    expect(updated.service?.deployments?.map((d) => d.status)).toEqual([
      'PRIMARY',
      'ACTIVE'
    ])

    // Mid-rollout: both deployments exist, the new one IN_PROGRESS.
    sim.advance(10_000)
    let service = await describe1()
    expect(service.deployments).toHaveLength(2)
    expect(service.deployments?.[0]).toMatchObject({
      id: newId,
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      taskDefinition: arn
    })
    expect(service.events?.[0].message).toMatch(
      /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/
    )

    const took = await sim.runUntil(
      async () => (await describe1()).deployments?.length === 1,
      { maxSimSeconds: 300 }
    )
    // 2 s provisioning + 4 s pull + 20 s to healthy + drain.
    expect(took).toBeGreaterThanOrEqual(15_000)
    service = await describe1()
    expect(service.deployments?.[0]).toMatchObject({
      id: newId,
      rolloutState: 'COMPLETED',
      runningCount: 2,
      pendingCount: 0,
      failedTasks: 0
    })
    sim.advance(5_000)
    service = await describe1()
    const messages = service.events?.map((e) => e.message) ?? []
    expect(messages[0]).toBe('(service web) has reached a steady state.')
    expect(messages).toContain(
      `(service web) (deployment ${newId}) deployment completed.`
    )
    expect(messages.some((m) => /has stopped 2 running tasks/.test(m))).toBe(
      true
    )

    // The old tasks were stopped by the scheduler and stay listed.
    const stopped = await ecs.send(
      new ListTasksCommand({
        cluster: 'staging',
        serviceName: 'web',
        desiredStatus: 'STOPPED'
      })
    )
    expect(stopped.taskArns).toHaveLength(2)
    const described = await ecs.send(
      new DescribeTasksCommand({
        cluster: 'staging',
        tasks: stopped.taskArns
      })
    )
    for (const task of described.tasks ?? []) {
      expect(task.lastStatus).toBe('STOPPED')
      expect(task.stopCode).toBe('ServiceSchedulerInitiated')
      expect(task.stoppedReason).toBe(
        `Scaling activity initiated by (deployment ${newId})`
      )
      expect(task.taskDefinitionArn).toMatch(/web:1$/)
      expect(task.group).toBe('service:web')
    }
    const running = await ecs.send(
      new ListTasksCommand({ cluster: 'staging', startedBy: newId })
    )
    expect(running.taskArns).toHaveLength(2)
  })
})
