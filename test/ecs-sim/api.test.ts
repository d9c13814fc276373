import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  CreateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  DeleteServiceCommand,
  CreateClusterCommand
} from '@aws-sdk/client-ecs'
import { startFixture, type Fixture } from './sim-fixture.js'

let f: Fixture

beforeEach(async () => {
  f = await startFixture()
})

afterEach(async () => {
  await f.stop()
})

/** The error an SDK call rejects with, to assert on its name and message. */
async function failure(
  promise: Promise<unknown>
): Promise<
  Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }
> {
  try {
    await promise
  } catch (e) {
    return e as Error
  }
  throw new Error('expected the call to fail')
}

describe('error codes', () => {
  it('unknown cluster, unknown service and inactive service', async () => {
    const noCluster = await failure(
      f.ecs.send(
        new DescribeServicesCommand({ cluster: 'nope', services: ['web'] })
      )
    )
    expect(noCluster.name).toBe('ClusterNotFoundException')
    expect(noCluster.message).toBe('Cluster not found.')
    expect(noCluster.$metadata?.httpStatusCode).toBe(400)

    const noService = await failure(
      f.ecs.send(
        new UpdateServiceCommand({
          cluster: 'staging',
          service: 'api',
          desiredCount: 1
        })
      )
    )
    expect(noService.name).toBe('ServiceNotFoundException')

    await f.ecs.send(
      new DeleteServiceCommand({
        cluster: 'staging',
        service: 'web',
        force: true
      })
    )
    const inactive = await failure(
      f.ecs.send(
        new UpdateServiceCommand({
          cluster: 'staging',
          service: 'web',
          desiredCount: 1
        })
      )
    )
    expect(inactive.name).toBe('ServiceNotActiveException')
  })

  it('DescribeServices reports unknown services as MISSING failures', async () => {
    const out = await f.ecs.send(
      new DescribeServicesCommand({
        cluster: 'staging',
        services: ['web', 'api']
      })
    )
    expect(out.services?.map((s) => s.serviceName)).toEqual(['web'])
    expect(out.failures).toEqual([
      {
        arn: 'arn:aws:ecs:us-east-1:123456789012:service/staging/api',
        reason: 'MISSING'
      }
    ])
  })

  it('DescribeServices takes at most 10 services, DescribeTasks at most 100', async () => {
    const services = Array.from({ length: 11 }, (_, i) => `svc-${i}`)
    const tooMany = await failure(
      f.ecs.send(new DescribeServicesCommand({ cluster: 'staging', services }))
    )
    expect(tooMany.name).toBe('InvalidParameterException')
    const ten = await f.ecs.send(
      new DescribeServicesCommand({
        cluster: 'staging',
        services: services.slice(0, 10)
      })
    )
    expect(ten.failures).toHaveLength(10)

    const tasks = Array.from({ length: 101 }, (_, i) => `task-${i}`)
    const tooManyTasks = await failure(
      f.ecs.send(new DescribeTasksCommand({ cluster: 'staging', tasks }))
    )
    expect(tooManyTasks.name).toBe('InvalidParameterException')
  })

  it('bad parameters are InvalidParameterException or ClientException', async () => {
    const badTd = await failure(
      f.ecs.send(
        new CreateServiceCommand({
          cluster: 'staging',
          serviceName: 'api',
          taskDefinition: 'ghost:1'
        })
      )
    )
    expect(badTd.name).toBe('InvalidParameterException')
    expect(badTd.message).toBe('TaskDefinition not found.')

    const again = await failure(
      f.ecs.send(
        new CreateServiceCommand({
          cluster: 'staging',
          serviceName: 'web',
          taskDefinition: 'web:1'
        })
      )
    )
    expect(again.message).toBe('Creation of service was not idempotent.')

    const badDesired = await failure(
      f.ecs.send(
        new UpdateServiceCommand({
          cluster: 'staging',
          service: 'web',
          desiredCount: -1
        })
      )
    )
    expect(badDesired.name).toBe('InvalidParameterException')

    const noImage = await failure(
      f.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'web',
          containerDefinitions: [{ name: 'app' }]
        })
      )
    )
    expect(noImage.name).toBe('ClientException')

    const badBehavior = await failure(
      f.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'web',
          containerDefinitions: [
            {
              name: 'app',
              image: 'x',
              environment: [{ name: 'SIM_BEHAVIOR', value: 'explode:5s' }]
            }
          ]
        })
      )
    )
    expect(badBehavior.name).toBe('ClientException')
    expect(badBehavior.message).toContain('unknown SIM_BEHAVIOR term "explode"')

    const unknownTd = await failure(
      f.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'ghost' }))
    )
    expect(unknownTd.name).toBe('ClientException')

    const listUnknown = await failure(
      f.ecs.send(
        new ListTasksCommand({ cluster: 'staging', serviceName: 'api' })
      )
    )
    expect(listUnknown.name).toBe('ServiceNotFoundException')
  })
})

