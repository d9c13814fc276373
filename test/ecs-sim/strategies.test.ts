import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  type ServiceDeployment
} from '@aws-sdk/client-ecs'
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  startFixture,
  type Fixture,
  type FixtureOptions
} from './sim-fixture.js'

let f: Fixture | undefined

afterEach(async () => {
  await f?.stop()
  f = undefined
})

async function start(options: FixtureOptions): Promise<Fixture> {
  f = await startFixture(options)
  return f
}

/** The service's current ServiceDeployment, through the SDK. */
async function current(fx: Fixture): Promise<ServiceDeployment> {
  const arn = (await fx.service()).currentServiceDeployment
  expect(arn).toMatch(
    /^arn:aws:ecs:us-east-1:123456789012:service-deployment\/staging\/web\//
  )
  const out = await fx.ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn!] })
  )
  return out.serviceDeployments![0]
}

/** Steps simulated time until the current ServiceDeployment matches. */
async function until(
  fx: Fixture,
  test: (d: ServiceDeployment) => boolean,
  maxSimSeconds = 3600
): Promise<ServiceDeployment> {
  let last: ServiceDeployment | undefined
  await fx.sim.runUntil(async () => test((last = await current(fx))), {
    maxSimSeconds,
    stepMs: 5000
  })
  return last!
}

const ALARMS = {
  alarmNames: ['web-5xx', 'web-latency'],
  enable: true,
  rollback: true
}

describe('rolling with deployment alarms', () => {
  it('keeps the deployment IN_PROGRESS while alarms are watched after steady state, then SUCCESSFUL', async () => {
    const fx = await start({
      deployment: { alarms: ALARMS, bakeTimeInMinutes: 3 }
    })
    await fx.deploy(await fx.register('healthy:10s'))
    const monitoring = await until(
      fx,
      (d) =>
        d.targetServiceRevision?.runningTaskCount === 2 &&
        d.sourceServiceRevisions?.[0].runningTaskCount === 0
    )
    expect(monitoring).toMatchObject({
      status: 'IN_PROGRESS',
      alarms: { status: 'MONITORING', alarmNames: ['web-5xx', 'web-latency'] }
    })
    expect((await fx.service()).deployments?.[0].rolloutState).toBe(
      'IN_PROGRESS'
    )
    const steadyAt = fx.sim.now()
    const done = await until(fx, (d) => d.status === 'SUCCESSFUL')
    expect(fx.sim.now() - steadyAt).toBeGreaterThanOrEqual(180_000)
    expect(done.alarms?.status).toBe('MONITORING_COMPLETE')
    expect(done.finishedAt).toBeInstanceOf(Date)
    expect((await fx.service()).deployments?.[0].rolloutState).toBe('COMPLETED')
  })

  it('rolls back when an alarm fires after steady state, naming the alarm', async () => {
    const fx = await start({
      deployment: { alarms: ALARMS, bakeTimeInMinutes: 5 }
    })
    const v1 = (await fx.service()).taskDefinition
    await fx.deploy(await fx.register('healthy:10s'))
    await until(
      fx,
      (d) =>
        d.targetServiceRevision?.runningTaskCount === 2 &&
        d.sourceServiceRevisions?.[0].runningTaskCount === 0
    )
    fx.sim.advance(60_000)
    fx.sim.setAlarmState('web-latency', 'ALARM')
    const rolling = await until(fx, (d) => d.status !== 'IN_PROGRESS', 30)
    expect(rolling.status).toBe('ROLLBACK_IN_PROGRESS')
    expect(rolling.alarms).toMatchObject({
      status: 'TRIGGERED',
      triggeredAlarmNames: ['web-latency']
    })
    expect(rolling.rollback?.reason).toContain('web-latency')
    expect(rolling.rollback?.serviceRevisionArn).toBe(
      rolling.sourceServiceRevisions?.[0].arn
    )
    const back = await until(fx, (d) => d.status === 'ROLLBACK_SUCCESSFUL')
    expect(back.finishedAt).toBeInstanceOf(Date)
    expect((await fx.service()).taskDefinition).toBe(v1)
    expect(await fx.messages()).toContainEqual(
      expect.stringMatching(/deployment failed: alarm detected\.$/)
    )
  })
})

