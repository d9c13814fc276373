import type { DeploymentConfiguration } from '@aws-sdk/client-ecs'
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'
import { runAction, type ActionResult } from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'

/**
 * wait-healthy's built bundle against the simulator's service deployments:
 * alarms, blue/green, linear, canary, PAUSE hooks and AZ rebalancing. The
 * simulator runs SPEED times faster than the action's real clock, so
 * duration inputs are real seconds (sim seconds / SPEED).
 */
const SPEED = 60
const real = (simSeconds: number): string => `${simSeconds / SPEED}`
const ALARMS = { alarmNames: ['web-5xx'], enable: true, rollback: true }

let sim: EcsSimulator | undefined

beforeAll(() => {
  ensureBundle('wait-healthy')
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

type Config = Omit<
  DeploymentConfiguration,
  'deploymentCircuitBreaker' | 'maximumPercent' | 'minimumHealthyPercent'
>

/** A steady service `web` on v1 with `config`, updated to v2 with `behavior`. */
async function deploy(
  config: Config,
  behavior = 'healthy:10s'
): Promise<EcsSimulator> {
  const s = await startEcsSimulator({ speed: SPEED })
  sim = s
  s.createCluster('prod')
  const container = (tag: string, b: string) => ({
    name: 'app',
    image: `registry.example/web:${tag}`,
    memory: 512,
    environment: [{ name: 'SIM_BEHAVIOR', value: b }]
  })
  s.registerTaskDefinition({
    family: 'web',
    containerDefinitions: [container('v1', 'healthy:5s')]
  })
  s.createService({
    cluster: 'prod',
    serviceName: 'web',
    taskDefinition: 'web:1',
    desiredCount: 2,
    deploymentConfiguration: config,
    steady: true
  })
  s.registerTaskDefinition({
    family: 'web',
    containerDefinitions: [container('v2', behavior)]
  })
  s.updateService({ cluster: 'prod', service: 'web', taskDefinition: 'web:2' })
  return s
}

function wait(
  s: EcsSimulator,
  inputs: Record<string, string> = {}
): Promise<ActionResult> {
  return runAction({
    action: 'wait-healthy',
    inputs: {
      cluster: 'prod',
      services: 'web',
      'poll-interval': `${real(5)}-${real(10)}`,
      'startup-grace': real(120),
      'stable-for': real(60),
      timeout: real(900),
      ...inputs
    },
    env: s.env,
    timeoutMs: 25_000
  })
}

/** The current ServiceDeployment, through the simulator's own API. */
async function current(s: EcsSimulator): Promise<Record<string, unknown>> {
  const arn = s.service('prod', 'web')?.currentServiceDeployment
  const out = await fetch(s.url, {
    method: 'POST',
    headers: {
      'x-amz-target':
        'AmazonEC2ContainerServiceV20141113.DescribeServiceDeployments',
      'content-type': 'application/x-amz-json-1.1'
    },
    body: JSON.stringify({ serviceDeploymentArns: [arn] })
  })
  const body = (await out.json()) as {
    serviceDeployments: Record<string, unknown>[]
  }
  return body.serviceDeployments[0]
}

/** ECS's SUCCESSFUL is logged before the action's HEALTHY verdict. */
function healthyAfterEcs(result: ActionResult): void {
  expect({ exit: result.exitCode, out: result.outputs.result }).toEqual({
    exit: 0,
    out: 'healthy'
  })
  const ecsDone = result.stdout.indexOf('ECS SUCCESSFUL')
  expect(ecsDone).toBeGreaterThan(-1)
  expect(result.stdout.indexOf('web: HEALTHY')).toBeGreaterThan(ecsDone)
}

describe('wait-healthy with ECS service deployments (simulator at 60x)', () => {
  it('stays waiting through the alarm watch after steady state, healthy only once ECS says SUCCESSFUL', async () => {
    const s = await deploy({ alarms: ALARMS, bakeTimeInMinutes: 4 })
    const result = await wait(s)
    healthyAfterEcs(result)
    expect(result.stdout).toMatch(/ECS IN_PROGRESS, alarms MONITORING/)
    expect(result.stdout).toMatch(/soak passed; waiting for ECS/)
    expect((await current(s)).status).toBe('SUCCESSFUL')
  }, 30_000)

  it('reports an alarm rollback after steady state as rolled-back, naming the alarm', async () => {
    const s = await deploy({ alarms: ALARMS, bakeTimeInMinutes: 10 })
    const running = wait(s)
    // Fire only once the action is watching, after steady state.
    await s.runUntil(
      () =>
        s.requestLog.some(
          (r) => r.operation === 'DescribeServiceDeployments'
        ) && (s.service('prod', 'web')?.deployments.length ?? 0) === 1
    )
    s.advance(30_000)
    s.setAlarmState('web-5xx', 'ALARM')
    const result = await running
    expect(result.exitCode).toBe(1)
    expect(result.outputs['failure-category']).toBe('rolled-back')
    expect(result.outputs['failure-reason']).toMatch(
      /ECS rolled back the ROLLING deployment \(ROLLBACK_(IN_PROGRESS|SUCCESSFUL)\): alarm\(s\) web-5xx in ALARM/
    )
  }, 30_000)

  it('blue/green: healthy after the bake, with the stages in the log', async () => {
    const s = await deploy({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 2 })
    const result = await wait(s)
    healthyAfterEcs(result)
    expect(result.stdout).toMatch(/stage BAKE_TIME, traffic 100%/)
    expect(result.stdout).toMatch(/stage CLEAN_UP/)
  }, 30_000)

  it('blue/green: an alarm during the bake rolls back to blue, and the reason names it', async () => {
    const s = await deploy({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 10,
      alarms: ALARMS
    })
    const running = wait(s)
    await s.runUntil(
      async () => (await current(s)).lifecycleStage === 'BAKE_TIME'
    )
    s.setAlarmState('web-5xx', 'ALARM')
    const result = await running
    expect(result.outputs['failure-category']).toBe('rolled-back')
    expect(result.outputs['failure-reason']).toMatch(
      /ECS rolled back the BLUE_GREEN deployment .*web-5xx/
    )
    await s.runUntil(
      async () => (await current(s)).status === 'ROLLBACK_SUCCESSFUL'
    )
    expect(s.service('prod', 'web')?.taskDefinition).toMatch(/web:1$/)
  }, 30_000)

  it('linear and canary: traffic steps are logged and the verdict waits for the last', async () => {
    const linear = await deploy({
      strategy: 'LINEAR',
      bakeTimeInMinutes: 0,
      linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 1 }
    })
    const l = await wait(linear)
    healthyAfterEcs(l)
    expect(l.stdout).toMatch(/traffic 50%/)
    await linear.stop()
    const canary = await deploy({
      strategy: 'CANARY',
      bakeTimeInMinutes: 0,
      canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 }
    })
    const c = await wait(canary)
    healthyAfterEcs(c)
    expect(c.stdout).toMatch(/traffic 10%/)
  }, 40_000)

  it('answers a PAUSE hook at POST_SCALE_UP with CONTINUE once the new revision soaked healthy', async () => {
    const s = await deploy({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 0,
      lifecycleHooks: [
        { targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }
      ]
    })
    const result = await wait(s, { 'lifecycle-hook-stages': 'POST_SCALE_UP' })
    healthyAfterEcs(result)
    expect(result.stdout).toMatch(
      /ContinueServiceDeployment CONTINUE at POST_SCALE_UP/
    )
    const sd = await current(s)
    expect(sd.lifecycleHookDetails).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED' })
    ])
  }, 30_000)

  it('answers the hook with ROLLBACK when the new revision fails while ECS waits', async () => {
    const s = await deploy(
      {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 0,
        lifecycleHooks: [
          { targetType: 'PAUSE', lifecycleStages: ['POST_SCALE_UP'] }
        ]
      },
      'healthy:10s,oom:90s'
    )
    const result = await wait(s, {
      'lifecycle-hook-stages': 'POST_SCALE_UP',
      'stable-for': real(180)
    })
    expect(result.outputs['failure-category']).toBe('oom')
    expect(result.stdout).toMatch(
      /ContinueServiceDeployment ROLLBACK at POST_SCALE_UP/
    )
    await s.runUntil(
      async () => (await current(s)).status === 'ROLLBACK_SUCCESSFUL'
    )
  }, 30_000)

  it('does not count a task ECS stops to rebalance AZs during the soak', async () => {
    const s = await deploy({})
    const running = wait(s, { 'stable-for': real(120) })
    await s.runUntil(async () => (await current(s)).status === 'SUCCESSFUL')
    s.advance(10_000)
    const [arn] = s.rebalance('prod', 'web')
    expect(arn).toBeDefined()
    const result = await running
    expect(result.outputs.result).toBe('healthy')
    expect(result.stdout).toMatch(/stopped by AZ rebalancing; not a failure/)
    expect(result.outputs['stopped-tasks']).not.toContain(arn.split('/').pop())
  }, 30_000)
})