describe('clusters and task definitions', () => {
  it('creates and describes clusters, with MISSING failures', async () => {
    await f.ecs.send(new CreateClusterCommand({ clusterName: 'prod' }))
    const out = await f.ecs.send(
      new DescribeClustersCommand({ clusters: ['prod', 'qa'] })
    )
    expect(out.clusters?.[0]).toMatchObject({
      clusterName: 'prod',
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
      status: 'ACTIVE'
    })
    expect(out.failures?.[0]).toMatchObject({ reason: 'MISSING' })
  })

  it('numbers revisions per family, keeps tags, lists and deregisters', async () => {
    const tags = [
      { key: 'flavor', value: 'web' },
      { key: 'git-sha', value: 'abc123' }
    ]
    const registered = await f.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'worker',
        cpu: '512',
        memory: '1024',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        containerDefinitions: [
          { name: 'celery', image: 'repo/app:v9', memory: 1024 }
        ],
        tags
      })
    )
    expect(registered.taskDefinition?.taskDefinitionArn).toBe(
      'arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1'
    )
    expect(registered.tags).toEqual(tags)
    await f.register('healthy:5s')

    const withTags = await f.ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: 'worker',
        include: ['TAGS']
      })
    )
    expect(withTags.tags).toEqual(tags)
    expect(withTags.taskDefinition).toMatchObject({
      family: 'worker',
      revision: 1,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      memory: '1024'
    })
    expect(withTags.taskDefinition?.registeredAt).toBeInstanceOf(Date)
    const withoutTags = await f.ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'worker:1' })
    )
    expect(withoutTags.tags).toBeUndefined()

    const listed = await f.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'web' })
    )
    expect(listed.taskDefinitionArns?.map((a) => a.split('/').pop())).toEqual([
      'web:1',
      'web:2'
    ])

    await f.ecs.send(
      new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:1' })
    )
    const active = await f.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'web' })
    )
    expect(active.taskDefinitionArns?.map((a) => a.split('/').pop())).toEqual([
      'web:2'
    ])
    const inactive = await f.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: 'web',
        status: 'INACTIVE'
      })
    )
    expect(inactive.taskDefinitionArns?.map((a) => a.split('/').pop())).toEqual(
      ['web:1']
    )
    const paged = await f.ecs.send(
      new ListTaskDefinitionsCommand({ maxResults: 1 })
    )
    expect(paged.taskDefinitionArns).toHaveLength(1)
    expect(paged.nextToken).toBeDefined()

    const noRevision = await failure(
      f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'web' }))
    )
    expect(noRevision.name).toBe('ClientException')
  })

  it('tags resources and lists their tags', async () => {
    const arn = (await f.service()).serviceArn ?? ''
    await f.ecs.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [{ key: 'release', value: '42' }]
      })
    )
    const out = await f.ecs.send(
      new ListTagsForResourceCommand({ resourceArn: arn })
    )
    expect(out.tags).toEqual([{ key: 'release', value: '42' }])
    const missing = await failure(
      f.ecs.send(
        new ListTagsForResourceCommand({
          resourceArn:
            'arn:aws:ecs:us-east-1:123456789012:service/staging/ghost'
        })
      )
    )
    expect(missing.name).toBe('ResourceNotFoundException')
  })

  it('filters ListTasks by desiredStatus and startedBy', async () => {
    const running = await f.ecs.send(
      new ListTasksCommand({ cluster: 'staging', serviceName: 'web' })
    )
    expect(running.taskArns).toHaveLength(2)
    const id = (await f.service()).deployments?.[0].id
    const byDeployment = await f.ecs.send(
      new ListTasksCommand({ cluster: 'staging', startedBy: id })
    )
    expect(byDeployment.taskArns).toEqual(running.taskArns)
    const none = await f.ecs.send(
      new ListTasksCommand({ cluster: 'staging', startedBy: 'ecs-svc/0' })
    )
    expect(none.taskArns).toEqual([])
    const stopped = await f.ecs.send(
      new ListTasksCommand({ cluster: 'staging', desiredStatus: 'STOPPED' })
    )
    expect(stopped.taskArns).toEqual([])
  })
})