describe('blue/green, linear and canary', () => {
  it('blue/green walks the lifecycle stages, keeps blue through the bake, then cleans up', async () => {
    const fx = await start({
      deployment: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 2 }
    })
    await fx.deploy(await fx.register('healthy:10s'))
    const stages = new Set<string>()
    const baking = await until(fx, (d) => {
      if (d.lifecycleStage) stages.add(d.lifecycleStage)
      return d.lifecycleStage === 'BAKE_TIME'
    })
    expect(baking.targetServiceRevision).toMatchObject({
      runningTaskCount: 2,
      requestedProductionTrafficWeight: 100
    })
    expect(baking.sourceServiceRevisions?.[0].runningTaskCount).toBe(2)
    const bakeStart = fx.sim.now()
    const done = await until(fx, (d) => {
      if (d.lifecycleStage) stages.add(d.lifecycleStage)
      return d.status === 'SUCCESSFUL'
    })
    expect(fx.sim.now() - bakeStart).toBeGreaterThanOrEqual(120_000)
    expect([...stages]).toEqual([
      'PRE_SCALE_UP',
      'SCALE_UP',
      'POST_SCALE_UP',
      'TEST_TRAFFIC_SHIFT',
      'POST_TEST_TRAFFIC_SHIFT',
      'PRODUCTION_TRAFFIC_SHIFT',
      'POST_PRODUCTION_TRAFFIC_SHIFT',
      'BAKE_TIME',
      'CLEAN_UP'
    ])
    expect(done.sourceServiceRevisions?.[0].runningTaskCount).toBe(0)
    expect((await fx.service()).deployments).toHaveLength(1)
  })

  it('StopServiceDeployment(ROLLBACK) during the bake gives traffic back to blue without a new rollout', async () => {
    const fx = await start({
      deployment: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 }
    })
    const v1 = (await fx.service()).taskDefinition
    await fx.deploy(await fx.register('healthy:10s'))
    const baking = await until(fx, (d) => d.lifecycleStage === 'BAKE_TIME')
    await fx.ecs.send(
      new StopServiceDeploymentCommand({
        serviceDeploymentArn: baking.serviceDeploymentArn,
        stopType: 'ROLLBACK'
      })
    )
    const service = await fx.service()
    expect(service.taskDefinition).toBe(v1)
    expect(service.deployments?.[0].status).toBe('PRIMARY')
    expect(service.deployments?.[1].rolloutState).toBe('FAILED')
    const back = await until(fx, (d) => d.status === 'ROLLBACK_SUCCESSFUL', 120)
    expect(back.rollback?.reason).toBe(
      'Service deployment rolled back by user.'
    )
    await expect(
      fx.ecs.send(
        new StopServiceDeploymentCommand({
          serviceDeploymentArn: baking.serviceDeploymentArn,
          stopType: 'ROLLBACK'
        })
      )
    ).rejects.toMatchObject({ name: 'ConflictException' })
  })

  it('linear shifts production traffic in steps with a bake between them', async () => {
    const fx = await start({
      deployment: {
        strategy: 'LINEAR',
        bakeTimeInMinutes: 0,
        linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 1 }
      }
    })
    await fx.deploy(await fx.register('healthy:10s'))
    const weights: number[] = []
    await until(fx, (d) => {
      const w = d.targetServiceRevision?.requestedProductionTrafficWeight ?? 0
      if (
        d.lifecycleStage === 'PRODUCTION_TRAFFIC_SHIFT' &&
        weights.at(-1) !== w
      )
        weights.push(w)
      return d.status === 'SUCCESSFUL'
    })
    expect(weights).toEqual([25, 50, 75, 100])
  })

  it('canary shifts canaryPercent first, then the rest after the canary bake', async () => {
    const fx = await start({
      deployment: {
        strategy: 'CANARY',
        bakeTimeInMinutes: 0,
        canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 }
      }
    })
    await fx.deploy(await fx.register('healthy:10s'))
    const canary = await until(
      fx,
      (d) =>
        (d.targetServiceRevision?.requestedProductionTrafficWeight ?? 0) > 0
    )
    expect(canary.targetServiceRevision?.requestedProductionTrafficWeight).toBe(
      10
    )
    const at = fx.sim.now()
    await until(
      fx,
      (d) => d.targetServiceRevision?.requestedProductionTrafficWeight === 100
    )
    expect(fx.sim.now() - at).toBeGreaterThanOrEqual(120_000)
  })
})

