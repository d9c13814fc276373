import { describe, expect, it } from '@jest/globals'
import type { Deployment, Service, Task } from '@aws-sdk/client-ecs'
import type { HealthPolicy, WatchTarget } from '../../src/ecs/types.js'
import { evaluate } from '../../src/ecs/watch-evaluate.js'
import {
  initialState,
  type ServiceSnapshot,
  type WatchState
} from '../../src/ecs/watch-state.js'

// The watcher's judgement as a table: a state, what one poll saw, the time;
// the verdict, the phase and whether anything changed. No ECS, no clock.
const policy: HealthPolicy = {
  startupGraceSeconds: 300,
  startupFailureBudget: 2,
  failureBudget: 0,
  stableForSeconds: 60,
  timeoutSeconds: 1200
}
const target: WatchTarget = {
  cluster: 'prod',
  service: 'web',
  deploymentId: 'ecs-svc/new',
  policy
}
const TD_NEW = 'arn:aws:ecs:us-east-1:1:task-definition/web:8'
const TD_OLD = 'arn:aws:ecs:us-east-1:1:task-definition/web:7'

function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: 'ecs-svc/new',
    status: 'PRIMARY',
    taskDefinition: TD_NEW,
    desiredCount: 2,
    runningCount: 0,
    pendingCount: 2,
    rolloutState: 'IN_PROGRESS',
    createdAt: new Date(0),
    ...over
  }
}
const old: Deployment = {
  id: 'ecs-svc/old',
  status: 'ACTIVE',
  taskDefinition: TD_OLD,
  desiredCount: 0,
  runningCount: 2,
  pendingCount: 0
}
const done = deployment({
  runningCount: 2,
  pendingCount: 0,
  rolloutState: 'COMPLETED'
})

function service(deployments: Deployment[], over: Partial<Service> = {}) {
  return { serviceName: 'web', status: 'ACTIVE', deployments, ...over }
}

function stoppedTask(over: Partial<Task> = {}): Task {
  return {
    taskArn: `arn:aws:ecs:us-east-1:1:task/prod/${Math.random()}`,
    startedBy: 'ecs-svc/new',
    taskDefinitionArn: TD_NEW,
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'app', exitCode: 3 }],
    ...over
  }
}
const oomTask = stoppedTask({
  containers: [
    {
      name: 'app',
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage'
    }
  ]
})

const s = (seconds: number): number => seconds * 1000

interface Row {
  name: string
  before?: Partial<WatchState>
  snapshot: ServiceSnapshot
  at: number
  expected: {
    result?: string
    category?: string
    phase?: string
    changed?: boolean
    soaking?: boolean
  }
}