describe('faults', () => {
  it('a throttling rate surfaces as ThrottlingException that the SDK retries', async () => {
    await f.stop()
    // As the actions' client (src/ecs/client.ts): 8 attempts, adaptive retry.
    f = await startFixture({
      client: { maxAttempts: 8, retryMode: 'adaptive' }
    })
    f.sim.setFaults({ throttleRate: 0.4, seed: 7 })
    f.sim.clearRequestLog()
    for (let i = 0; i < 4; i++) {
      const s = await f.service()
      expect(s.serviceName).toBe('web')
    }
    const log = f.sim.requestLog
    const throttled = log.filter((r) => r.errorCode === 'ThrottlingException')
    expect(throttled.length).toBeGreaterThan(0)
    expect(
      throttled.every((r) => r.status === 400 && r.fault === 'throttle')
    ).toBe(true)
    // Each throttled attempt was retried under the same invocation id.
    for (const t of throttled) {
      const retry = log.find(
        (r) =>
          r.invocationId === t.invocationId &&
          (r.attempt ?? 0) > (t.attempt ?? 0)
      )
      expect(retry).toBeDefined()
    }
    expect(log.filter((r) => r.status === 200)).toHaveLength(4)
  })

  it('without retries left the caller sees ThrottlingException', async () => {
    await f.stop()
    f = await startFixture({ client: { maxAttempts: 1 } })
    f.sim.setFaults({
      failNext: [{ operation: 'DescribeServices', error: 'throttle' }]
    })
    const err = await failure(f.service())
    expect(err.name).toBe('ThrottlingException')
    expect(err.message).toBe('Rate exceeded')
    // The scripted fault is used up: the next call succeeds.
    expect((await f.service()).serviceName).toBe('web')
  })

  it('HTTP 500s are retried by the SDK; per-operation rates leave others alone', async () => {
    f.sim.setFaults({
      failNext: [
        { operation: 'DescribeServices', error: 'server-error', count: 2 }
      ],
      operations: { ListTasks: { serverErrorRate: 1 } }
    })
    f.sim.clearRequestLog()
    expect((await f.service()).serviceName).toBe('web')
    const log = f.sim.requestLog
    expect(log.map((r) => [r.status, r.attempt])).toEqual([
      [500, 1],
      [500, 2],
      [200, 3]
    ])
    await f.ecs.send(new DescribeClustersCommand({ clusters: ['staging'] }))
    const failing = new ECSClient({
      endpoint: f.sim.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 2
    })
    const err = await failure(
      failing.send(new ListTasksCommand({ cluster: 'staging' }))
    )
    failing.destroy()
    expect(err.$metadata?.httpStatusCode).toBe(500)
    expect(err.name).toBe('ServerException')
  })

  it('latency delays answers in real time', async () => {
    f.sim.setFaults({ latencyMs: 40 })
    const start = performance.now()
    await f.service()
    expect(performance.now() - start).toBeGreaterThanOrEqual(35)
  })
})

describe('control API over HTTP', () => {
  it('advances the clock, loads a world, reads state and the request log', async () => {
    const post = async (path: string, body: unknown): Promise<Response> =>
      fetch(`${f.sim.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
    const loaded = await post('/_sim/world', {
      clusters: ['prod'],
      taskDefinitions: [
        {
          family: 'api',
          containerDefinitions: [{ name: 'api', image: 'repo/api:v1' }]
        }
      ],
      services: [
        {
          cluster: 'prod',
          serviceName: 'api',
          taskDefinition: 'api',
          desiredCount: 1,
          steady: true
        }
      ],
      behaviors: [{ image: 'repo/api:broken', behavior: 'pull-error' }]
    })
    expect(loaded.status).toBe(200)
    const out = await f.ecs.send(
      new DescribeServicesCommand({ cluster: 'prod', services: ['api'] })
    )
    expect(out.services?.[0].runningCount).toBe(1)

    const before = f.sim.now()
    const advanced = await post('/_sim/advance', { seconds: 90 })
    expect(((await advanced.json()) as { now: number }).now).toBe(
      before + 90_000
    )

    const state = (await (await fetch(`${f.sim.url}/_sim/state`)).json()) as {
      services: { serviceName: string }[]
      behaviors: unknown[]
    }
    expect(state.services.map((s) => s.serviceName).sort()).toEqual([
      'api',
      'web'
    ])
    expect(state.behaviors).toHaveLength(1)

    await post('/_sim/faults', { throttleRate: 1 })
    const throttled = new ECSClient({
      endpoint: f.sim.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1
    })
    expect(
      (await failure(throttled.send(new ListTasksCommand({ cluster: 'prod' }))))
        .name
    ).toBe('ThrottlingException')
    throttled.destroy()
    const requests = (await (
      await fetch(`${f.sim.url}/_sim/requests`)
    ).json()) as {
      operation: string
      status: number
    }[]
    expect(requests.at(-1)).toMatchObject({
      operation: 'ListTasks',
      status: 400
    })

    const bad = await post('/_sim/faults', { throttleRate: 2 })
    expect(bad.status).toBe(400)
  })

  it('a running clock moves the world without requests', async () => {
    await f.stop()
    f = await startFixture({ sim: { speed: 1000 } })
    const revision = await f.register('healthy:20s')
    // Counted from before the deploy: at 1000x a loaded machine lets many
    // simulated seconds pass between the deploy's answer and runUntil.
    const deployedAt = f.sim.now()
    await f.deploy(revision)
    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.[0].rolloutState === 'COMPLETED',
      { maxSimSeconds: 600 }
    )
    expect(f.sim.now() - deployedAt).toBeGreaterThanOrEqual(20_000)
  })

  it('the sim clock sleeps in simulated time for code under test', async () => {
    const before = f.sim.now()
    await f.sim.clock.sleep(30_000)
    expect(f.sim.now() - before).toBe(30_000)
  })
})
