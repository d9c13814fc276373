import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task
} from '@aws-sdk/client-ecs'
import { startFixture, type Fixture } from './sim-fixture.js'

let f: Fixture

beforeEach(async () => {
  f = await startFixture()
})

afterEach(async () => {
  await f.stop()
})

/** One-off tasks started by `me`, described. */
async function mine(desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> {
  const list = await f.ecs.send(
    new ListTasksCommand({ cluster: 'staging', startedBy: 'me', desiredStatus })
  )
  if (!list.taskArns?.length) return []
  const out = await f.ecs.send(
    new DescribeTasksCommand({ cluster: 'staging', tasks: list.taskArns })
  )
  return out.tasks ?? []
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (e) {
    return e as Error
  }
  throw new Error('expected the call to fail')
}

describe('RunTask and StopTask', () => {
  it('runs a one-off task to a scripted exit; ListTasks finds it by startedBy', async () => {
    f.sim.setRunTaskOutcome({
      command: 'migrate',
      exitCode: 3,
      afterSeconds: 20
    })
    const out = await f.ecs.send(
      new RunTaskCommand({
        cluster: 'staging',
        taskDefinition: 'web:1',
        startedBy: 'me',
        overrides: {
          containerOverrides: [{ name: 'app', command: ['migrate'] }]
        }
      })
    )
    expect(out.failures).toEqual([])
    const task = out.tasks?.[0]
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      startedBy: 'me',
      group: 'family:web'
    })
    const [running] = await mine('RUNNING')
    expect(running.taskArn).toBe(task?.taskArn)
    await f.sim.runUntil(async () => (await mine('STOPPED')).length === 1)
    const [stopped] = await mine('STOPPED')
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited'
    })
    expect(stopped.containers?.[0].exitCode).toBe(3)
    // The service's own tasks are untouched.
    const serviceTasks = await f.ecs.send(
      new ListTasksCommand({ cluster: 'staging', serviceName: 'web' })
    )
    expect(serviceTasks.taskArns).toHaveLength(2)
  })

  it('refuses an unknown container override, an inactive revision, awsvpc without subnets', async () => {
    const override = await failure(
      f.ecs.send(
        new RunTaskCommand({
          cluster: 'staging',
          taskDefinition: 'web:1',
          overrides: { containerOverrides: [{ name: 'nope', command: ['x'] }] }
        })
      )
    )
    expect(override.name).toBe('InvalidParameterException')
    await f.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'vpc',
        networkMode: 'awsvpc',
        containerDefinitions: [{ name: 'app', image: 'x:1' }]
      })
    )
    const network = await failure(
      f.ecs.send(
        new RunTaskCommand({ cluster: 'staging', taskDefinition: 'vpc:1' })
      )
    )
    expect(network.message).toMatch(/Network Configuration must be provided/)
    await f.ecs.send(
      new DeregisterTaskDefinitionCommand({ taskDefinition: 'vpc:1' })
    )
    const inactive = await failure(
      f.ecs.send(
        new RunTaskCommand({ cluster: 'staging', taskDefinition: 'vpc:1' })
      )
    )
    expect(inactive.name).toBe('ClientException')
    expect(inactive.message).toMatch(/inactive/)
  })

  it('takes its outcome rules through the control API too', async () => {
    const response = await fetch(`${f.sim.url}/_sim/run-task-outcomes`, {
      method: 'POST',
      body: JSON.stringify({ family: 'web', oom: true, afterSeconds: 1 })
    })
    expect(response.status).toBe(200)
    await f.ecs.send(
      new RunTaskCommand({
        cluster: 'staging',
        taskDefinition: 'web:1',
        startedBy: 'me'
      })
    )
    await f.sim.runUntil(async () => (await mine('STOPPED')).length === 1)
    const [stopped] = await mine('STOPPED')
    expect(stopped.containers?.[0]).toMatchObject({
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage'
    })
  })

  it('StopTask stops a running one-off task as UserInitiated', async () => {
    f.sim.setRunTaskOutcome({ afterSeconds: 3600 })
    const out = await f.ecs.send(
      new RunTaskCommand({
        cluster: 'staging',
        taskDefinition: 'web:1',
        startedBy: 'me'
      })
    )
    f.sim.advance(30_000)
    await f.ecs.send(
      new StopTaskCommand({
        cluster: 'staging',
        task: out.tasks?.[0].taskArn,
        reason: 'enough'
      })
    )
    f.sim.advance(5_000)
    const [stopped] = await mine('STOPPED')
    expect(stopped).toMatchObject({
      stopCode: 'UserInitiated',
      stoppedReason: 'enough',
      lastStatus: 'STOPPED'
    })
  })
})

describe('task definition end of life', () => {
  it('lists by exact family, status and order; deletes only INACTIVE ones', async () => {
    await f.register('')
    await f.register('')
    await f.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'web-api',
        containerDefinitions: [{ name: 'app', image: 'x:1' }]
      })
    )
    const desc = await f.ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'web', sort: 'DESC' })
    )
    expect(desc.taskDefinitionArns?.map((a) => a.split('/').pop())).toEqual([
      'web:3',
      'web:2',
      'web:1'
    ])
    await f.ecs.send(
      new DeregisterTaskDefinitionCommand({ taskDefinition: 'web:1' })
    )
    const deleted = await f.ecs.send(
      new DeleteTaskDefinitionsCommand({
        taskDefinitions: ['web:1', 'web:2', 'web:9']
      })
    )
    expect(
      deleted.taskDefinitions?.map((t) => [
        t.taskDefinitionArn?.split('/').pop(),
        t.status
      ])
    ).toEqual([['web:1', 'DELETE_IN_PROGRESS']])
    expect(
      deleted.failures?.map((x) => [x.arn?.split('/').pop(), x.reason])
    ).toEqual([
      ['web:2', 'TASK_DEFINITION_IN_USE'],
      ['web:9', 'TASK_DEFINITION_NOT_FOUND']
    ])
    const inProgress = await f.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: 'web',
        status: 'DELETE_IN_PROGRESS'
      })
    )
    expect(
      inProgress.taskDefinitionArns?.map((a) => a.split('/').pop())
    ).toEqual(['web:1'])
    const tooMany = await failure(
      f.ecs.send(
        new DeleteTaskDefinitionsCommand({
          taskDefinitions: Array.from({ length: 11 }, (_, i) => `web:${i + 1}`)
        })
      )
    )
    expect(tooMany.name).toBe('InvalidParameterException')
    const badStatus = await failure(
      f.ecs.send(new ListTaskDefinitionsCommand({ status: 'GONE' as 'ACTIVE' }))
    )
    expect(badStatus.name).toBe('InvalidParameterException')
  })
})
