import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  type Deployment,
  type Service,
  type Task
} from '@aws-sdk/client-ecs'
import { mockClient } from 'aws-sdk-client-mock'
import { ManualClock } from '../../src/common/clock.js'
import { watchDeployments } from '../../src/ecs/deployment-watcher.js'
import { checkTargets } from '../../src/ecs/target-check.js'
import type { HealthPolicy, WatchTarget } from '../../src/ecs/types.js'

/**
 * A scripted ECS: each service's deployments are a function of the
 * seconds since the watch started, stopped tasks and events appear at
 * their `at` second. Just enough of ECS for the watcher's three calls.
 */
interface Scripted {
  name: string
  deployments: (t: number) => Partial<Deployment>[]
  stopped?: (Task & { at: number })[]
  events?: { at: number; message: string }[]
  status?: string
}

const NEW = 'ecs-svc/new'
const OLD = 'ecs-svc/old'
const TD_NEW = 'arn:aws:ecs:us-east-1:1:task-definition/web:8'
const TD_OLD = 'arn:aws:ecs:us-east-1:1:task-definition/web:7'

const policy: HealthPolicy = {
  startupGraceSeconds: 600,
  startupFailureBudget: 2,
  failureBudget: 0,
  stableForSeconds: 60,
  timeoutSeconds: 1800
}

const ecs = new ECSClient({ region: 'us-east-1' })
const mock = mockClient(ecs)
let clock: ManualClock
let world: Scripted[]
let throttleUntil = -1
let calls: { op: string; input: unknown }[]
let lines: string[]

const t = (): number => clock.now() / 1000

function dep(
  id: string,
  status: string,
  running: number,
  desired = 2,
  extra: Partial<Deployment> = {}
): Partial<Deployment> {
  return {
    id,
    status,
    taskDefinition: id === NEW ? TD_NEW : TD_OLD,
    desiredCount: desired,
    runningCount: running,
    pendingCount: Math.max(0, desired - running),
    failedTasks: 0,
    createdAt: new Date(id === NEW ? 0 : -3_600_000),
    rolloutState: status === 'PRIMARY' ? 'IN_PROGRESS' : 'COMPLETED',
    ...extra
  }
}

function service(s: Scripted): Service {
  return {
    serviceName: s.name,
    serviceArn: `arn:aws:ecs:us-east-1:1:service/prod/${s.name}`,
    status: s.status ?? 'ACTIVE',
    deployments: s.deployments(t()) as Deployment[],
    events: (s.events ?? [])
      .filter((e) => e.at <= t())
      .map((e, i) => ({
        id: `${s.name}-${i}`,
        createdAt: new Date(e.at * 1000),
        message: e.message
      }))
      .reverse()
  }
}

function task(
  n: number,
  at: number,
  over: Partial<Task> = {},
  startedBy = NEW
): Task & { at: number } {
  return {
    at,
    taskArn: `arn:aws:ecs:us-east-1:1:task/prod/t${n}`,
    startedBy,
    taskDefinitionArn: TD_NEW,
    lastStatus: 'STOPPED',
    stoppedAt: new Date(at * 1000),
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'web', exitCode: 1 }],
    ...over
  }
}

function oom(n: number, at: number): Task & { at: number } {
  return task(n, at, {
    containers: [
      {
        name: 'web',
        exitCode: 137,
        reason: 'OutOfMemoryError: Container killed due to memory usage'
      }
    ]
  })
}

function target(name = 'web', over: Partial<WatchTarget> = {}): WatchTarget {
  return { cluster: 'prod', service: name, policy, ...over }
}

