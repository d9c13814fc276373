/**
 * `npm run bench:wait`: the deployment watcher against the SDK's
 * services-stable waiter, called as aws-actions/amazon-ecs-deploy-task-definition
 * calls it, on the same simulated ECS and the same simulated clock.
 *
 * How both run on simulated time: the simulator's clock is manual (speed 0)
 * and, while a contender runs, this process's `Date.now` reads it and every
 * `setTimeout` of 50 ms or more is virtual: it fires, in due order, once no
 * ECS request is in flight, after moving the simulator forward to its due
 * time. Both contenders run their own unmodified code on these globals: the
 * SDK waiter its jittered backoff (`@smithy` `sleep` is a `setTimeout`), the
 * watcher `systemClock`. Every figure is in simulated seconds.
 */
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  waitUntilServicesStable
} from '@aws-sdk/client-ecs'
import { mkdirSync, writeFileSync } from 'node:fs'
import { systemClock } from '../src/common/clock.js'
import { watchDeployments } from '../src/ecs/deployment-watcher.js'
import type { HealthPolicy, WatchResult } from '../src/ecs/types.js'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../test/support/ecs-sim/index.js'
import { client, inSimTime } from './sim-time.js'
import { strategyRows } from './wait-strategies.js'

const START = Date.UTC(2026, 0, 1)
const TG =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef'
const POLICY: HealthPolicy = {
  startupGraceSeconds: 600,
  startupFailureBudget: 2,
  failureBudget: 0,
  stableForSeconds: 60,
  timeoutSeconds: 1800
}
/** As the deploy action calls it: minDelay 15, action.yml's maxDelay 120, 30 min. */
const WAITER = { minDelay: 15, maxDelay: 120, maxWaitTime: 30 * 60 }

interface Scenario {
  name: string
  behavior: string
  ecsGrace?: number
  breaker?: boolean
  services?: number
  /** What a correct verdict is. */
  expect: 'healthy' | 'failed'
  /** No retry can fix it: measure from the first failed task. */
  fatal?: boolean
}

const SCENARIOS: Scenario[] = [
  { name: 'healthy-rollout', behavior: 'healthy:20s', expect: 'healthy' },
  {
    name: 'slow-start-8m-of-10m-grace',
    behavior: 'slow-start:8m',
    ecsGrace: 600,
    expect: 'healthy'
  },
  { name: 'oom-crash-loop', behavior: 'oom:30s', expect: 'failed' },
  {
    name: 'circuit-breaker-rollback',
    behavior: 'crash:5s:exit=3',
    breaker: true,
    expect: 'failed'
  },
  {
    name: 'image-pull-failure',
    behavior: 'pull-error',
    expect: 'failed',
    fatal: true
  },
  { name: 'health-checks-failing', behavior: 'unhealthy', expect: 'failed' },
  {
    name: 'ten-flavors-healthy',
    behavior: 'healthy:20s',
    services: 10,
    expect: 'healthy'
  }
]

async function setUp(
  s: Scenario
): Promise<{ sim: EcsSimulator; services: string[]; deployments: string[] }> {
  const sim = await startEcsSimulator({ speed: 0, startTime: START, seed: 1 })
  sim.createCluster('prod')
  const services = Array.from({ length: s.services ?? 1 }, (_, i) =>
    s.services ? `flavor-${i}` : 'web'
  )
  const deployments: string[] = []
  for (const name of services) {
    const td = (image: string, behavior: string) =>
      sim.registerTaskDefinition({
        family: name,
        containerDefinitions: [
          {
            name: 'app',
            image,
            memory: 512,
            essential: true,
            environment: [{ name: 'SIM_BEHAVIOR', value: behavior }]
          }
        ]
      })
    td('registry.example/web:v1', 'healthy:5s')
    sim.createService({
      cluster: 'prod',
      serviceName: name,
      taskDefinition: `${name}:1`,
      desiredCount: 2,
      loadBalancers: [
        { targetGroupArn: TG, containerName: 'app', containerPort: 8000 }
      ],
      healthCheckGracePeriodSeconds: s.ecsGrace ?? 0,
      deploymentConfiguration: {
        deploymentCircuitBreaker: {
          enable: !!s.breaker,
          rollback: !!s.breaker
        }
      },
      steady: true
    })
    const { taskDefinitionArn } = td('registry.example/web:v2', s.behavior)
    deployments.push(
      sim.updateService({
        cluster: 'prod',
        service: name,
        taskDefinition: taskDefinitionArn
      }).deploymentId
    )
  }
  sim.clearRequestLog()
  return { sim, services, deployments }
}

