/**
 * The wait benchmark's scenarios where ECS itself has the last word: an
 * alarm rollback after steady state, and blue/green deployments with a
 * bake. Each contender's verdict is compared with ECS's own final state
 * (the service deployment's `finishedAt`), in simulated seconds.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  waitUntilServicesStable,
  type DeploymentConfiguration,
  type ServiceDeployment
} from '@aws-sdk/client-ecs'
import { systemClock } from '../src/common/clock.js'
import { watchDeployments } from '../src/ecs/deployment-watcher.js'
import type { HealthPolicy } from '../src/ecs/types.js'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../test/support/ecs-sim/index.js'
import { client, inSimTime } from './sim-time.js'

const START = Date.UTC(2026, 0, 1)
const ALARMS = { alarmNames: ['web-5xx'], enable: true, rollback: true }

interface StrategyScenario {
  name: string
  config: Omit<
    DeploymentConfiguration,
    'deploymentCircuitBreaker' | 'maximumPercent' | 'minimumHealthyPercent'
  >
  expect: 'healthy' | 'failed'
  /** When to set the alarm, given ECS's record of the deployment. */
  fireAlarm?: (sd: ServiceDeployment, since: number) => boolean
}

const SCENARIOS: StrategyScenario[] = [
  {
    name: 'alarm-rollback-after-steady',
    config: { alarms: ALARMS, bakeTimeInMinutes: 10 },
    expect: 'failed',
    // Two minutes into the alarm watch that follows steady state.
    fireAlarm: (sd, since) =>
      sd.sourceServiceRevisions?.[0]?.runningTaskCount === 0 &&
      (sd.targetServiceRevision?.runningTaskCount ?? 0) === 2 &&
      since >= 120
  },
  {
    name: 'blue-green-success-after-bake',
    config: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 },
    expect: 'healthy'
  },
  {
    name: 'blue-green-alarm-rollback-in-bake',
    config: { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10, alarms: ALARMS },
    expect: 'failed',
    fireAlarm: (sd, since) => sd.lifecycleStage === 'BAKE_TIME' && since >= 60
  }
]

async function setUp(
  s: StrategyScenario
): Promise<{ sim: EcsSimulator; deploymentId: string }> {
  const sim = await startEcsSimulator({ speed: 0, startTime: START, seed: 1 })
  sim.createCluster('prod')
  const td = (tag: string) =>
    sim.registerTaskDefinition({
      family: 'web',
      containerDefinitions: [
        {
          name: 'app',
          image: `registry.example/web:${tag}`,
          memory: 512,
          environment: [{ name: 'SIM_BEHAVIOR', value: 'healthy:20s' }]
        }
      ]
    })
  td('v1')
  sim.createService({
    cluster: 'prod',
    serviceName: 'web',
    taskDefinition: 'web:1',
    desiredCount: 2,
    deploymentConfiguration: s.config,
    steady: true
  })
  const { deploymentId } = sim.updateService({
    cluster: 'prod',
    service: 'web',
    taskDefinition: td('v2').taskDefinitionArn
  })
  sim.clearRequestLog()
  return { sim, deploymentId }
}

async function latest(sim: EcsSimulator): Promise<ServiceDeployment> {
  const ecs = client(sim)
  const list = await ecs.send(
    new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' })
  )
  const arn = list.serviceDeployments?.[0]?.serviceDeploymentArn ?? ''
  const out = await ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] })
  )
  ecs.destroy()
  return out.serviceDeployments?.[0] ?? {}
}

/** Sets the alarm once the scenario's moment has come (checked as time moves). */
function alarmScript(sim: EcsSimulator, s: StrategyScenario) {
  let firedAt: number | undefined
  let since: number | undefined
  return {
    firedAt: () => firedAt,
    async onAdvance(): Promise<void> {
      if (!s.fireAlarm || firedAt !== undefined) return
      const sd = await latest(sim)
      since ??= sim.now()
      if (s.fireAlarm(sd, (sim.now() - since) / 1000)) {
        sim.setAlarmState('web-5xx', 'ALARM')
        firedAt = (sim.now() - START) / 1000
      }
    }
  }
}

interface Contender {
  verdict: string
  reason?: string
  verdictAtSeconds: number
}