beforeEach(() => {
  clock = new ManualClock(0)
  throttleUntil = -1
  calls = []
  lines = []
  mock.reset()
  mock.on(DescribeServicesCommand).callsFake((input) => {
    calls.push({ op: 'DescribeServices', input })
    if (t() < throttleUntil) {
      const e = new Error('Rate exceeded')
      e.name = 'ThrottlingException'
      throw e
    }
    if (input.cluster === 'nope') {
      const e = new Error('Cluster not found.')
      e.name = 'ClusterNotFoundException'
      throw e
    }
    const names: string[] = input.services
    return {
      services: world
        .filter((s) => names.includes(s.name))
        .map((s) => service(s)),
      failures: names
        .filter((n) => !world.some((s) => s.name === n))
        .map((n) => ({ arn: n, reason: 'MISSING' }))
    }
  })
  mock.on(ListTasksCommand).callsFake((input) => {
    calls.push({ op: 'ListTasks', input })
    const s = world.find((w) => w.name === input.serviceName)
    return {
      taskArns: (s?.stopped ?? [])
        .filter((x) => x.at <= t())
        .map((x) => x.taskArn)
    }
  })
  mock.on(DescribeTasksCommand).callsFake((input) => {
    calls.push({ op: 'DescribeTasks', input })
    const all = world.flatMap((s) => s.stopped ?? [])
    return {
      tasks: (input.tasks as string[]).map((arn) => {
        const found = all.find((x) => x.taskArn === arn)
        if (!found) throw new Error(`unknown task ${arn}`)
        return { ...found, at: undefined }
      })
    }
  })
  mock.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: {
      memory: '1024',
      containerDefinitions: [{ name: 'web', memory: 512 }]
    }
  })
})

async function watch(
  targets: WatchTarget[] = [target()]
): ReturnType<typeof watchDeployments> {
  return watchDeployments(targets, {
    ecs,
    clock,
    log: (line) => lines.push(line)
  })
}

/** Rolls out in `readyAt` seconds: old drains as new comes up. */
function rollout(readyAt: number, completeAt = readyAt + 10) {
  return (now: number): Partial<Deployment>[] => {
    if (now >= completeAt) {
      return [dep(NEW, 'PRIMARY', 2, 2, { rolloutState: 'COMPLETED' })]
    }
    const running = now >= readyAt ? 2 : now >= readyAt / 2 ? 1 : 0
    return [dep(NEW, 'PRIMARY', running), dep(OLD, 'ACTIVE', 2 - running)]
  }
}

