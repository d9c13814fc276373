import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import {
  NEW_IMAGE,
  buildBundles,
  deployIn,
  startFlavorWorld,
  type FlavorWorld
} from '../support/flavor-world.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'

/**
 * Cancels, job time-outs and kills delivered as the runner delivers them,
 * then the post step run as the runner runs it: each flavor ends in one
 * reported state, and an interrupted run is never a success.
 */
let world: FlavorWorld | undefined

beforeAll(() => buildBundles('deploy-ecs-flavor', 'wait-healthy'), 300_000)

afterEach(async () => {
  await world?.close()
  world = undefined
})

/** A world whose new image takes ten simulated minutes to turn healthy: the wait is under way. */
async function slowWorld(): Promise<FlavorWorld> {
  const w = await startFlavorWorld()
  w.sim.setBehavior(NEW_IMAGE, 'slow-start:10m')
  return w
}

const BOTH_UPDATED = [
  'web: service monolith-web updated',
  'api: service monolith-api updated'
]

function deployInterrupted(
  w: FlavorWorld,
  signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL',
  inputs: Record<string, string> = {}
): Promise<ActionResult> {
  return deployIn(w, inputs, {
    interrupt: { whenOutput: BOTH_UPDATED, signal, graceMs: 1500 },
    post: true
  })
}

/** The post step's summary table: flavor → its one state. */
function statesIn(summary: string): Record<string, string> {
  const rows = summary
    .split('\n')
    .filter((l) => l.startsWith('| ') && !/^\| (Flavor|---)/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()))
  return Object.fromEntries(rows.map((r) => [r[1], r[2]]))
}

describe('interrupted runs', () => {
  it('SIGINT mid-wait without rollback-on-cancel: the post step reports each deployment not verified and fails', async () => {
    const w = (world = await slowWorld())
    const result = await deployInterrupted(w, 'SIGINT')
    expect(result.signals).toEqual(['SIGINT'])
    expect(result.exitCode).toBe(1)
    expect(result.outputs.result).toBeUndefined()
    expect(messages(result, 'error')[0]).toContain(
      'Deploy was interrupted (SIGINT'
    )
    const post = result.post as ActionResult
    expect(post.exitCode).toBe(1)
    expect(statesIn(post.summary)).toEqual({
      web: 'not verified',
      api: 'not verified',
      worker: 'not started'
    })
    const [error] = messages(post, 'error')
    const webDeployment = w.sim.service('staging', 'monolith-web')
      ?.deployments?.[0]?.id
    expect(error).toContain(
      `web: deployment ${webDeployment} of monolith-web:2 not verified; the service is left on it`
    )
    expect(error).toContain('api: deployment ')
    expect([
      w.revisionOf('web'),
      w.revisionOf('api'),
      w.revisionOf('worker')
    ]).toEqual(['monolith-web:2', 'monolith-api:2', 'monolith-worker:1'])
  }, 60_000)

  it('SIGINT mid-wait with rollback-on-cancel: the post step puts the previous revision back and waits until it is healthy', async () => {
    const w = (world = await slowWorld())
    const result = await deployInterrupted(w, 'SIGINT', {
      'rollback-on-cancel': 'true'
    })
    expect(result.exitCode).toBe(1)
    const post = result.post as ActionResult
    expect(post.exitCode).toBe(1)
    // The post step waits (bounded) for the rollbacks it started.
    expect(statesIn(post.summary)).toEqual({
      web: 'rolled back',
      api: 'rolled back',
      worker: 'not started'
    })
    expect(messages(post, 'error')[0]).toMatch(
      /web: deployment ecs-svc\/\S+ of monolith-web:2 not verified; rolled back to monolith-web:1, healthy after \d+ s \(deployment ecs-svc\/\S+\)/
    )
    expect(post.stdout).toContain('Waiting up to 240 s for the rollback of')
    for (const flavor of ['web', 'api']) {
      const service = w.sim.service('staging', `monolith-${flavor}`)
      expect(service?.deployments.map((d) => d.rolloutState)).toEqual([
        'COMPLETED'
      ])
    }
    expect([
      w.revisionOf('web'),
      w.revisionOf('api'),
      w.revisionOf('worker')
    ]).toEqual(['monolith-web:1', 'monolith-api:1', 'monolith-worker:1'])
  }, 60_000)

  it('a kill with no chance to react still leaves the post step a record of each flavor', async () => {
    const w = (world = await slowWorld())
    const result = await deployInterrupted(w, 'SIGKILL')
    expect(result.exitCode).toBe(137)
    const post = result.post as ActionResult
    expect(post.exitCode).toBe(1)
    expect(post.summary).toContain('the main step was stopped')
    expect(statesIn(post.summary)).toEqual({
      web: 'not verified',
      api: 'not verified',
      worker: 'not started'
    })
  }, 60_000)

  it('wait-healthy under a job time-out (SIGTERM, then kill): the post step names the deployment not verified', async () => {
    const w = (world = await slowWorld())
    w.sim.registerTaskDefinition({
      family: 'monolith-web',
      containerDefinitions: [{ name: 'app', image: NEW_IMAGE, memory: 512 }]
    })
    const { deploymentId } = w.sim.updateService({
      cluster: 'staging',
      service: 'monolith-web',
      taskDefinition: 'monolith-web:2'
    })
    const result = await runAction({
      action: 'wait-healthy',
      cwd: w.workspace,
      inputs: {
        cluster: 'staging',
        services: 'monolith-web',
        'deployment-id': deploymentId,
        timeout: '30s',
        'stable-for': '1s',
        'poll-interval': '0.5'
      },
      env: w.sim.env,
      interrupt: {
        whenOutput: 'Watching staging/monolith-web',
        signal: 'SIGTERM',
        killAfterMs: 1000
      },
      post: true,
      timeoutMs: 60_000
    })
    expect(result.signals?.[0]).toBe('SIGTERM')
    expect(result.exitCode).not.toBe(0)
    const post = result.post as ActionResult
    expect(post.exitCode).toBe(1)
    expect(post.summary).toContain('interrupted by SIGTERM')
    expect(statesIn(post.summary)).toEqual({ 'monolith-web': 'not verified' })
    expect(messages(post, 'error')[0]).toContain(
      `monolith-web: deployment ${deploymentId} of`
    )
  }, 60_000)

  it('a run that reached its verdict leaves the post step nothing to do', async () => {
    const w = (world = await startFlavorWorld({ flavors: ['web'] }))
    const result = await deployIn(w, { flavors: 'web' }, { post: true })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.flavors)[0].result).toBe('success')
    const post = result.post as ActionResult
    expect(post.exitCode).toBe(0)
    expect(post.summary).toBe('')
  }, 60_000)
})
