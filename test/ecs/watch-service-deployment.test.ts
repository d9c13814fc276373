import { describe, expect, it } from '@jest/globals'
import type { Deployment, ServiceDeployment, Task } from '@aws-sdk/client-ecs'
import { rebalancedTaskIds } from '../../src/ecs/az-rebalancing.js'
import type { HealthPolicy, WatchTarget } from '../../src/ecs/types.js'
import { evaluate } from '../../src/ecs/watch-evaluate.js'
import { strategySeconds } from '../../src/ecs/watch-service-deployment.js'
import {
  initialState,
  type ServiceSnapshot,
  type WatchState
} from '../../src/ecs/watch-state.js'

// The watcher's judgement with ECS's own record of the deployment: no ECS,
// no clock; a state, one poll, the time.
const policy: HealthPolicy = {
  startupGraceSeconds: 300,
  startupFailureBudget: 2,
  failureBudget: 0,
  stableForSeconds: 60,
  timeoutSeconds: 600
}
const ARN = 'arn:aws:ecs:us-east-1:1:service-deployment/prod/web/abc'
const TASK = '0123456789abcdef0123456789abcdef'

function target(over: Partial<WatchTarget> = {}): WatchTarget {
  return {
    cluster: 'prod',
    service: 'web',
    deploymentId: 'ecs-svc/new',
    policy,
    ...over
  }
}

const deployment: Deployment = {
  id: 'ecs-svc/new',
  status: 'PRIMARY',
  taskDefinition: 'web:8',
  desiredCount: 2,
  runningCount: 2,
  pendingCount: 0,
  rolloutState: 'IN_PROGRESS',
  createdAt: new Date(0)
}

function sd(over: Partial<ServiceDeployment> = {}): ServiceDeployment {
  return {
    serviceDeploymentArn: ARN,
    createdAt: new Date(500),
    status: 'IN_PROGRESS',
    targetServiceRevision: {
      requestedTaskCount: 2,
      runningTaskCount: 2,
      pendingTaskCount: 0
    },
    deploymentConfiguration: { strategy: 'ROLLING' },
    alarms: { status: 'MONITORING', alarmNames: ['web-5xx'] },
    ...over
  }
}

function snap(
  serviceDeployment: ServiceDeployment,
  extra: Partial<ServiceSnapshot> = {}
): ServiceSnapshot {
  return {
    service: {
      serviceName: 'web',
      status: 'ACTIVE',
      deployments: [deployment],
      currentServiceDeployment: ARN
    },
    stopped: [],
    serviceDeployment,
    ...extra
  }
}

/** Polls the same snapshot at each time (seconds); the last evaluation. */
function run(
  t: WatchTarget,
  polls: [number, ServiceSnapshot][]
): { state: WatchState; answers: unknown[]; log: string[] } {
  let state = initialState(t, 0)
  let last = { state, answers: [] as unknown[], log: [] as string[] }
  for (const [at, snapshot] of polls) {
    if (state.result) break
    last = evaluate(state, snapshot, at * 1000)
    state = last.state
  }
  return last
}

describe('verdict from the service deployment', () => {
  it('is not healthy while ECS still watches alarms, however long the soak', () => {
    const out = run(target(), [
      [5, snap(sd())],
      [200, snap(sd())]
    ])
    expect(out.state.result).toBeUndefined()
    expect(out.state.timeline.map((l) => l.text)).toContain(
      'soak passed; waiting for ECS'
    )
  })

  it('is healthy at the first poll after SUCCESSFUL once the soak has passed', () => {
    const out = run(target(), [
      [5, snap(sd())],
      [200, snap(sd())],
      [
        205,
        snap(
          sd({
            status: 'SUCCESSFUL',
            alarms: { status: 'MONITORING_COMPLETE' }
          })
        )
      ]
    ])
    expect(out.state.result).toMatchObject({
      result: 'healthy',
      durationSeconds: 205,
      serviceDeployment: { arn: ARN, status: 'SUCCESSFUL', strategy: 'ROLLING' }
    })
  })

  const alarmRollback = sd({
    status: 'ROLLBACK_IN_PROGRESS',
    alarms: {
      status: 'TRIGGERED',
      triggeredAlarmNames: ['web-5xx', 'web-p99']
    },
    rollback: {
      reason: 'Cloudwatch alarm(s) web-5xx, web-p99 triggered.'
    }
  })
  const rolledBackService: ServiceSnapshot['service'] = {
    serviceName: 'web',
    status: 'ACTIVE',
    deployments: [
      { id: 'ecs-svc/back', status: 'PRIMARY', taskDefinition: 'web:7' },
      { ...deployment, status: 'ACTIVE', rolloutState: 'FAILED' }
    ],
    currentServiceDeployment: ARN
  }

  it('fails as rolled-back naming the triggered alarms and the revision ECS went back to', () => {
    const out = run(target(), [
      [5, snap(sd())],
      [15, snap(alarmRollback, { service: rolledBackService })]
    ])
    expect(out.state.result).toMatchObject({
      result: 'failed',
      failureCategory: 'rolled-back'
    })
    expect(out.state.result?.failureReason).toMatch(
      /^ECS rolled back the ROLLING deployment \(ROLLBACK_IN_PROGRESS\): alarm\(s\) web-5xx, web-p99 in ALARM.*; PRIMARY is web:7/
    )
  })

  // The service is read before ECS's record in a poll: the record can say
  // rolled back while the service still names our deployment PRIMARY.
  it('waits one poll when the service has not caught up with the rollback yet', () => {
    const early = run(target(), [
      [5, snap(sd())],
      [15, snap(alarmRollback)]
    ])
    expect(early.state.result).toBeUndefined()
    const next = run(target(), [
      [5, snap(sd())],
      [15, snap(alarmRollback)],
      [20, snap(alarmRollback, { service: rolledBackService })]
    ])
    expect(next.state.result?.failureReason).toMatch(/PRIMARY is web:7/)
    // Never more than one: a rollback that leaves our deployment PRIMARY
    // (no revision to go back to) is still reported.
    const stuck = run(target(), [
      [5, snap(sd())],
      [15, snap(alarmRollback)],
      [20, snap(alarmRollback)]
    ])
    expect(stuck.state.result).toMatchObject({
      failureCategory: 'rolled-back',
      durationSeconds: 20
    })
    expect(stuck.state.result?.failureReason).toMatch(/PRIMARY is web:8/)
  })

  it('ignores a service deployment that did not start with the followed deployment', () => {
    const out = run(target(), [
      [5, snap(sd({ createdAt: new Date(3_600_000) }))]
    ])
    expect(out.state.serviceDeploymentArn).toBeUndefined()
  })

  it('extends the timeout by the strategy bake times', () => {
    expect(
      strategySeconds({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 })
    ).toBe(300)
    expect(
      strategySeconds({
        strategy: 'LINEAR',
        bakeTimeInMinutes: 1,
        linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 2 }
      })
    ).toBe(9 * 60)
    const out = run(target(), [
      [
        5,
        snap(
          sd({
            deploymentConfiguration: {
              strategy: 'BLUE_GREEN',
              bakeTimeInMinutes: 10
            },
            lifecycleStage: 'BAKE_TIME'
          })
        )
      ],
      [
        700,
        snap(
          sd({
            deploymentConfiguration: {
              strategy: 'BLUE_GREEN',
              bakeTimeInMinutes: 10
            },
            lifecycleStage: 'BAKE_TIME'
          })
        )
      ]
    ])
    expect(out.state.result).toBeUndefined()
    expect(out.state.extraSeconds).toBe(600)
  })
})

