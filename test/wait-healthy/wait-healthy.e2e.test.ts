import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'

/**
 * The built bundle against the ECS simulator. The action sleeps in real
 * time while the simulator runs SPEED times faster, so every duration input
 * is given in real seconds (sim seconds / SPEED) and assertions are made on
 * categories, reasons and simulated times.
 */
const SPEED = 60
const real = (simSeconds: number): string => `${simSeconds / SPEED}`
const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef'

let sim: EcsSimulator | undefined

beforeAll(() => {
  ensureBundle('wait-healthy')
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

interface Setup {
  behavior: string
  desired?: number
  /** ECS's own healthCheckGracePeriodSeconds (sim seconds). */
  ecsGrace?: number
  breaker?: boolean
}

/** A steady service `web` on v1, then an update to v2 with `behavior`. */
async function deploy(setup: Setup): Promise<{
  sim: EcsSimulator
  deploymentId: string
  taskDefinitionArn: string
}> {
  const s = await startEcsSimulator({ speed: SPEED })
  sim = s
  s.createCluster('prod')
  const container = (image: string, behavior?: string) => ({
    name: 'app',
    image,
    memory: 512,
    essential: true,
    ...(behavior && {
      environment: [{ name: 'SIM_BEHAVIOR', value: behavior }]
    })
  })
  s.registerTaskDefinition({
    family: 'web',
    containerDefinitions: [container('registry.example/web:v1', 'healthy:5s')]
  })
  s.createService({
    cluster: 'prod',
    serviceName: 'web',
    taskDefinition: 'web:1',
    desiredCount: setup.desired ?? 2,
    loadBalancers: [
      { targetGroupArn: TG, containerName: 'app', containerPort: 8000 }
    ],
    healthCheckGracePeriodSeconds: setup.ecsGrace ?? 0,
    deploymentConfiguration: {
      deploymentCircuitBreaker: {
        enable: setup.breaker ?? false,
        rollback: setup.breaker ?? false
      }
    },
    steady: true
  })
  const { taskDefinitionArn } = s.registerTaskDefinition({
    family: 'web',
    containerDefinitions: [container('registry.example/web:v2', setup.behavior)]
  })
  const { deploymentId } = s.updateService({
    cluster: 'prod',
    service: 'web',
    taskDefinition: taskDefinitionArn
  })
  return { sim: s, deploymentId, taskDefinitionArn }
}

async function wait(
  s: EcsSimulator,
  inputs: Record<string, string>
): Promise<ActionResult> {
  return runAction({
    action: 'wait-healthy',
    inputs: {
      cluster: 'prod',
      services: 'web',
      'poll-interval': `${real(6)}-${real(12)}`,
      'startup-grace': real(300),
      'stable-for': real(60),
      timeout: real(1080),
      ...inputs
    },
    env: s.env,
    timeoutMs: 25_000
  })
}

interface StoppedOut {
  taskArn: string
  stoppedAt?: string
  category?: string
}

function stopped(result: ActionResult): StoppedOut[] {
  return JSON.parse(result.outputs['stopped-tasks'] ?? '[]') as StoppedOut[]
}

describe('wait-healthy end to end (simulator at 60x)', () => {
  it('says healthy after a healthy rollout and the soak, with a summary', async () => {
    const d = await deploy({ behavior: 'healthy:20s' })
    const started = d.sim.now()
    const result = await wait(d.sim, {
      'deployment-id': d.deploymentId,
      'stable-for': real(60)
    })
    expect({ exit: result.exitCode, out: result.outputs.result }).toEqual({
      exit: 0,
      out: 'healthy'
    })
    expect(result.outputs['failure-category']).toBe('')
    // Rollout (~30 s) plus the 60 s soak, in simulated time.
    const simSeconds = (d.sim.now() - started) / 1000
    expect(simSeconds).toBeGreaterThanOrEqual(60)
    expect(result.summary).toMatch(/wait-healthy: healthy/)
    expect(result.summary).toMatch(/console\.aws\.amazon\.com\/ecs\/v2/)
    expect(result.stdout).toMatch(/PRIMARY web:2 desired 2 running/)
    const perService = JSON.parse(result.outputs.results) as {
      deploymentId: string
    }[]
    expect(perService[0].deploymentId).toBe(d.deploymentId)
  }, 30_000)

  it('passes a slow start that becomes healthy after 8 of 10 grace minutes', async () => {
    const d = await deploy({ behavior: 'slow-start:8m', ecsGrace: 600 })
    const started = d.sim.now()
    const result = await wait(d.sim, {
      'task-definition': d.taskDefinitionArn,
      'startup-grace': real(600),
      'stable-for': real(30)
    })
    expect(result.outputs.result).toBe('healthy')
    const simSeconds = (d.sim.now() - started) / 1000
    expect(simSeconds).toBeGreaterThanOrEqual(8 * 60)
  }, 30_000)

  it('fails an OOM crash loop as oom within one poll of the budget being spent', async () => {
    const d = await deploy({ behavior: 'oom:30s' })
    const result = await wait(d.sim, {
      'startup-grace': real(600),
      'startup-failure-budget': '2'
    })
    const ended = d.sim.now()
    expect(result.exitCode).toBe(1)
    expect(result.outputs['failure-category']).toBe('oom')
    expect(result.outputs['failure-reason']).toMatch(
      /container app .*memory limit 512 MiB/
    )
    expect(messages(result, 'error')[0]).toMatch(/^failed \(oom\)/)
    const tasks = stopped(result)
    expect(tasks.every((t) => t.category === 'oom')).toBe(true)
    // Budget 2: the third OOM spends it. Two tasks run side by side, so
    // the poll that sees the third may also see its twin, but never a
    // later one.
    const times = tasks.map((t) => Date.parse(t.stoppedAt ?? '')).sort()
    expect(tasks.length).toBeGreaterThanOrEqual(3)
    const spentAt = times[2]
    expect(times.every((x) => x <= spentAt)).toBe(true)
    // One poll is ≤ 12 sim s; allow a real second (60 sim s) for the
    // child to exit and the harness to read its files.
    expect((ended - spentAt) / 1000).toBeLessThan(12 + 60)
    expect(result.summary).toMatch(/### Stopped tasks/)
    expect(result.summary).toMatch(/app exit 137: OutOfMemoryError/)
  }, 30_000)

  it('fails on health checks after the grace, naming target group and codes', async () => {
    const d = await deploy({ behavior: 'unhealthy' })
    const result = await wait(d.sim, {
      'startup-grace': real(120),
      'startup-failure-budget': '50'
    })
    expect(result.outputs['failure-category']).toBe('health-check')
    expect(result.outputs['failure-reason']).toContain(`target group ${TG}`)
    expect(result.outputs['failure-reason']).toMatch(
      /status codes \[502\].*strict phase, budget 0/
    )
    expect(result.stdout).toMatch(/startup grace over/)
    // Failures during grace were tolerated, so more than one was seen.
    expect(stopped(result).length).toBeGreaterThan(1)
  }, 30_000)

  it('fails at once on an image that cannot be pulled', async () => {
    const d = await deploy({ behavior: 'pull-error' })
    d.sim.clearRequestLog()
    const result = await wait(d.sim, { 'startup-failure-budget': '50' })
    expect(result.outputs['failure-category']).toBe('image-pull')
    expect(result.outputs['failure-reason']).toMatch(/CannotPullContainerError/)
    // The first poll that sees a stopped task decides, whatever the budget:
    // the input check plus at most two polls.
    const polls = d.sim.requestLog.filter(
      (r) => r.operation === 'DescribeServices'
    )
    expect(polls.length).toBeLessThanOrEqual(3)
  }, 30_000)

  it('reports a circuit-breaker rollback as rolled-back', async () => {
    const d = await deploy({ behavior: 'crash:5s:exit=3', breaker: true })
    const result = await wait(d.sim, {
      'deployment-id': d.deploymentId,
      'startup-failure-budget': '50'
    })
    expect(result.outputs['failure-category']).toBe('rolled-back')
    expect(result.outputs['failure-reason']).toMatch(/circuit breaker/)
    expect(result.outputs['failure-reason']).toMatch(/PRIMARY is web:1/)
    expect(result.outputs['failure-reason']).toMatch(/app exit 3/)
  }, 30_000)

  it('fails a deployment that turns unhealthy during the soak', async () => {
    const d = await deploy({ behavior: 'healthy:10s,healthy-then-fail:90s' })
    const result = await wait(d.sim, { 'stable-for': real(300) })
    expect(result.outputs.result).toBe('failed')
    expect(result.outputs['failure-category']).toBe('health-check')
    expect(result.stdout).toMatch(/steady; soaking/)
  }, 30_000)

  it('gets through a throttling storm to a verdict', async () => {
    const d = await deploy({ behavior: 'healthy:20s' })
    const running = wait(d.sim, { 'stable-for': real(60) })
    // The storm starts once the watch polls (not during the input check)
    // and lasts three simulated minutes (3 real seconds).
    await d.sim.runUntil(
      () => d.sim!.requestLog.some((r) => r.operation === 'ListTasks'),
      { maxSimSeconds: 600 }
    )
    d.sim.setFaults({ throttleRate: 0.6, seed: 7 })
    await new Promise((resolve) => setTimeout(resolve, 3000))
    d.sim.setFaults({})
    const result = await running
    expect(result.outputs.result).toBe('healthy')
    const throttled = d.sim.requestLog.filter((r) => r.fault === 'throttle')
    expect(throttled.length).toBeGreaterThan(0)
  }, 30_000)
})

describe('wait-healthy bad input (no waiting)', () => {
  it.each([
    [{ services: 'nope' }, /Input "services": service "nope" not found/],
    [
      { 'deployment-id': 'ecs-svc/123' },
      /Input "deployment-id": deployment "ecs-svc\/123" is not on service "web"/
    ],
    [{ cluster: 'ghost' }, /Input "cluster": cluster "ghost" not found/],
    [{ 'stable-for': 'soon' }, /Input "stable-for" has "soon"/],
    [
      { 'stable-for': '10m', timeout: '5m' },
      /Input "stable-for" \(10m\) is longer than input "timeout" \(5m\)/
    ]
  ])(
    '%j is refused with a clear error',
    async (inputs, error) => {
      const d = await deploy({ behavior: 'healthy:20s' })
      d.sim.clearRequestLog()
      const result = await wait(d.sim, inputs as Record<string, string>)
      expect(result.exitCode).toBe(1)
      expect(messages(result, 'error').join('\n')).toMatch(error)
      expect(result.outputs.result).toBeUndefined()
      // At most the one DescribeServices that checked the targets.
      expect(
        d.sim.requestLog.filter((r) => r.operation !== 'DescribeServices')
      ).toHaveLength(0)
      expect(result.durationMs).toBeLessThan(10_000)
    },
    30_000
  )
})