/** Runs ECS to its final state after a contender, then reads it. */
async function ecsFinal(
  sim: EcsSimulator,
  script: { onAdvance(): Promise<void> }
): Promise<{ status?: string; finishedAtSeconds?: number }> {
  // The scenario's alarm still fires on time after a contender gave up.
  await sim.runUntil(
    async () => {
      await script.onAdvance()
      return !!(await latest(sim)).finishedAt
    },
    {
      maxSimSeconds: 7200,
      stepMs: 5000
    }
  )
  const sd = await latest(sim)
  return {
    status: sd.status,
    finishedAtSeconds: sd.finishedAt
      ? (sd.finishedAt.getTime() - START) / 1000
      : undefined
  }
}

async function run(
  s: StrategyScenario,
  contender: (sim: EcsSimulator, deploymentId: string) => Promise<Contender>
) {
  const { sim, deploymentId } = await setUp(s)
  const script = alarmScript(sim, s)
  const result = await inSimTime(
    sim,
    () => contender(sim, deploymentId),
    () => script.onAdvance()
  )
  const ecs = await ecsFinal(sim, script)
  await sim.stop()
  const lag =
    ecs.finishedAtSeconds === undefined
      ? undefined
      : Math.round((result.verdictAtSeconds - ecs.finishedAtSeconds) * 10) / 10
  return {
    ...result,
    ecsFinalStatus: ecs.status,
    ecsFinishedAtSeconds: ecs.finishedAtSeconds,
    alarmSetAtSeconds: script.firedAt(),
    lagBehindEcsFinalSeconds: lag,
    falseHealthy:
      result.verdict === 'healthy' &&
      (s.expect === 'failed' ||
        (ecs.finishedAtSeconds ?? Infinity) > result.verdictAtSeconds)
  }
}

function watcher(policy: HealthPolicy) {
  return async (sim: EcsSimulator, deploymentId: string) => {
    const ecs = client(sim)
    const [r] = await watchDeployments(
      [{ cluster: 'prod', service: 'web', deploymentId, policy }],
      { ecs, clock: systemClock }
    )
    ecs.destroy()
    return {
      verdict: r.result,
      reason: r.failureReason,
      verdictAtSeconds: (sim.now() - START) / 1000
    }
  }
}

function sdkWaiter(waiter: {
  minDelay: number
  maxDelay: number
  maxWaitTime: number
}) {
  return async (sim: EcsSimulator, deploymentId: string) => {
    const ecs = client(sim)
    let verdict = 'healthy'
    let reason: string | undefined
    try {
      await waitUntilServicesStable(
        { client: ecs, ...waiter },
        { cluster: 'prod', services: ['web'] }
      )
      // The deploy action's check after the waiter (PR #860).
      const out = await ecs.send(
        new DescribeServicesCommand({ cluster: 'prod', services: ['web'] })
      )
      const ours = out.services?.[0]?.deployments?.find(
        (d) => d.id === deploymentId
      )
      if (!ours || ours.rolloutState === 'FAILED') {
        verdict = 'failed'
        reason = 'deployment gone or FAILED after the waiter'
      }
    } catch (error) {
      verdict = 'failed'
      reason = String(error)
    }
    ecs.destroy()
    return { verdict, reason, verdictAtSeconds: (sim.now() - START) / 1000 }
  }
}

/** One row per scenario: both contenders against ECS's own final state. */
export async function strategyRows(
  policy: HealthPolicy,
  waiter: { minDelay: number; maxDelay: number; maxWaitTime: number }
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = []
  for (const s of SCENARIOS) {
    const w = await run(s, watcher(policy))
    const sdk = await run(s, sdkWaiter(waiter))
    rows.push({
      scenario: s.name,
      expected: s.expect,
      lagMeasuredFrom: "ECS's final state: the service deployment's finishedAt",
      watcher: w,
      sdkWaiter: sdk
    })
    console.log(
      `${s.name.padEnd(34)} watcher ${w.verdict} at ${w.verdictAtSeconds}s (ECS ${w.ecsFinalStatus} at ${w.ecsFinishedAtSeconds}s, lag ${w.lagBehindEcsFinalSeconds}s${w.falseHealthy ? ', FALSE HEALTHY' : ''}) | waiter ${sdk.verdict} at ${sdk.verdictAtSeconds}s (ECS ${sdk.ecsFinalStatus} at ${sdk.ecsFinishedAtSeconds}s, lag ${sdk.lagBehindEcsFinalSeconds}s${sdk.falseHealthy ? ', FALSE HEALTHY' : ''})`
    )
  }
  return rows
}
