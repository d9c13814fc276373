import { describe, expect, it } from '@jest/globals'
import {
  classifyServiceEvent,
  classifyStoppedTask,
  parseHealthCheckEvent,
  reportOf
} from '../../src/ecs/failure-classifier.js'
import type { StoppedTaskReport } from '../../src/ecs/types.js'
import { lastStoppedHint } from '../../src/ecs/watch-step.js'

const arn = 'arn:aws:ecs:us-east-1:123456789012:task/prod/abc123'

function stopped(over: Partial<StoppedTaskReport> = {}): StoppedTaskReport {
  return {
    taskArn: arn,
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'web', exitCode: 1 }],
    ...over
  }
}

describe('classifyStoppedTask', () => {
  it('names the container and memory limit of an OOM kill', () => {
    const c = classifyStoppedTask(
      stopped({
        containers: [
          { name: 'sidecar', exitCode: 0 },
          {
            name: 'web',
            exitCode: 137,
            reason: 'OutOfMemoryError: Container killed due to memory usage',
            memoryLimit: 512
          }
        ]
      })
    )
    expect(c?.category).toBe('oom')
    expect(c?.fatal).toBe(false)
    expect(c?.reason).toMatch(/container web/)
    expect(c?.reason).toMatch(/512 MiB/)
    expect(c?.reason).toMatch(/abc123/)
  })

  it('matches the lower-case OOM text seen in the wild', () => {
    const c = classifyStoppedTask(
      stopped({
        containers: [
          {
            name: 'web',
            exitCode: 137,
            reason: 'container killed due to memory usage'
          }
        ]
      })
    )
    expect(c?.category).toBe('oom')
  })

  it('does not call a bare exit 137 an OOM', () => {
    const c = classifyStoppedTask(
      stopped({ containers: [{ name: 'web', exitCode: 137 }] })
    )
    expect(c?.category).toBe('crash')
    expect(c?.reason).toMatch(/exited with code 137/)
  })

  it('treats image pull and secrets errors as fatal', () => {
    const pull = classifyStoppedTask(
      stopped({
        stopCode: 'TaskFailedToStart',
        stoppedReason:
          'CannotPullContainerError: pull image manifest has been retried 5 time(s): not found',
        containers: [{ name: 'web' }]
      })
    )
    expect(pull).toMatchObject({ category: 'image-pull', fatal: true })
    const secrets = classifyStoppedTask(
      stopped({
        stopCode: 'TaskFailedToStart',
        stoppedReason:
          'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed',
        containers: [{ name: 'web' }]
      })
    )
    expect(secrets).toMatchObject({ category: 'secrets', fatal: true })
  })

  it('reads the target group of an ELB health check failure', () => {
    const c = classifyStoppedTask(
      stopped({
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason:
          'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/42)',
        containers: [{ name: 'web', exitCode: 143 }]
      })
    )
    expect(c?.category).toBe('health-check')
    expect(c?.reason).toMatch(/targetgroup\/web\/42/)
  })

  it('recognises container health check failures', () => {
    const c = classifyStoppedTask(
      stopped({
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Task failed container health checks',
        containers: [{ name: 'web', exitCode: 143 }]
      })
    )
    expect(c?.category).toBe('health-check')
  })

  it('reports the exit code of a crashed essential container', () => {
    const c = classifyStoppedTask(
      stopped({ containers: [{ name: 'web', exitCode: 3 }] })
    )
    expect(c).toMatchObject({ category: 'crash', fatal: false })
    expect(c?.reason).toMatch(/web .*exited with code 3/)
  })

  it('ignores scale-in and user stops', () => {
    expect(
      classifyStoppedTask(
        stopped({
          stopCode: 'ServiceSchedulerInitiated',
          stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)',
          containers: [{ name: 'web', exitCode: 0 }]
        })
      )
    ).toBeUndefined()
    expect(
      classifyStoppedTask(
        stopped({
          stopCode: 'UserInitiated',
          stoppedReason: 'Task stopped by user',
          containers: [{ name: 'web', exitCode: 143 }]
        })
      )
    ).toBeUndefined()
  })
})

describe('reportOf', () => {
  it('takes the memory limit from the container, then the definition, then the task', () => {
    const task = {
      taskArn: arn,
      taskDefinitionArn: 'td:1',
      memory: '2048',
      containers: [{ name: 'a', memory: '256' }, { name: 'b' }, { name: 'c' }]
    }
    const report = reportOf(task, (_td, name) =>
      name === 'b' ? 1024 : undefined
    )
    expect(report.containers.map((c) => c.memoryLimit)).toEqual([
      256, 1024, 2048
    ])
  })
})

describe('service events', () => {
  it('parses target group and codes from an unhealthy event', () => {
    expect(
      parseHealthCheckEvent(
        '(service web) (task abc) (port 8000) is unhealthy in (target-group arn:tg/web/1) due to (reason Health checks failed with these codes: [502])'
      )
    ).toMatchObject({ targetGroup: 'arn:tg/web/1', codes: '502' })
    expect(
      parseHealthCheckEvent('(service web) has reached a steady state.')
    ).toBeUndefined()
  })

  it('classifies placement failures', () => {
    expect(
      classifyServiceEvent(
        '(service web) was unable to place a task because no container instance met all of its requirements.'
      )?.category
    ).toBe('placement')
    expect(
      classifyServiceEvent('(service web) has started 1 tasks')
    ).toBeUndefined()
  })
})

describe('lastStoppedHint', () => {
  it('adds the OOM cause to an ECS rollback reason, which says only that tasks failed', () => {
    const hint = lastStoppedHint({
      stopped: [
        stopped({
          containers: [
            {
              name: 'app',
              exitCode: 137,
              reason: 'OutOfMemoryError: Container killed due to memory usage',
              memoryLimit: 1024
            }
          ]
        })
      ]
    })
    expect(hint).toMatch(
      /^; last stopped task: Essential container in task exited \(app exit 137\): container app of task abc123 ran out of memory/
    )
    expect(hint).toMatch(/1024 MiB/)
  })

  it('keeps a crash to its exit code, and is empty without a stopped task', () => {
    expect(lastStoppedHint({ stopped: [stopped()] })).toBe(
      '; last stopped task: Essential container in task exited (web exit 1)'
    )
    expect(lastStoppedHint({ stopped: [] })).toBe('')
  })
})
