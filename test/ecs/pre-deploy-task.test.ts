import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeTasksCommand } from '@aws-sdk/client-ecs'
import {
  logStreamOf,
  runPreDeployTask,
  type PreDeployRun
} from '../../src/ecs/pre-deploy-task.js'
import { startFixture, type Fixture } from '../ecs-sim/sim-fixture.js'

/**
 * The pre-deploy task against the simulator on a manual clock: the real SDK,
 * and the runner's sleeps advance simulated time, so a 10-minute migration
 * takes milliseconds.
 */
let f: Fixture

beforeEach(async () => {
  f = await startFixture()
})

afterEach(async () => {
  await f.stop()
})

const awslogs = {
  logDriver: 'awslogs' as const,
  options: { 'awslogs-group': '/ecs/web', 'awslogs-stream-prefix': 'ecs' }
}

function run(overrides: Partial<PreDeployRun> = {}): PreDeployRun {
  return {
    spec: {
      flavor: 'web',
      command: ['python', 'manage.py', 'migrate'],
      timeoutSeconds: 600
    },
    cluster: 'staging',
    taskDefinitionArn: 'web:1',
    container: 'app',
    containerDefinitions: [{ name: 'app', logConfiguration: awslogs }],
    tags: [{ key: 'release-train:pre-deploy', value: 'web' }],
    ...overrides
  }
}

function deps(): Parameters<typeof runPreDeployTask>[1] & { lines: string[] } {
  const lines: string[] = []
  return {
    ecs: f.ecs,
    clock: f.sim.clock,
    log: (line) => lines.push(line),
    pollIntervalSeconds: 5,
    lines
  }
}

describe('runPreDeployTask', () => {
  it('succeeds on exit 0 after the task STOPPED, with its overrides, startedBy and tags on the task', async () => {
    f.sim.setRunTaskOutcome({ command: 'migrate', afterSeconds: 120 })
    const d = deps()
    const outcome = await runPreDeployTask(run(), d)
    expect(outcome).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      stopCode: 'EssentialContainerExited',
      logGroup: '/ecs/web'
    })
    const taskId = outcome.taskArn?.split('/').pop()
    expect(outcome.logStream).toBe(`ecs/app/${taskId}`)
    // Provisioning, pull and 120 s of migration: waited, not guessed.
    expect(outcome.durationSeconds).toBeGreaterThanOrEqual(120)
    const described = await f.ecs.send(
      new DescribeTasksCommand({
        cluster: 'staging',
        tasks: [outcome.taskArn ?? ''],
        include: ['TAGS']
      })
    )
    const task = described.tasks?.[0]
    expect(task?.startedBy).toBe('release-train/pre-deploy')
    expect(task?.group).toBe('family:web')
    expect(task?.overrides?.containerOverrides).toEqual([
      { name: 'app', command: ['python', 'manage.py', 'migrate'] }
    ])
    expect(task?.tags).toEqual([
      { key: 'release-train:pre-deploy', value: 'web' }
    ])
    expect(d.lines.join('\n')).toContain('pre-deploy: STOPPED')
  })

  it.each([
    [{ exitCode: 1 }, 1, undefined, /container app exited with 1/],
    [
      { oom: true },
      137,
      /OutOfMemoryError/,
      /exited with 137; OutOfMemoryError/
    ]
  ])(
    'fails on %j with the exit code, reason and stop code',
    async (rule, exitCode, containerReason, reason) => {
      f.sim.setRunTaskOutcome({ family: 'web', ...rule })
      const outcome = await runPreDeployTask(run(), deps())
      expect(outcome.status).toBe('failed')
      expect(outcome.exitCode).toBe(exitCode)
      if (containerReason)
        expect(outcome.containerReason).toMatch(containerReason)
      expect(outcome.reason).toMatch(reason)
      expect(outcome.reason).toContain(
        'EssentialContainerExited: Essential container in task exited'
      )
    }
  )

  it('stops a task that outlives its timeout and fails', async () => {
    f.sim.setRunTaskOutcome({ family: 'web', afterSeconds: 3600 })
    const outcome = await runPreDeployTask(
      run({ spec: { flavor: 'web', timeoutSeconds: 60 } }),
      deps()
    )
    expect(outcome.status).toBe('failed')
    expect(outcome.reason).toMatch(/not STOPPED after 60s.*stopped it/)
    f.sim.advance(10_000)
    const described = await f.ecs.send(
      new DescribeTasksCommand({
        cluster: 'staging',
        tasks: [outcome.taskArn ?? '']
      })
    )
    expect(described.tasks?.[0]).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated'
    })
  })

  it('fails without starting anything when RunTask refuses', async () => {
    const outcome = await runPreDeployTask(
      run({ taskDefinitionArn: 'nope:1' }),
      deps()
    )
    expect(outcome).toMatchObject({ status: 'failed' })
    expect(outcome.reason).toBe('RunTask failed: TaskDefinition not found.')
    expect(outcome.taskArn).toBeUndefined()
  })
})

describe('logStreamOf', () => {
  it('is prefix/container/task-id with awslogs and a stream prefix, else unknown', () => {
    const arn = 'arn:aws:ecs:us-east-1:1:task/staging/abc123'
    expect(
      logStreamOf([{ name: 'app', logConfiguration: awslogs }], 'app', arn)
    ).toEqual({ logGroup: '/ecs/web', logStream: 'ecs/app/abc123' })
    expect(
      logStreamOf(
        [
          {
            name: 'app',
            logConfiguration: {
              logDriver: 'awslogs',
              options: { 'awslogs-group': 'g' }
            }
          }
        ],
        'app',
        arn
      )
    ).toEqual({ logGroup: 'g' })
    expect(
      logStreamOf(
        [{ name: 'app', logConfiguration: { logDriver: 'json-file' } }],
        'app',
        arn
      )
    ).toEqual({})
  })
})
