import { describe, expect, it } from '@jest/globals'
import {
  cleanupSection,
  plannedPreDeploy,
  preDeployLine,
  preDeploySection
} from '../../src/deploy-ecs-flavor/rollout-summary.js'
import type { PreDeployOutcome } from '../../src/ecs/pre-deploy-task.js'

const failed: PreDeployOutcome = {
  flavor: 'admin',
  status: 'failed',
  container: 'app',
  command: ['python', 'manage.py', 'migrate'],
  reason:
    'container app exited with 1; EssentialContainerExited: Essential container in task exited',
  taskArn: 'arn:aws:ecs:us-east-1:1:task/prod/abc',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/admin:8',
  exitCode: 1,
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  logGroup: '/ecs/monolith',
  logStream: 'ecs/app/abc'
}

describe('pre-deploy in the summary', () => {
  it('a failure says nothing was rolled out, why, and where the log is', () => {
    expect(preDeployLine(failed)).toBe(
      'Pre-deploy task (admin: python manage.py migrate) failed, so nothing was rolled out: container app exited with 1; EssentialContainerExited: Essential container in task exited. Log stream: /ecs/monolith ecs/app/abc.'
    )
    const section = preDeploySection(failed)
    expect(section).toContain('| Exit code (app) | 1 |')
    expect(section).toContain('| Stop code | EssentialContainerExited |')
    expect(section).toContain('| Log stream | ecs/app/abc |')
  })

  it('a skipped or planned task is one line without a table', () => {
    const skipped: PreDeployOutcome = {
      flavor: 'admin',
      status: 'skipped',
      container: 'app',
      reason: 'service monolith-admin already runs this image'
    }
    expect(preDeploySection(skipped)).toBe(
      '### Pre-deploy task\n\nPre-deploy task (admin) not run: service monolith-admin already runs this image.'
    )
    expect(
      plannedPreDeploy(
        { spec: { flavor: 'admin', command: ['migrate'] } },
        'auto'
      )
    ).toBe(
      "Pre-deploy task: admin's new revision runs `migrate` before the rollout (pre-deploy: auto, unless its service already runs the image).\n"
    )
  })
})

describe('old revisions in the summary', () => {
  it('one row per family with short names; nothing without families', () => {
    const arn = (r: string): string =>
      `arn:aws:ecs:us-east-1:1:task-definition/${r}`
    expect(
      cleanupSection([
        {
          family: 'web',
          region: 'us-east-1',
          deregistered: [arn('web:3')],
          deleted: [arn('web:3'), arn('web:1')],
          inUse: [arn('web:2')],
          errors: []
        }
      ])
    ).toContain('| web | web:3 | web:3, web:1 | web:2 |  |')
    expect(cleanupSection([])).toBe('')
  })
})
