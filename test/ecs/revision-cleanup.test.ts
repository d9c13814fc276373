import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { ManualClock } from '../../src/common/clock.js'
import { RateLimiter } from '../../src/ecs/rate-limiter.js'
import { cleanUpRevisions, familyOf } from '../../src/ecs/revision-cleanup.js'
import { startFixture, type Fixture } from '../ecs-sim/sim-fixture.js'

/** Revision clean-up against the simulator through the real SDK. */
let f: Fixture

beforeEach(async () => {
  f = await startFixture()
})

afterEach(async () => {
  await f.stop()
})

const arn = (ref: string): string =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/${ref}`

function statuses(): Record<string, string> {
  return Object.fromEntries(
    f.sim
      .state()
      .taskDefinitions.filter((td) => familyOf(td.arn) === 'web')
      .map((td) => [td.arn.split(':').pop() ?? '', td.status])
  )
}

function deps(): Parameters<typeof cleanUpRevisions>[2] {
  return {
    ecsFor: () => f.ecs,
    log: () => undefined,
    writes: new RateLimiter(new ManualClock(), 1000, 1000)
  }
}

describe('cleanUpRevisions', () => {
  it("keeps the newest N, the running one, the rollback target and another service's; deletes when asked", async () => {
    // web:1 runs; web:2..6 registered; web:6 deployed; web:2 used by "canary".
    for (let i = 0; i < 5; i++) await f.register('')
    f.sim.createService({
      cluster: 'staging',
      serviceName: 'canary',
      taskDefinition: 'web:2',
      desiredCount: 1,
      steady: true
    })
    await f.deploy('web:6')
    // An INACTIVE revision from long ago goes too when deleting.
    f.sim.registerTaskDefinition({
      family: 'other',
      containerDefinitions: [{ name: 'app', image: 'x:1' }]
    })
    const results = await cleanUpRevisions(
      [
        {
          region: 'us-east-1',
          cluster: 'staging',
          taskDefinitionArn: arn('web:6'),
          previousTaskDefinitionArn: arn('web:3')
        }
      ],
      { keep: 2, delete: false },
      deps()
    )
    // web:1 is still draining in the old deployment: in use as well.
    expect(statuses()).toEqual({
      '1': 'ACTIVE',
      '2': 'ACTIVE',
      '3': 'ACTIVE',
      '4': 'INACTIVE',
      '5': 'ACTIVE',
      '6': 'ACTIVE'
    })
    expect(results).toEqual([
      {
        family: 'web',
        region: 'us-east-1',
        inUse: [arn('web:3'), arn('web:2'), arn('web:1')],
        deregistered: [arn('web:4')],
        deleted: [],
        errors: []
      }
    ])

    // Once web:6 is alone and the rollback target moved on, 1 and 3 go too.
    await f.sim.runUntil(
      async () => (await f.service()).deployments?.length === 1
    )
    const again = await cleanUpRevisions(
      [
        {
          region: 'us-east-1',
          cluster: 'staging',
          taskDefinitionArn: arn('web:6'),
          previousTaskDefinitionArn: arn('web:5')
        }
      ],
      { keep: 1, delete: true },
      deps()
    )
    expect(statuses()).toEqual({
      '1': 'DELETE_IN_PROGRESS',
      '2': 'ACTIVE',
      '3': 'DELETE_IN_PROGRESS',
      '4': 'DELETE_IN_PROGRESS',
      '5': 'ACTIVE',
      '6': 'ACTIVE'
    })
    expect(again[0].deregistered).toEqual([arn('web:3'), arn('web:1')])
    expect(again[0].deleted.sort()).toEqual(
      [arn('web:1'), arn('web:3'), arn('web:4')].sort()
    )
    expect(statuses()['6']).toBe('ACTIVE')
  })

  it('reports an error instead of throwing when the services cannot be read', async () => {
    const lines: string[] = []
    const results = await cleanUpRevisions(
      [
        {
          region: 'us-east-1',
          cluster: 'gone',
          taskDefinitionArn: arn('web:1')
        }
      ],
      { keep: 1, delete: false },
      { ...deps(), log: (l) => lines.push(l) }
    )
    expect(results).toEqual([])
    expect(lines.join('\n')).toMatch(
      /services could not be read \(Cluster not found\.\)/
    )
    expect(statuses()['1']).toBe('ACTIVE')
  })
})