const rows: Row[] = [
  {
    name: 'a missing service fails at once',
    snapshot: { stopped: [] },
    at: s(5),
    expected: { result: 'failed', category: undefined, changed: true }
  },
  {
    name: 'a draining service fails at once',
    snapshot: { service: service([done], { status: 'DRAINING' }), stopped: [] },
    at: s(5),
    expected: { result: 'failed' }
  },
  {
    name: 'a rollout in progress only changes the status line',
    snapshot: { service: service([deployment(), old]), stopped: [] },
    at: s(5),
    expected: { phase: 'startup', changed: true, soaking: false }
  },
  {
    name: 'all desired tasks running ends the startup phase early',
    snapshot: {
      service: service([deployment({ runningCount: 2, pendingCount: 0 })]),
      stopped: []
    },
    at: s(30),
    expected: { phase: 'strict', changed: true }
  },
  {
    name: 'grace over ends the startup phase',
    snapshot: { service: service([deployment(), old]), stopped: [] },
    at: s(301),
    expected: { phase: 'strict' }
  },
  {
    name: 'steady state starts the soak',
    snapshot: { service: service([done]), stopped: [] },
    at: s(40),
    expected: { soaking: true, changed: true }
  },
  {
    name: 'steady for stable-for is healthy',
    before: { soakSince: s(40), resolved: true, phase: 'strict' },
    snapshot: { service: service([done]), stopped: [] },
    at: s(100),
    expected: { result: 'healthy' }
  },
  {
    name: 'leaving steady state restarts the soak',
    before: { soakSince: s(40), resolved: true, phase: 'strict' },
    snapshot: {
      service: service([deployment({ runningCount: 1, pendingCount: 1 })]),
      stopped: []
    },
    at: s(70),
    expected: { soaking: false, changed: true }
  },
  {
    name: 'a crash within the startup budget is tolerated',
    snapshot: {
      service: service([deployment(), old]),
      stopped: [{ task: stoppedTask() }]
    },
    at: s(20),
    expected: { phase: 'startup', changed: true }
  },
  {
    name: 'a crash past the startup budget fails as crash',
    before: { startupFailures: 2, resolved: true },
    snapshot: {
      service: service([deployment(), old]),
      stopped: [{ task: stoppedTask() }]
    },
    at: s(20),
    expected: { result: 'failed', category: 'crash' }
  },
  {
    name: 'in the strict phase one OOM kill fails as oom',
    before: { phase: 'strict', resolved: true },
    snapshot: {
      service: service([deployment({ runningCount: 2, pendingCount: 0 })]),
      stopped: [{ task: oomTask, memoryLimits: new Map([['app', 512]]) }]
    },
    at: s(400),
    expected: { result: 'failed', category: 'oom' }
  },
  {
    name: 'an image that cannot be pulled fails at once, whatever the budget',
    snapshot: {
      service: service([deployment(), old]),
      stopped: [
        {
          task: stoppedTask({
            stopCode: 'TaskFailedToStart',
            stoppedReason: 'CannotPullContainerError: ref not found',
            containers: [{ name: 'app' }]
          })
        }
      ]
    },
    at: s(10),
    expected: { result: 'failed', category: 'image-pull' }
  },
  {
    name: "another deployment's stopped task does not count",
    before: { phase: 'strict', resolved: true },
    snapshot: {
      service: service([deployment(), old]),
      stopped: [{ task: stoppedTask({ startedBy: 'ecs-svc/old' }) }]
    },
    at: s(400),
    expected: { result: undefined, phase: 'strict' }
  },
  {
    name: 'a failed rollout is rolled-back',
    snapshot: {
      service: service([deployment({ rolloutState: 'FAILED' }), old]),
      stopped: []
    },
    at: s(60),
    expected: { result: 'failed', category: 'rolled-back' }
  },
  {
    name: 'a deployment gone from the service is rolled-back',
    snapshot: {
      service: service([{ ...old, id: 'ecs-svc/other', status: 'PRIMARY' }]),
      stopped: []
    },
    at: s(60),
    expected: { result: 'failed', category: 'rolled-back' }
  },
  {
    name: 'a placement failure event counts against the budget',
    before: { phase: 'strict', resolved: true, eventsBaselined: true },
    snapshot: {
      service: service([deployment(), old], {
        events: [
          {
            id: 'e1',
            createdAt: new Date(s(50)),
            message:
              '(service web) was unable to place a task because no container instance met all of its requirements.'
          }
        ]
      }),
      stopped: []
    },
    at: s(400),
    expected: { result: 'failed', category: 'placement' }
  },
  {
    name: 'no verdict by the timeout is a timeout',
    before: { phase: 'strict', resolved: true },
    snapshot: { service: service([deployment(), old]), stopped: [] },
    at: s(1200),
    expected: { result: 'timeout', category: 'timeout' }
  }
]

describe('evaluate', () => {
  it.each(rows)('$name', ({ before, snapshot, at, expected }) => {
    const state: WatchState = { ...initialState(target, 0), ...before }
    const { state: next, changed } = evaluate(state, snapshot, at)
    expect(next.result?.result).toBe(expected.result)
    if ('category' in expected) {
      expect(next.result?.failureCategory).toBe(expected.category)
    }
    if (expected.phase) expect(next.phase).toBe(expected.phase)
    if (expected.changed !== undefined) expect(changed).toBe(expected.changed)
    if (expected.soaking !== undefined) {
      expect(next.soakSince !== undefined).toBe(expected.soaking)
    }
  })

  it('leaves the state it was given as it was', () => {
    const state = initialState(target, 0)
    const frozen = JSON.stringify({
      ...state,
      seenEvents: [...state.seenEvents]
    })
    evaluate(
      state,
      {
        service: service([deployment(), old], {
          events: [{ id: 'e1', createdAt: new Date(1), message: 'hello' }]
        }),
        stopped: [{ task: stoppedTask() }]
      },
      s(10)
    )
    expect(
      JSON.stringify({ ...state, seenEvents: [...state.seenEvents] })
    ).toBe(frozen)
  })

  it('names the memory limit the snapshot carries in an OOM verdict', () => {
    const { state } = evaluate(
      { ...initialState(target, 0), phase: 'strict', resolved: true },
      {
        service: service([deployment({ runningCount: 2, pendingCount: 0 })]),
        stopped: [{ task: oomTask, memoryLimits: new Map([['app', 512]]) }]
      },
      s(400)
    )
    expect(state.result?.failureReason).toMatch(/512/)
  })
})
