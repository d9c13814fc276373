import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeServicesCommand,
  ECSClient,
  type Deployment
} from '@aws-sdk/client-ecs'
import { mockClient } from 'aws-sdk-client-mock'
import { ManualClock } from '../../src/common/clock.js'
import {
  waitForRollbacks,
  type StartedRollback
} from '../../src/ecs/rollback-wait.js'

const ecsMock = mockClient(ECSClient)
const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/monolith-web:1'
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/monolith-web:2'
const web: StartedRollback = {
  flavor: 'web',
  region: 'us-east-1',
  cluster: 'staging',
  service: 'monolith-web',
  deploymentId: 'ecs-svc/1',
  taskDefinitionArn: OLD
}

beforeEach(() => {
  ecsMock.reset()
})

function answer(...deployments: Deployment[]): {
  services: { serviceName: string; deployments: Deployment[] }[]
} {
  return { services: [{ serviceName: 'monolith-web', deployments }] }
}

const rollingBack: Deployment = {
  id: 'ecs-svc/1',
  status: 'PRIMARY',
  taskDefinition: OLD,
  rolloutState: 'IN_PROGRESS',
  runningCount: 1,
  desiredCount: 2
}
const draining: Deployment = {
  id: 'ecs-svc/0',
  status: 'ACTIVE',
  taskDefinition: NEW,
  rolloutState: 'IN_PROGRESS'
}

function deps(
  clock: ManualClock,
  budgetSeconds = 240
): Parameters<typeof waitForRollbacks>[1] {
  return {
    ecsFor: () => new ECSClient({ region: 'us-east-1' }),
    clock,
    log: () => undefined,
    budgetSeconds,
    pollSeconds: 5
  }
}

describe('waitForRollbacks', () => {
  it('healthy once the rollback deployment is COMPLETED and the new one has drained', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolvesOnce(answer(rollingBack, draining))
      .resolvesOnce(
        answer({ ...rollingBack, rolloutState: 'COMPLETED' }, draining)
      )
      .resolves(answer({ ...rollingBack, rolloutState: 'COMPLETED' }))
    const clock = new ManualClock(0)
    const result = await waitForRollbacks([web], deps(clock))
    expect(result.get('web')).toEqual({ state: 'healthy', seconds: 10 })
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(3)
  })

  it('FAILED is a failed rollback with ECS reason', async () => {
    ecsMock.on(DescribeServicesCommand).resolves(
      answer({
        ...rollingBack,
        rolloutState: 'FAILED',
        rolloutStateReason:
          'ECS deployment circuit breaker: tasks failed to start.'
      })
    )
    const result = await waitForRollbacks([web], deps(new ManualClock(0)))
    expect(result.get('web')).toEqual({
      state: 'failed',
      reason: 'ECS deployment circuit breaker: tasks failed to start.'
    })
  })

  it('stops at the budget and reports how far the rollback got', async () => {
    ecsMock.on(DescribeServicesCommand).resolves(answer(rollingBack, draining))
    const clock = new ManualClock(0)
    const result = await waitForRollbacks([web], deps(clock, 30))
    expect(result.get('web')).toEqual({
      state: 'waiting',
      seconds: 30,
      detail: '1/2 tasks running, IN_PROGRESS, 1 other deployment(s) draining'
    })
    expect(clock.now()).toBeLessThanOrEqual(30_000)
  })

  it('a transient error spends a poll; a fatal one ends the wait naming it', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException'
        })
      )
      .rejects(
        Object.assign(new Error('ECS DescribeServices was refused'), {
          name: 'AccessDeniedException'
        })
      )
    const result = await waitForRollbacks([web], deps(new ManualClock(0)))
    expect(result.get('web')).toEqual({
      state: 'waiting',
      seconds: 5,
      detail: 'its state could not be read: ECS DescribeServices was refused'
    })
  })

  it('finds the rollback by its revision when ECS named no deployment id', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .resolves(
        answer({ ...rollingBack, id: 'ecs-svc/9', rolloutState: 'COMPLETED' })
      )
    const noId = { ...web, deploymentId: undefined }
    const result = await waitForRollbacks([noId], deps(new ManualClock(0)))
    expect(result.get('web')).toEqual({ state: 'healthy', seconds: 0 })
  })
})
