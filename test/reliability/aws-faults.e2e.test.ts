import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  NEW_IMAGE,
  flavorResults,
  startFlavorWorld,
  type FlavorWorld
} from '../support/flavor-world.js'
import { messages, runAction } from '../support/runner-harness.js'

/**
 * AWS faults through the built deploy-ecs-flavor bundle and the real SDK
 * against the ECS simulator: each error names its call and flavor, fatal
 * ones are not retried, transient ones are retried up to the budget.
 */
const root = new URL('../..', import.meta.url).pathname
let world: FlavorWorld | undefined

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'deploy-ecs-flavor'], {
    cwd: root,
    stdio: 'ignore'
  })
}, 120_000)

afterEach(async () => {
  await world?.close()
  world = undefined
})

function deploy(
  w: FlavorWorld,
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): ReturnType<typeof runAction> {
  return runAction({
    action: 'deploy-ecs-flavor',
    cwd: w.workspace,
    inputs: {
      manifest: 'flavors.yml',
      environment: 'staging',
      image: NEW_IMAGE,
      'poll-interval': '0.5',
      ...inputs
    },
    env: { ...w.sim.env, ...env },
    timeoutMs: 60_000
  })
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
})