describe('PAUSE lifecycle hooks', () => {
  const hooks = {
    strategy: 'BLUE_GREEN' as const,
    bakeTimeInMinutes: 0,
    lifecycleHooks: [
      {
        targetType: 'PAUSE' as const,
        lifecycleStages: ['POST_SCALE_UP' as const]
      }
    ]
  }

  it('waits at the stage until ContinueServiceDeployment(CONTINUE)', async () => {
    const fx = await start({ deployment: hooks })
    await fx.deploy(await fx.register('healthy:10s'))
    const paused = await until(fx, (d) => d.lifecycleStage === 'POST_SCALE_UP')
    expect(paused.lifecycleHookDetails).toEqual([
      expect.objectContaining({
        targetType: 'PAUSE',
        status: 'AWAITING_ACTION'
      })
    ])
    fx.sim.advance(600_000)
    expect((await current(fx)).lifecycleStage).toBe('POST_SCALE_UP')
    await fx.ecs.send(
      new ContinueServiceDeploymentCommand({
        serviceDeploymentArn: paused.serviceDeploymentArn,
        hookId: paused.lifecycleHookDetails![0].hookId,
        action: 'CONTINUE'
      })
    )
    const done = await until(fx, (d) => d.status === 'SUCCESSFUL')
    expect(done.lifecycleHookDetails?.[0].status).toBe('SUCCEEDED')
  })

  it('rolls back on ContinueServiceDeployment(ROLLBACK); a second answer is a ConflictException', async () => {
    const fx = await start({ deployment: hooks })
    await fx.deploy(await fx.register('healthy:10s'))
    const paused = await until(fx, (d) => d.lifecycleStage === 'POST_SCALE_UP')
    const answer = {
      serviceDeploymentArn: paused.serviceDeploymentArn,
      hookId: paused.lifecycleHookDetails![0].hookId,
      action: 'ROLLBACK' as const
    }
    await fx.ecs.send(new ContinueServiceDeploymentCommand(answer))
    const back = await until(fx, (d) => d.status === 'ROLLBACK_SUCCESSFUL', 120)
    expect(back.rollback?.reason).toContain('POST_SCALE_UP')
    await expect(
      fx.ecs.send(new ContinueServiceDeploymentCommand(answer))
    ).rejects.toMatchObject({ name: 'ConflictException' })
  })
})

describe('history and AZ rebalancing', () => {
  it('ListServiceDeployments lists newest first and filters by status', async () => {
    const fx = await start({})
    await fx.deploy(await fx.register('healthy:10s'))
    const all = await fx.ecs.send(
      new ListServiceDeploymentsCommand({ cluster: 'staging', service: 'web' })
    )
    expect(all.serviceDeployments?.map((d) => d.status)).toEqual([
      'PENDING',
      'SUCCESSFUL'
    ])
    await until(fx, (d) => d.status === 'SUCCESSFUL')
    const done = await fx.ecs.send(
      new ListServiceDeploymentsCommand({
        cluster: 'staging',
        service: 'web',
        status: ['SUCCESSFUL']
      })
    )
    expect(done.serviceDeployments).toHaveLength(2)
    await expect(
      fx.ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [] })
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
  })

  it('stops a healthy task with an AZ Rebalance event and replaces it', async () => {
    const fx = await start({})
    expect((await fx.service()).availabilityZoneRebalancing).toBe('ENABLED')
    const [arn] = fx.sim.rebalance('staging', 'web')
    expect(arn).toBeDefined()
    expect((await fx.messages())[0]).toMatch(
      /^web has stopped 1 tasks in Availability Zone us-east-1a to AZ Rebalance: /
    )
    await fx.sim.runUntil(
      async () =>
        (await fx.service()).runningCount === 2 &&
        (await fx.tasks({ desiredStatus: 'STOPPED' })).some(
          (t) => t.taskArn === arn
        )
    )
    const stopped = (await fx.tasks({ desiredStatus: 'STOPPED' })).find(
      (t) => t.taskArn === arn
    )
    expect(stopped).toMatchObject({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'AZ Rebalancing'
    })
  })
})
