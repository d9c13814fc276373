import { describe, expect, it } from '@jest/globals'
import {
  overallVerdict,
  renderWatchSummary
} from '../../src/ecs/watch-summary.js'
import type { WatchResult } from '../../src/ecs/types.js'

const healthy: WatchResult = {
  cluster: 'prod',
  service: 'api',
  deploymentId: 'ecs-svc/1',
  result: 'healthy',
  durationSeconds: 95,
  stoppedTasks: [],
  timeline: [{ atSeconds: 0, text: 'following deployment ecs-svc/1' }]
}
const failed: WatchResult = {
  cluster: 'prod',
  service: 'web',
  deploymentId: 'ecs-svc/2',
  result: 'failed',
  failureCategory: 'oom',
  failureReason: 'container app ran out of memory (memory limit 512 MiB)',
  durationSeconds: 120.4,
  stoppedTasks: [
    {
      taskArn: 'arn:aws:ecs:us-east-1:1:task/prod/abc',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [
        {
          name: 'app',
          exitCode: 137,
          reason: 'OutOfMemoryError: Container killed due to memory usage',
          memoryLimit: 512
        }
      ],
      category: 'oom'
    }
  ],
  timeline: [{ atSeconds: 90, text: 'stopped [oom]: container app …' }]
}

describe('overallVerdict', () => {
  it('is the worst result, naming each failing service', () => {
    const v = overallVerdict([healthy, failed])
    expect(v).toMatchObject({
      result: 'failed',
      failureCategory: 'oom',
      durationSeconds: 120.4
    })
    expect(v.failureReason).toBe(
      'web: container app ran out of memory (memory limit 512 MiB)'
    )
    expect(v.stoppedTasks[0]).toMatchObject({ service: 'web', category: 'oom' })
    expect(overallVerdict([healthy]).result).toBe('healthy')
    expect(
      overallVerdict([healthy, { ...healthy, result: 'timeout' }]).result
    ).toBe('timeout')
  })
})

describe('renderWatchSummary', () => {
  it('shows verdict, console links, stopped tasks with exit codes and timelines', () => {
    const md = renderWatchSummary([healthy, failed], 'us-east-1')
    expect(md).toMatch(/^## ❌ wait-healthy: failed \(oom\)/)
    expect(md).toContain(
      '(https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/web/health?region=us-east-1)'
    )
    expect(md).toContain(
      '| web | abc | oom | EssentialContainerExited | Essential container in task exited | app exit 137: OutOfMemoryError: Container killed due to memory usage (limit 512 MiB) |'
    )
    expect(md).toContain('<summary>web (ecs-svc/2)</summary>')
    expect(md).toContain('+ 1m30s  stopped [oom]')
  })
})