interface Markers {
  /** Sim seconds after the update when the new deployment went steady. */
  steadyAt?: number
  /** When the startup budget was spent: the (budget+1)-th failed task. */
  budgetSpentAt?: number
  /** When the circuit breaker failed the deployment. */
  breakerAt?: number
  /** The first failed task: when a fatal cause (image pull) is knowable. */
  firstFailureAt?: number
}

/** Reads what happened from ECS itself, after the contender finished. */
async function markers(
  sim: EcsSimulator,
  service: string,
  deploymentId: string
): Promise<Markers> {
  const ecs = client(sim)
  const rel = (d: Date | number | undefined): number | undefined =>
    d === undefined ? undefined : (new Date(d).getTime() - START) / 1000
  const out = await ecs.send(
    new DescribeServicesCommand({ cluster: 'prod', services: [service] })
  )
  const events = out.services?.[0]?.events ?? []
  const completed = events.find((e) =>
    e.message?.includes(`(deployment ${deploymentId}) deployment completed`)
  )
  const failed = events.find((e) =>
    e.message?.includes(`(deployment ${deploymentId}) deployment failed`)
  )
  const arns =
    (
      await ecs.send(
        new ListTasksCommand({
          cluster: 'prod',
          serviceName: service,
          desiredStatus: 'STOPPED'
        })
      )
    ).taskArns ?? []
  const tasks = arns.length
    ? ((
        await ecs.send(
          new DescribeTasksCommand({ cluster: 'prod', tasks: arns })
        )
      ).tasks ?? [])
    : []
  const failures = tasks
    .filter(
      (t) =>
        t.startedBy === deploymentId &&
        !/Scaling activity/.test(t.stoppedReason ?? '')
    )
    .map((t) => rel(t.stoppedAt) ?? 0)
    .sort((a, b) => a - b)
  ecs.destroy()
  return {
    steadyAt: rel(completed?.createdAt),
    budgetSpentAt: failures[POLICY.startupFailureBudget],
    firstFailureAt: failures[0],
    breakerAt: rel(failed?.createdAt)
  }
}

interface Run {
  verdict: string
  category?: string
  verdictAt: number
  apiCalls: number
  callsPerServicePerMinute: number
  markers: Markers
}

function apiFigures(sim: EcsSimulator, services: number, seconds: number) {
  const calls = sim.requestLog.length
  return {
    apiCalls: calls,
    callsPerServicePerMinute:
      Math.round((calls / services / Math.max(seconds / 60, 1 / 60)) * 10) / 10
  }
}

async function runWatcher(s: Scenario): Promise<Run> {
  const { sim, services, deployments } = await setUp(s)
  const ecs = client(sim)
  const results: WatchResult[] = await inSimTime(sim, () =>
    watchDeployments(
      services.map((service, i) => ({
        cluster: 'prod',
        service,
        deploymentId: deployments[i],
        policy: POLICY
      })),
      { ecs, clock: systemClock }
    )
  )
  const verdictAt = (sim.now() - START) / 1000
  const api = apiFigures(sim, services.length, verdictAt)
  const bad = results.find((r) => r.result !== 'healthy')
  const m = await markers(sim, services[0], deployments[0])
  ecs.destroy()
  await sim.stop()
  return {
    verdict: bad?.result ?? 'healthy',
    category: bad?.failureCategory,
    verdictAt,
    ...api,
    markers: m
  }
}

async function runWaiter(s: Scenario): Promise<Run> {
  const { sim, services, deployments } = await setUp(s)
  const ecs = client(sim)
  let verdict: string
  let category: string | undefined
  try {
    await inSimTime(sim, () =>
      waitUntilServicesStable(
        { client: ecs, ...WAITER },
        { cluster: 'prod', services }
      )
    )
    // What the deploy action does after the waiter (PR #860): is our
    // deployment still there and not FAILED?
    const out = await ecs.send(
      new DescribeServicesCommand({ cluster: 'prod', services })
    )
    const lost = out.services?.some(
      (svc, i) =>
        !svc.deployments?.some(
          (d) => d.id === deployments[i] && d.rolloutState !== 'FAILED'
        )
    )
    verdict = lost ? 'failed' : 'healthy'
    category = lost ? 'rolled-back (found after the waiter)' : undefined
  } catch (error) {
    verdict = 'failed'
    category = /timed out/i.test(String(error))
      ? 'timeout'
      : (error as Error).name
  }
  const verdictAt = (sim.now() - START) / 1000
  const api = apiFigures(sim, services.length, verdictAt)
  const m = await markers(sim, services[0], deployments[0])
  ecs.destroy()
  await sim.stop()
  return { verdict, category, verdictAt, ...api, markers: m }
}

