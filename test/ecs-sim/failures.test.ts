import { afterEach, describe, expect, it } from '@jest/globals'
import { TG, startFixture, type Fixture } from './sim-fixture.js'

let f: Fixture | undefined

afterEach(async () => {
  await f?.stop()
  f = undefined
})

async function fixture(
  options: Parameters<typeof startFixture>[0] = {}
): Promise<Fixture> {
  f = await startFixture(options)
  return f
}

describe('circuit breaker', () => {
  it('a crash loop trips the breaker and rolls back to the last COMPLETED deployment', async () => {
    const f = await fixture({ desiredCount: 4 })
    const before = (await f.service()).deployments?.[0]
    const failedId = await f.deploy(await f.register('crash:5s:exit=3'))

    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.some(
          (d) => d.rolloutState === 'FAILED'
        ) ?? false,
      { maxSimSeconds: 600 }
    )
    let service = await f.service()
    const [rollback, failed] = service.deployments ?? []
    expect(failed).toMatchObject({
      id: failedId,
      status: 'ACTIVE',
      rolloutState: 'FAILED',
      rolloutStateReason:
        'ECS deployment circuit breaker: tasks failed to start.'
    })
    // Threshold for 4 desired: max(3, ceil(0.5 × 4)) = 3 consecutive failures.
    expect(failed.failedTasks).toBeGreaterThanOrEqual(3)
    expect(rollback).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      taskDefinition: before?.taskDefinition,
      rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${before?.id}.`
    })
    expect(service.taskDefinition).toBe(before?.taskDefinition)
    const messages = await f.messages()
    expect(messages).toContain(
      `(service web) (deployment ${failedId}) deployment failed: tasks failed to start.`
    )
    expect(messages).toContain(
      `(service web) rolling back to deployment ${before?.id}.`
    )
    // Newest first: the rollback is announced after the failure.
    expect(
      messages.indexOf(
        `(service web) rolling back to deployment ${before?.id}.`
      )
    ).toBeLessThan(
      messages.indexOf(
        `(service web) (deployment ${failedId}) deployment failed: tasks failed to start.`
      )
    )

    const crashed = await f.tasks({
      desiredStatus: 'STOPPED',
      startedBy: failedId
    })
    expect(crashed.length).toBeGreaterThanOrEqual(3)
    for (const task of crashed) {
      expect(task.stopCode).toBe('EssentialContainerExited')
      expect(task.stoppedReason).toBe('Essential container in task exited')
      expect(task.containers?.[0].exitCode).toBe(3)
    }

    await f.sim.runUntil(
      async () => {
        const s = await f.service()
        return (
          s.deployments?.length === 1 &&
          s.deployments[0].rolloutState === 'COMPLETED'
        )
      },
      { maxSimSeconds: 600 }
    )
    service = await f.service()
    expect(service.deployments?.[0].id).toBe(rollback.id)
    expect(service.runningCount).toBe(4)
  })

  it('without rollback the deployment stays FAILED and launches nothing more', async () => {
    const f = await fixture({
      desiredCount: 2,
      circuitBreaker: { enable: true, rollback: false }
    })
    const failedId = await f.deploy(await f.register('crash:5s'))
    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.[0].rolloutState === 'FAILED',
      { maxSimSeconds: 600 }
    )
    const started = (
      await f.tasks({ desiredStatus: 'STOPPED', startedBy: failedId })
    ).length
    f.sim.advance(120_000)
    const service = await f.service()
    expect(service.deployments?.[0]).toMatchObject({
      id: failedId,
      status: 'PRIMARY'
    })
    expect(service.deployments?.[0].runningCount).toBe(0)
    expect(
      (await f.tasks({ desiredStatus: 'STOPPED', startedBy: failedId }))
        .length + (await f.tasks({ startedBy: failedId })).length
    ).toBe(started)
    // The old deployment keeps serving.
    expect(service.deployments?.[1].runningCount).toBe(2)
  })

  it('with the breaker off, failures are counted but the rollout never fails', async () => {
    const f = await fixture({
      circuitBreaker: { enable: false, rollback: false }
    })
    await f.deploy(await f.register('crash:5s'))
    f.sim.advance(300_000)
    const service = await f.service()
    expect(service.deployments?.[0].rolloutState).toBe('IN_PROGRESS')
    expect(service.deployments?.[0].failedTasks).toBeGreaterThan(3)
    expect(await f.messages()).toContain(
      '(service web) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.'
    )
  })
})

describe('stopped task reasons', () => {
  it('OOM stops tasks with the OutOfMemoryError reason and exit 137', async () => {
    const f = await fixture()
    const id = await f.deploy(await f.register('healthy:5s,oom:30s'))
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 120 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.stopCode).toBe('EssentialContainerExited')
    expect(task.stoppedReason).toBe('Essential container in task exited')
    expect(task.containers?.[0]).toMatchObject({
      name: 'app',
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage',
      memory: '512'
    })
    expect(task.memory).toBe('512')
    expect(task.stoppedAt).toBeInstanceOf(Date)
  })

  it('an image that cannot be pulled fails to start and never runs', async () => {
    const f = await fixture()
    const id = await f.deploy(await f.register('pull-error'))
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 60 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.stopCode).toBe('TaskFailedToStart')
    expect(task.startedAt).toBeUndefined()
    const image = task.containers?.[0].image
    expect(task.stoppedReason).toBe(
      `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${image}: ${image}: not found`
    )
    expect(task.containers?.[0].reason).toBe(task.stoppedReason)
  })

  it('a secrets failure stops the task with ResourceInitializationError', async () => {
    const f = await fixture()
    const secret =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf'
    const id = await f.deploy(
      await f.register('secrets-error', {
        secrets: [{ name: 'DB_PASSWORD', valueFrom: secret }]
      })
    )
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 60 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.stopCode).toBe('TaskFailedToStart')
    expect(task.stoppedReason).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: /
    )
    expect(task.stoppedReason).toContain(secret)
  })

  it('a slow start shorter than the grace period passes; longer is killed by ELB', async () => {
    let f = await fixture({ healthCheckGracePeriodSeconds: 600 })
    const okId = await f.deploy(await f.register('slow-start:480s'))
    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.[0].rolloutState === 'COMPLETED',
      { maxSimSeconds: 900 }
    )
    expect(
      await f.tasks({ desiredStatus: 'STOPPED', startedBy: okId })
    ).toHaveLength(0)
    await f.stop()

    f = await fixture({ healthCheckGracePeriodSeconds: 60 })
    const id = await f.deploy(await f.register('slow-start:480s'))
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 300 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.stopCode).toBe('ServiceSchedulerInitiated')
    expect(task.stoppedReason).toBe(
      `Task failed ELB health checks in (target-group ${TG})`
    )
    // Killed once the 60 s grace period ran out, counted from RUNNING.
    const ranFor =
      (task.stoppingAt?.getTime() ?? 0) - (task.startedAt?.getTime() ?? 0)
    expect(ranFor).toBe(60_000)
    const taskId = task.taskArn?.split('/').pop() ?? ''
    const event = (await f.messages()).find((m) => m.includes(taskId))
    expect(event).toBe(
      `(service web) (task ${taskId}) (port 8000) is unhealthy in (target-group ${TG}) due to (reason Health checks failed with these codes: [502]).`
    )
  })

  it('healthy then failing: container health checks stop the task', async () => {
    const f = await fixture({ loadBalancer: false })
    const id = await f.deploy(
      await f.register('healthy:5s,healthy-then-fail:60s', {
        healthCheck: { command: ['CMD-SHELL', 'curl -f localhost:8000/health'] }
      })
    )
    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.[0].rolloutState === 'COMPLETED',
      { maxSimSeconds: 120 }
    )
    const healthy = await f.tasks({ startedBy: id })
    expect(healthy.every((t) => t.healthStatus === 'HEALTHY')).toBe(true)
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 120 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.stopCode).toBe('ServiceSchedulerInitiated')
    expect(task.stoppedReason).toBe('Task failed container health checks')
    expect(task.healthStatus).toBe('UNHEALTHY')
    expect(await f.messages()).toContain(
      `(service web) (task ${task.taskArn?.split('/').pop()}) failed container health checks.`
    )
    // A task that once ran healthy ends the breaker's watch: no rollback.
    f.sim.advance(600_000)
    expect((await f.service()).deployments?.[0].rolloutState).toBe('COMPLETED')
  })

  it('a task that cannot be placed leaves a service event and no task', async () => {
    const f = await fixture()
    const id = await f.deploy(await f.register('placement'))
    f.sim.advance(5_000)
    expect(await f.tasks({ startedBy: id })).toHaveLength(0)
    expect((await f.messages())[0]).toMatch(
      /^\(service web\) was unable to place a task because no container instance met all of its requirements\./
    )
    await f.sim.runUntil(
      async () =>
        (await f.service()).deployments?.some(
          (d) => d.rolloutState === 'FAILED'
        ) ?? false,
      { maxSimSeconds: 300 }
    )
  })

  it('image rules give a behaviour to every container of a matching image', async () => {
    const f = await fixture()
    f.sim.setBehavior('registry.example/web:v2', 'crash:1s:exit=42')
    const id = await f.deploy(await f.register(''))
    await f.sim.runUntil(
      async () =>
        (await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })).length > 0,
      { maxSimSeconds: 60 }
    )
    const [task] = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(task.containers?.[0].exitCode).toBe(42)
  })

  it('stopped tasks stay listed for an hour of simulated time', async () => {
    const f = await fixture()
    const id = await f.deploy(await f.register('pull-error'))
    f.sim.advance(30_000)
    const first = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    expect(first.length).toBeGreaterThan(0)
    f.sim.advance(3_600_000 + 60_000)
    const later = await f.tasks({ desiredStatus: 'STOPPED', startedBy: id })
    const arns = new Set(later.map((t) => t.taskArn))
    expect(first.some((t) => arns.has(t.taskArn))).toBe(false)
  })
})
