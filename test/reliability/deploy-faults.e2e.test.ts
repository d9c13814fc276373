import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  NEW_IMAGE,
  buildBundles,
  deployIn,
  flavorResults,
  flavorManifest,
  startFlavorWorld,
  type FlavorWorld
} from '../support/flavor-world.js'
import { messages } from '../support/runner-harness.js'

/**
 * AWS faults through the built deploy-ecs-flavor bundle and the real SDK
 * against the ECS simulator: each error names its call and flavor, fatal
 * ones are not retried, transient ones are retried up to the budget.
 */
let world: FlavorWorld | undefined

beforeAll(() => buildBundles('deploy-ecs-flavor'), 300_000)

afterEach(async () => {
  await world?.close()
  world = undefined
})

function deploy(
  w: FlavorWorld,
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): ReturnType<typeof deployIn> {
  return deployIn(w, inputs, { env })
}

function calls(w: FlavorWorld, operation: string): string[] {
  return w.sim.requestLog
    .filter((r) => r.operation === operation)
    .map((r) => r.errorCode ?? String(r.status))
}

describe('AWS faults', () => {
  it('AccessDenied on UpdateService fails after one call, naming the permission and the flavor', async () => {
    const w = (world = await startFlavorWorld({ flavors: ['web'] }))
    w.sim.setFaults({
      failNext: [{ operation: 'UpdateService', error: 'access-denied' }]
    })
    const result = await deploy(w, { flavors: 'web' })
    expect(result.exitCode).toBe(1)
    const [error] = messages(result, 'error')
    expect(error).toContain('web failed: ECS UpdateService was refused')
    expect(error).toContain('lacks permission ecs:UpdateService')
    expect(calls(w, 'UpdateService')).toEqual(['AccessDeniedException'])
    expect(flavorResults(result.outputs.flavors)).toEqual({ web: 'failed' })
    expect(w.revisionOf('web')).toBe('monolith-web:1')
  }, 30_000)

  it('throttling beyond the retry budget names the call and the attempts, and changes nothing', async () => {
    const w = (world = await startFlavorWorld({ flavors: ['web'] }))
    w.sim.setFaults({
      failNext: [{ operation: 'UpdateService', error: 'throttle', count: 50 }]
    })
    const result = await deploy(
      w,
      { flavors: 'web' },
      { AWS_MAX_ATTEMPTS: '3' }
    )
    expect(result.exitCode).toBe(1)
    const [error] = messages(result, 'error')
    expect(error).toContain(
      'web failed: ECS UpdateService was throttled after 3 attempts and the retry budget is spent (ThrottlingException: Rate exceeded)'
    )
    expect(calls(w, 'UpdateService')).toEqual(
      Array(3).fill('ThrottlingException')
    )
    expect(flavorResults(result.outputs.flavors)).toEqual({ web: 'failed' })
    expect(w.revisionOf('web')).toBe('monolith-web:1')
  }, 30_000)

  it('a hung call is abandoned at call-timeout and named with its flavors, before any write', async () => {
    const w = (world = await startFlavorWorld({ flavors: ['web', 'api'] }))
    w.sim.setFaults({ operations: { DescribeServices: { latencyMs: 1500 } } })
    const result = await deploy(
      w,
      { flavors: 'web,api', 'call-timeout': '0.5s' },
      { AWS_MAX_ATTEMPTS: '2' }
    )
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toMatch(
      /^flavors web, api: ECS DescribeServices timed out after 2 attempts/
    )
    expect(calls(w, 'RegisterTaskDefinition')).toEqual([])
    expect(calls(w, 'UpdateService')).toEqual([])
    expect([w.revisionOf('web'), w.revisionOf('api')]).toEqual([
      'monolith-web:1',
      'monolith-api:1'
    ])
  }, 30_000)

  it('credentials that expire mid-wait: a warning at start with the figures, then an error naming the flavors left on the new revision', async () => {
    // The new tasks start slowly and ECS replaces one now and then; a
    // startup grace as long as the wait, with a budget, keeps the deploy
    // waiting, as a real slow start does, until the session ends. (With the
    // 2 s grace, an idle machine reached the strict phase's first health
    // failure before the session ended.)
    const w = (world = await startFlavorWorld({
      manifest: flavorManifest()
        .replace('startup-grace: 2s', 'startup-grace: 11s')
        .replace('startup-failure-budget: 0', 'startup-failure-budget: 50')
    }))
    w.sim.setBehavior(NEW_IMAGE, 'slow-start:10m')
    // The session ends 6 real seconds from now (past the registrations
    // even on a loaded machine, inside the 12 s wait): the SDK reads the
    // expiry from AWS_CREDENTIAL_EXPIRATION, the simulator (30x) refuses
    // after it.
    const seconds = 6
    w.sim.setFaults({ credentialsExpireAt: w.sim.now() + seconds * 30_000 })
    const result = await deploy(
      w,
      {},
      {
        AWS_SESSION_TOKEN: 'session',
        AWS_CREDENTIAL_EXPIRATION: new Date(
          Date.now() + seconds * 1000
        ).toISOString()
      }
    )
    const [warning] = messages(result, 'warning')
    expect(warning).toMatch(/^The AWS credentials expire at \S+ \(in \d+s\)/)
    // Two waves of 12 s plus a rollback's 12 s.
    expect(warning).toContain('can take up to 36s')
    expect(warning).toContain('Raise role-duration-seconds')
    expect(result.exitCode).toBe(1)
    const [error] = messages(result, 'error')
    expect(error).toMatch(
      /^The AWS credentials expired mid-run; left on the new revision: web \(\S+monolith-web:2\), api \(\S+monolith-api:2\)\./
    )
    expect(error).toContain('ExpiredTokenException')
    expect(result.summary).toContain('The AWS credentials expired mid-run')
    expect(flavorResults(result.outputs.flavors)).toEqual({
      web: 'failed',
      api: 'failed',
      worker: 'skipped'
    })
    expect([
      w.revisionOf('web'),
      w.revisionOf('api'),
      w.revisionOf('worker')
    ]).toEqual(['monolith-web:2', 'monolith-api:2', 'monolith-worker:1'])
  }, 40_000)

  it('an image input emptied by masking is named as such, before any AWS call', async () => {
    const w = (world = await startFlavorWorld({ flavors: ['web'] }))
    w.sim.clearRequestLog()
    const result = await deploy(w, { image: '' })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toMatch(
      /^The image input is empty: was it masked by the runner\?/
    )
    expect(w.sim.requestLog).toEqual([])
    expect(w.revisionOf('web')).toBe('monolith-web:1')
  }, 20_000)
})
