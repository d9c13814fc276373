import { describe, expect, it } from '@jest/globals'
import {
  aftermath,
  renderSummary
} from '../../src/deploy-ecs-flavor/summary.js'
import type {
  DeployReport,
  FlavorOutcome
} from '../../src/ecs/flavor-deploy.js'

function outcome(over: Partial<FlavorOutcome>): FlavorOutcome {
  return {
    flavor: 'web',
    service: 'monolith-web',
    cluster: 'prod',
    region: 'us-east-1',
    wave: 1,
    taskDefinitionArn: 'arn:td/monolith-web:8',
    previousTaskDefinitionArn: 'arn:td/monolith-web:7',
    revisionBefore: 7,
    revisionAfter: 8,
    changed: true,
    result: 'success',
    rolledBack: false,
    consoleUrl: 'https://console/web',
    imageBefore: 'monolith:1',
    imageAfter: 'monolith:2',
    changes: [],
    ...over
  }
}

describe('renderSummary', () => {
  it('shows a row per flavor with images, revisions and results', () => {
    const report: DeployReport = {
      result: 'success',
      changed: true,
      flavors: [
        outcome({}),
        outcome({
          flavor: 'api',
          service: 'monolith-api',
          changed: false,
          result: 'no-op',
          revisionAfter: 7,
          imageBefore: 'monolith:2',
          imageAfter: 'monolith:2'
        })
      ]
    }
    const text = renderSummary(report, 'monolith:2', 'production')
    expect(text).toContain('## Deploy to production — success')
    expect(text).toContain(
      '| web | [monolith-web](https://console/web) | monolith:1 | monolith:2 | 7 → 8 | success | no |'
    )
    expect(text).toContain(
      '| api | [monolith-api](https://console/web) | monolith:2 | (unchanged) | 7 | no-op |  |'
    )
    expect(aftermath(report)).toBe('')
  })

  it('after a failure lists exactly what changed, what went back and what did not', () => {
    const report: DeployReport = {
      result: 'failed',
      changed: true,
      flavors: [
        outcome({
          result: 'rolled-back',
          rolledBack: true,
          rollback: { by: 'action', result: 'healthy' }
        }),
        outcome({
          flavor: 'api',
          result: 'failed',
          error: 'failed (oom): app killed',
          rolledBack: true,
          rollback: { by: 'circuit-breaker', result: 'healthy' }
        }),
        outcome({
          flavor: 'admin',
          taskDefinitionArn: 'arn:td/monolith-admin:3',
          rollback: {
            by: 'action',
            result: 'error',
            reason: 'UpdateService failed: denied'
          }
        }),
        outcome({ flavor: 'worker', changed: false, result: 'skipped' })
      ]
    }
    expect(aftermath(report).split('\n')).toEqual([
      'api failed: failed (oom): app killed',
      'Changed by this run: web, api, admin.',
      'Rolled back to the previous task definition: web (healthy), api (by circuit breaker, healthy), admin (error: UpdateService failed: denied).',
      'Still on the new task definition: admin (arn:td/monolith-admin:3).',
      'Not deployed: worker.'
    ])
    expect(renderSummary(report, 'monolith:2')).toContain(
      'Still on the new task definition'
    )
  })

  it('shows the dry-run diff per flavor', () => {
    const text = renderSummary(
      {
        result: 'dry-run',
        changed: true,
        flavors: [
          outcome({
            changed: false,
            result: 'would-change',
            changes: [{ path: 'cpu', before: '256', after: '512' }]
          })
        ]
      },
      'monolith:2'
    )
    expect(text).toContain('web: 1 field(s) would change')
    expect(text).toContain('~ cpu: "256" → "512"')
  })
})