function lag(run: Run, s: Scenario, soak: number): number | undefined {
  const m = run.markers
  if (s.expect === 'healthy') {
    return m.steadyAt === undefined
      ? undefined
      : run.verdictAt - (m.steadyAt + soak)
  }
  const from = s.fatal ? m.firstFailureAt : (m.budgetSpentAt ?? m.breakerAt)
  return from === undefined ? undefined : run.verdictAt - from
}

const round = (x: number | undefined): number | undefined =>
  x === undefined ? undefined : Math.round(x * 10) / 10

const rows: Record<string, unknown>[] = []
for (const s of SCENARIOS) {
  const watcher = await runWatcher(s)
  const waiter = await runWaiter(s)
  const watcherLag = lag(watcher, s, POLICY.stableForSeconds)
  const waiterLag = lag(waiter, s, 0)
  const row = {
    scenario: s.name,
    services: s.services ?? 1,
    expected: s.expect,
    lagMeasuredFrom:
      s.expect === 'healthy'
        ? 'steady state (+ 60 s soak for the watcher; the waiter has none)'
        : s.fatal
          ? 'first failed task (the cause is fatal)'
          : 'failure budget spent (3rd failed task), else circuit breaker FAILED',
    watcher: {
      verdict: watcher.verdict,
      category: watcher.category,
      verdictAtSeconds: round(watcher.verdictAt),
      lagSeconds: round(watcherLag),
      apiCalls: watcher.apiCalls,
      callsPerServicePerMinute: watcher.callsPerServicePerMinute
    },
    sdkWaiter: {
      verdict: waiter.verdict,
      category: waiter.category,
      verdictAtSeconds: round(waiter.verdictAt),
      lagSeconds: round(waiterLag),
      apiCalls: waiter.apiCalls,
      callsPerServicePerMinute: waiter.callsPerServicePerMinute
    },
    markers: watcher.markers,
    lagRatioWaiterOverWatcher:
      watcherLag !== undefined && waiterLag !== undefined
        ? round(waiterLag / Math.max(watcherLag, 1))
        : undefined
  }
  rows.push(row)
  console.log(
    `${s.name.padEnd(28)} watcher ${watcher.verdict}${watcher.category ? `/${watcher.category}` : ''} at ${round(watcher.verdictAt)}s (lag ${round(watcherLag)}s, ${watcher.callsPerServicePerMinute} calls/svc/min) | waiter ${waiter.verdict}${waiter.category ? `/${waiter.category}` : ''} at ${round(waiter.verdictAt)}s (lag ${round(waiterLag)}s, ${waiter.callsPerServicePerMinute} calls/svc/min) | ratio ${row.lagRatioWaiterOverWatcher ?? '-'}`
  )
}

const healthy = rows.find((r) => r.scenario === 'healthy-rollout') as {
  watcher: { lagSeconds: number }
}
const oom = rows.find((r) => r.scenario === 'oom-crash-loop') as {
  lagRatioWaiterOverWatcher: number
}
const ten = rows.find((r) => r.scenario === 'ten-flavors-healthy') as {
  watcher: { apiCalls: number; verdictAtSeconds: number }
}
const tenRate = ten.watcher.apiCalls / ten.watcher.verdictAtSeconds
const strategies = await strategyRows(POLICY, WAITER)
type StrategyRow = {
  watcher: { falseHealthy: boolean; lagBehindEcsFinalSeconds?: number }
}
const strategyWatch = (strategies as StrategyRow[]).map((r) => r.watcher)
const targets = {
  ecsFinalStateFalseHealthy: strategyWatch.filter((w) => w.falseHealthy).length,
  ecsFinalStateVerdictWithin10s: strategyWatch.every(
    (w) => (w.lagBehindEcsFinalSeconds ?? Infinity) <= 10
  ),
  healthyVerdictWithin10sOfSteadyPlusSoak: healthy.watcher.lagSeconds <= 10,
  oomFailedAtLeast10xSooner: oom.lagRatioWaiterOverWatcher >= 10,
  tenFlavorsCallsPerSecond: Math.round(tenRate * 100) / 100,
  tenFlavorsUnder20PercentOf20PerSecond: tenRate < 4
}
console.log(targets)
mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
writeFileSync(
  new URL('./results/wait.json', import.meta.url),
  JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      clock: 'simulated seconds (simulator speed 0, virtual timers)',
      policy: POLICY,
      sdkWaiter: { function: 'waitUntilServicesStable', ...WAITER },
      targets,
      scenarios: rows,
      ecsFinalStateScenarios: strategies
    },
    null,
    2
  ) + '\n'
)
console.log('wrote bench/results/wait.json')