describe('watchDeployments', () => {
  it('says healthy within one poll of steady state plus the soak', async () => {
    world = [{ name: 'web', deployments: rollout(40) }]
    const [r] = await watch()
    expect(r.result).toBe('healthy')
    expect(r.deploymentId).toBe(NEW)
    // Steady at 50 s, soak 60 s: the verdict may lag one poll (≤ 10 s).
    expect(r.durationSeconds).toBeGreaterThanOrEqual(110)
    expect(r.durationSeconds).toBeLessThanOrEqual(120)
    expect(r.timeline.map((x) => x.text).join('\n')).toMatch(/steady; soak/)
    expect(lines.some((l) => /PRIMARY web:8 desired 2 running 1/.test(l))).toBe(
      true
    )
  })

  it('passes a slow start whose failures stay within the startup budget', async () => {
    world = [
      {
        name: 'web',
        deployments: rollout(480),
        stopped: [
          task(1, 120, {
            stopCode: 'ServiceSchedulerInitiated',
            stoppedReason:
              'Task failed ELB health checks in (target-group arn:tg/web/1)'
          }),
          task(2, 300, {
            stopCode: 'ServiceSchedulerInitiated',
            stoppedReason:
              'Task failed ELB health checks in (target-group arn:tg/web/1)'
          })
        ]
      }
    ]
    const [r] = await watch()
    expect(r.result).toBe('healthy')
    expect(r.stoppedTasks).toHaveLength(2)
    expect(r.stoppedTasks.every((s) => s.category === 'health-check')).toBe(
      true
    )
  })

  it('fails an OOM crash loop as oom within one poll of the budget being spent', async () => {
    world = [
      {
        name: 'web',
        deployments: () => [dep(NEW, 'PRIMARY', 0), dep(OLD, 'ACTIVE', 2)],
        stopped: [oom(1, 30), oom(2, 60), oom(3, 90), oom(4, 120)]
      }
    ]
    const [r] = await watch()
    expect(r.result).toBe('failed')
    expect(r.failureCategory).toBe('oom')
    expect(r.failureReason).toMatch(/container web/)
    expect(r.failureReason).toMatch(/512 MiB/)
    expect(r.failureReason).toMatch(/budget 2/)
    // The third OOM (at 90 s) spends a budget of 2.
    expect(r.durationSeconds).toBeGreaterThanOrEqual(90)
    expect(r.durationSeconds).toBeLessThanOrEqual(100)
    expect(r.stoppedTasks).toHaveLength(3)
  })

  it('fails at once on an image that cannot be pulled', async () => {
    world = [
      {
        name: 'web',
        deployments: () => [dep(NEW, 'PRIMARY', 0), dep(OLD, 'ACTIVE', 2)],
        stopped: [
          task(1, 12, {
            stopCode: 'TaskFailedToStart',
            stoppedReason: 'CannotPullContainerError: ref not found',
            containers: [{ name: 'web' }]
          })
        ]
      }
    ]
    const [r] = await watch()
    expect(r).toMatchObject({ result: 'failed', failureCategory: 'image-pull' })
    expect(r.durationSeconds).toBeLessThanOrEqual(22)
  })

  it('applies the strict budget once all desired tasks run, before grace ends', async () => {
    world = [
      {
        name: 'web',
        deployments: rollout(40, 1e9),
        stopped: [task(1, 100, { containers: [{ name: 'web', exitCode: 3 }] })]
      }
    ]
    const [r] = await watch()
    expect(r.failureCategory).toBe('crash')
    expect(r.failureReason).toMatch(
      /exited with code 3.*strict phase, budget 0/
    )
  })

  it('fails a healthy deployment that starts failing during the soak', async () => {
    world = [
      {
        name: 'web',
        deployments: rollout(20),
        stopped: [
          task(1, 70, {
            stopCode: 'ServiceSchedulerInitiated',
            stoppedReason: 'Task failed ELB health checks in (target-group tg1)'
          })
        ],
        events: [
          {
            at: 65,
            message:
              '(service web) (task t1) (port 8000) is unhealthy in (target-group tg1) due to (reason Health checks failed with these codes: [503])'
          }
        ]
      }
    ]
    const [r] = await watch()
    expect(r.result).toBe('failed')
    expect(r.failureCategory).toBe('health-check')
    expect(r.failureReason).toMatch(/target group tg1, status codes \[503\]/)
    expect(lines.some((l) => /event: .*is unhealthy/.test(l))).toBe(true)
  })

  it('reports a circuit-breaker rollback as rolled-back', async () => {
    world = [
      {
        name: 'web',
        deployments: (now) =>
          now < 100
            ? [dep(NEW, 'PRIMARY', 0), dep(OLD, 'ACTIVE', 2)]
            : [
                dep(NEW, 'ACTIVE', 0, 0, {
                  rolloutState: 'FAILED',
                  rolloutStateReason:
                    'ECS deployment circuit breaker: tasks failed to start.'
                }),
                dep(OLD, 'PRIMARY', 2, 2, { id: 'ecs-svc/rollback' })
              ]
      }
    ]
    const [r] = await watch([
      target('web', { policy: { ...policy, startupFailureBudget: 99 } })
    ])
    expect(r.failureCategory).toBe('rolled-back')
    expect(r.failureReason).toMatch(/circuit breaker/)
    expect(r.failureReason).toMatch(/PRIMARY is web:7/)
  })

  it('counts placement failures against the budget', async () => {
    world = [
      {
        name: 'web',
        deployments: () => [dep(NEW, 'PRIMARY', 0), dep(OLD, 'ACTIVE', 2)],
        events: [10, 20, 30].map((at) => ({
          at,
          message:
            '(service web) was unable to place a task because no container instance met all of its requirements.'
        }))
      }
    ]
    const [r] = await watch()
    expect(r.failureCategory).toBe('placement')
  })

  it('times out with the last state in the reason', async () => {
    world = [
      {
        name: 'web',
        deployments: () => [dep(NEW, 'PRIMARY', 1), dep(OLD, 'ACTIVE', 1)]
      }
    ]
    const [r] = await watch([
      target('web', { policy: { ...policy, timeoutSeconds: 300 } })
    ])
    expect(r).toMatchObject({ result: 'timeout', failureCategory: 'timeout' })
    expect(r.durationSeconds).toBe(300)
    expect(r.failureReason).toMatch(/running 1/)
  })

  it('backs off while throttled and still reaches a verdict', async () => {
    world = [{ name: 'web', deployments: rollout(40) }]
    throttleUntil = 200
    const [r] = await watch()
    expect(r.result).toBe('healthy')
    const throttledCalls = calls.filter(
      (c) => c.op === 'DescribeServices'
    ).length
    // Without backoff 200 s at a 5 s poll would be 40 calls.
    expect(throttledCalls).toBeLessThan(20)
    expect(lines.some((l) => /ThrottlingException; backing off/.test(l))).toBe(
      true
    )
  })

  it('ignores stopped tasks of other deployments and events from before the deployment', async () => {
    world = [
      {
        name: 'web',
        deployments: rollout(40),
        stopped: [task(1, 5, {}, OLD), task(2, 6, {}, OLD)],
        events: [{ at: -50, message: 'old news: was unable to place a task' }]
      }
    ]
    const [r] = await watch([
      target('web', { policy: { ...policy, startupFailureBudget: 0 } })
    ])
    expect(r.result).toBe('healthy')
    expect(r.stoppedTasks).toHaveLength(0)
    expect(lines.join('\n')).not.toMatch(/old news/)
  })

  it('batches reads: 10 services per DescribeServices, no startedBy with serviceName, tasks described once', async () => {
    world = Array.from({ length: 12 }, (_, i) => ({
      name: `s${i}`,
      deployments: rollout(40),
      stopped:
        i === 0
          ? [
              task(1, 10, {
                stopCode: 'UserInitiated',
                stoppedReason: 'Task stopped by user'
              })
            ]
          : []
    }))
    const results = await watch(world.map((w) => target(w.name)))
    expect(results.every((r) => r.result === 'healthy')).toBe(true)
    const polls = calls.filter((c) => c.op === 'DescribeServices')
    const sizes = polls.map(
      (c) => (c.input as { services: string[] }).services.length
    )
    expect(Math.max(...sizes)).toBe(10)
    for (const c of calls.filter((x) => x.op === 'ListTasks')) {
      expect(c.input).toMatchObject({ desiredStatus: 'STOPPED' })
      expect(c.input).not.toHaveProperty('startedBy')
    }
    expect(calls.filter((c) => c.op === 'DescribeTasks')).toHaveLength(1)
    // 12 ListTasks + 2 DescribeServices per poll, polls every ≥5 s of 120 s.
    expect(
      calls.filter((c) => c.op === 'ListTasks').length
    ).toBeLessThanOrEqual(12 * 26)
  })

  it('follows the deployment of a given task definition', async () => {
    world = [{ name: 'web', deployments: rollout(40) }]
    const [r] = await watch([target('web', { taskDefinitionArn: 'web:8' })])
    expect(r).toMatchObject({ result: 'healthy', deploymentId: NEW })
  })
})

describe('checkTargets', () => {
  it('names unknown clusters, services and deployments', async () => {
    world = [{ name: 'web', deployments: rollout(40) }]
    const problems = await checkTargets(
      [
        target('web', { deploymentId: 'ecs-svc/nope' }),
        target('api'),
        { ...target('web'), cluster: 'nope' },
        target('web', { taskDefinitionArn: 'web:99' }),
        target('web', { deploymentId: NEW })
      ],
      ecs
    )
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      [
        'deploymentId',
        expect.stringMatching(
          /ecs-svc\/nope.*not on service "web".*ecs-svc\/new/
        )
      ],
      ['service', 'service "api" not found in cluster "prod"'],
      ['taskDefinitionArn', expect.stringMatching(/web:99/)],
      ['cluster', 'cluster "nope" not found']
    ])
  })
})
