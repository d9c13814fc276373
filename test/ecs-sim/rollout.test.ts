import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { startFixture, type Fixture } from './sim-fixture.js'

let f: Fixture

beforeEach(async () => {
  f = await startFixture()
})

afterEach(async () => {
  await f.stop()
})

describe('healthy rolling deployment', () => {
  it('starts at steady state with one COMPLETED deployment', async () => {
    const service = await f.service()
    expect(service.runningCount).toBe(2)
    expect(service.deployments).toHaveLength(1)
    expect(service.deployments?.[0].rolloutState).toBe('COMPLETED')
    expect(service.events?.[0].message).toBe(
      '(service web) has reached a steady state.'
    )
  })

  it('reaches COMPLETED, drains the old deployment and reports steady state', async () => {
    const arn = await f.register('healthy:20s')
    expect(arn).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/web:2')
    const newId = await f.deploy(arn)
    expect(newId).toMatch(/^ecs-svc\/\d{19}$/)
    let service = await f.service()
    expect(service.deployments?.map((d) => d.status)).toEqual([
      'PRIMARY',
      'ACTIVE'
    ])

    // Mid-rollout: both deployments exist, the new one IN_PROGRESS.
    f.sim.advance(10_000)
    service = await f.service()
    expect(service.deployments).toHaveLength(2)
    expect(service.deployments?.[0]).toMatchObject({
      id: newId,
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      taskDefinition: arn,
      runningCount: 2
    })
    // maximumPercent 200: old tasks keep running while new ones start.
    expect(service.deployments?.[1].runningCount).toBe(2)
    expect(service.runningCount).toBe(4)
    expect(service.events?.[0].message).toMatch(
      /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/
    )

    const took = await f.sim.runUntil(
      async () => (await f.service()).deployments?.length === 1,
      { maxSimSeconds: 300 }
    )
    // 2 s provisioning + 4 s pull + 20 s to healthy, counted from the update.
    expect(took).toBeGreaterThanOrEqual(15_000)
    expect(took).toBeLessThan(60_000)
    service = await f.service()
    expect(service.deployments?.[0]).toMatchObject({
      id: newId,
      rolloutState: 'COMPLETED',
      runningCount: 2,
      pendingCount: 0,
      failedTasks: 0
    })
    f.sim.advance(5_000)
    const messages = await f.messages()
    expect(messages[0]).toBe('(service web) has reached a steady state.')
    expect(messages).toContain(
      `(service web) (deployment ${newId}) deployment completed.`
    )
    expect(messages.some((m) => /has stopped 2 running tasks/.test(m))).toBe(
      true
    )

    // The old tasks were stopped by the scheduler and stay listed.
    const stopped = await f.tasks({ desiredStatus: 'STOPPED' })
    expect(stopped).toHaveLength(2)
    for (const task of stopped) {
      expect(task.lastStatus).toBe('STOPPED')
      expect(task.stopCode).toBe('ServiceSchedulerInitiated')
      expect(task.stoppedReason).toBe(
        `Scaling activity initiated by (deployment ${newId})`
      )
      expect(task.taskDefinitionArn).toMatch(/web:1$/)
      expect(task.group).toBe('service:web')
    }
    const running = await f.tasks({ startedBy: newId })
    expect(running).toHaveLength(2)
    for (const task of running) {
      expect(task.lastStatus).toBe('RUNNING')
      expect(task.startedBy).toBe(newId)
      expect(task.containers?.[0]).toMatchObject({
        name: 'app',
        image: 'registry.example/web:v2',
        memory: '512'
      })
      expect(task.startedAt).toBeInstanceOf(Date)
    }
  })

  it('keeps minimumHealthyPercent while replacing tasks one at a time', async () => {
    await f.stop()
    f = await startFixture({
      desiredCount: 4,
      minimumHealthyPercent: 75,
      maximumPercent: 100
    })
    await f.deploy(await f.register('healthy:10s'))
    let lowest = Infinity
    let highest = 0
    await f.sim.runUntil(
      async () => {
        const s = await f.service()
        lowest = Math.min(lowest, s.runningCount ?? 0)
        highest = Math.max(
          highest,
          (s.runningCount ?? 0) + (s.pendingCount ?? 0)
        )
        return s.deployments?.[0].rolloutState === 'COMPLETED'
      },
      { maxSimSeconds: 600 }
    )
    // 75 % of 4: never fewer than 3 running, never more than 4 in all.
    expect(lowest).toBe(3)
    expect(highest).toBe(4)
    expect((await f.service()).deployments).toHaveLength(1)
  })

  it('forceNewDeployment starts a new deployment of the same task definition', async () => {
    const before = (await f.service()).deployments?.[0]
    const { UpdateServiceCommand } = await import('@aws-sdk/client-ecs')
    const out = await f.ecs.send(
      new UpdateServiceCommand({
        cluster: 'staging',
        service: 'web',
        forceNewDeployment: true
      })
    )
    const [primary, old] = out.service?.deployments ?? []
    expect(primary.id).not.toBe(before?.id)
    expect(primary.taskDefinition).toBe(before?.taskDefinition)
    expect(old.status).toBe('ACTIVE')
  })

  it('changes desiredCount without a new deployment', async () => {
    const { UpdateServiceCommand } = await import('@aws-sdk/client-ecs')
    await f.ecs.send(
      new UpdateServiceCommand({
        cluster: 'staging',
        service: 'web',
        desiredCount: 3
      })
    )
    await f.sim.runUntil(async () => (await f.service()).runningCount === 3, {
      maxSimSeconds: 60
    })
    const s = await f.service()
    expect(s.deployments).toHaveLength(1)
    expect(s.desiredCount).toBe(3)
  })
})