describe('PAUSE hooks and AZ rebalancing', () => {
  const paused = sd({
    deploymentConfiguration: { strategy: 'BLUE_GREEN' },
    lifecycleStage: 'POST_SCALE_UP',
    lifecycleHookDetails: [
      { hookId: 'h1', targetType: 'PAUSE', status: 'AWAITING_ACTION' }
    ]
  })

  it('answers CONTINUE only after the soak, and only at its own stages', () => {
    const early = run(target({ hookStages: ['POST_SCALE_UP'] }), [
      [5, snap(paused)]
    ])
    expect(early.answers).toEqual([])
    const later = run(target({ hookStages: ['POST_SCALE_UP'] }), [
      [5, snap(paused)],
      [70, snap(paused)]
    ])
    expect(later.answers).toEqual([
      expect.objectContaining({
        hookId: 'h1',
        action: 'CONTINUE',
        stage: 'POST_SCALE_UP'
      })
    ])
    const other = run(target({ hookStages: ['POST_TEST_TRAFFIC_SHIFT'] }), [
      [5, snap(paused)],
      [70, snap(paused)]
    ])
    expect(other.answers).toEqual([])
  })

  it('answers ROLLBACK when the watch fails while the hook waits', () => {
    const crashed: Task = {
      taskArn: 'arn:aws:ecs:us-east-1:1:task/prod/abc',
      startedBy: 'ecs-svc/new',
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [{ name: 'app', exitCode: 1 }]
    }
    const out = run(target({ hookStages: ['POST_SCALE_UP'] }), [
      [5, snap(paused)],
      [20, snap(paused, { stopped: [{ task: crashed }] })]
    ])
    expect(out.state.result?.failureCategory).toBe('crash')
    expect(out.answers).toEqual([
      expect.objectContaining({ action: 'ROLLBACK' })
    ])
  })

  it('does not count a stop ECS made to rebalance Availability Zones', () => {
    expect(
      rebalancedTaskIds(
        `web has stopped 1 tasks in Availability Zone us-east-1a to AZ Rebalance: ${TASK}.`
      )
    ).toEqual([TASK])
    const task: Task = {
      taskArn: `arn:aws:ecs:us-east-1:1:task/prod/${TASK}`,
      startedBy: 'ecs-svc/new',
      lastStatus: 'STOPPED',
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Stopped by the scheduler',
      containers: [{ name: 'app', exitCode: 0 }]
    }
    const event = {
      id: 'e1',
      createdAt: new Date(10_000),
      message: `web has stopped 1 tasks in Availability Zone us-east-1a to AZ Rebalance: ${TASK}.`
    }
    const base = snap(sd({ status: 'SUCCESSFUL' }))
    const out = run(target(), [
      [5, base],
      [
        20,
        {
          ...base,
          service: { ...base.service, events: [event] },
          stopped: [{ task }]
        }
      ]
    ])
    expect(out.state.result).toBeUndefined()
    expect(out.state.stopped).toEqual([])
    expect(out.log.join('\n')).toMatch(
      /stopped by AZ rebalancing; not a failure/
    )
  })
})
