import { afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'

/**
 * The built bundle against the ECS simulator. The action waits in real time
 * while the simulator runs SPEED times faster, so the manifest's health
 * policy is in real seconds and short.
 */
const SPEED = 30
const V1 = 'registry.local/monolith:1.0'
const V2 = 'registry.local/monolith@sha256:' + '2'.repeat(64)
const CRASH = 'registry.local/monolith:crash'
const FLAVORS = ['web', 'api', 'worker']

const MANIFEST = `
defaults:
  health:
    startup-grace: 3s
    startup-failure-budget: 0
    failure-budget: 0
    stable-for: 1s
    timeout: 12s
environments:
  staging:
    cluster: staging
    service-name: 'monolith-{flavor}'
    rollout: all-at-once
flavors:
  - { name: web, containers: [app], environment: { DJANGO_MODE: web } }
  - { name: api, containers: [app], environment: { DJANGO_MODE: api } }
  - { name: worker, containers: [app], command: [celery, worker], wave: 2 }
`

let sim: EcsSimulator | undefined
let workspace: string | undefined

beforeAll(() => {
  ensureBundle('deploy-ecs-flavor')
}, 120_000)

afterEach(async () => {
  await sim?.stop()
  sim = undefined
  if (workspace) rmSync(workspace, { recursive: true, force: true })
  workspace = undefined
})

/** Cluster `staging` with three steady services on revision 1 of their own family. */
async function world(image = V1): Promise<EcsSimulator> {
  const s = await startEcsSimulator({ speed: SPEED })
  sim = s
  s.createCluster('staging')
  s.setBehavior(CRASH, 'crash:2s')
  for (const name of FLAVORS) {
    s.registerTaskDefinition({
      family: `monolith-${name}`,
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'app',
          image,
          essential: true,
          memory: 512,
          environment: [
            { name: 'DJANGO_MODE', value: name === 'worker' ? 'worker' : name }
          ],
          ...(name === 'worker' && { command: ['celery', 'worker'] })
        }
      ]
    })
    s.createService({
      cluster: 'staging',
      serviceName: `monolith-${name}`,
      taskDefinition: `monolith-${name}:1`,
      desiredCount: 1,
      steady: true
    })
  }
  workspace = mkdtempSync(join(tmpdir(), 'deploy-flavor-'))
  writeFileSync(join(workspace, 'flavors.yml'), MANIFEST)
  return s
}

async function deploy(
  s: EcsSimulator,
  inputs: Record<string, string>
): Promise<ActionResult> {
  return runAction({
    action: 'deploy-ecs-flavor',
    cwd: workspace,
    inputs: {
      manifest: 'flavors.yml',
      environment: 'staging',
      'poll-interval': '0.5',
      ...inputs
    },
    env: s.env,
    timeoutMs: 60_000
  })
}

function writes(s: EcsSimulator): string[] {
  return s.requestLog
    .filter(
      (r) =>
        ['RegisterTaskDefinition', 'UpdateService'].includes(r.operation) &&
        r.status < 300
    )
    .map((r) => r.operation)
}

function taskDefinitionOf(s: EcsSimulator, name: string): string {
  return s.service('staging', `monolith-${name}`)?.taskDefinition ?? ''
}

interface FlavorOutput {
  flavor: string
  changed: boolean
  result: string
  rolledBack: boolean
  taskDefinitionArn: string
  previousTaskDefinitionArn: string
  deploymentId?: string
  imageBefore: string
  imageAfter: string
}

function flavorsOf(result: ActionResult): FlavorOutput[] {
  return JSON.parse(result.outputs.flavors) as FlavorOutput[]
}

describe('deploy-ecs-flavor end to end', () => {
  it('deploys three flavors, then redeploying the same image is a no-op', async () => {
    const s = await world()
    const first = await deploy(s, { image: V2 })
    expect(messages(first, 'error')).toEqual([])
    expect(first.exitCode).toBe(0)
    expect(first.outputs.result).toBe('success')
    expect(first.outputs.changed).toBe('true')
    expect(first.outputs['previous-image']).toBe(V1)
    expect(first.outputs['previous-commit']).toBe('')
    const out = flavorsOf(first)
    expect(out.map((f) => [f.flavor, f.result, f.changed])).toEqual([
      ['web', 'success', true],
      ['api', 'success', true],
      ['worker', 'success', true]
    ])
    for (const f of out) {
      expect(f.previousTaskDefinitionArn).toMatch(`monolith-${f.flavor}:1`)
      expect(f.taskDefinitionArn).toMatch(`monolith-${f.flavor}:2`)
      expect(f.imageBefore).toBe(V1)
      expect(f.imageAfter).toBe(V2)
      const service = s.service('staging', `monolith-${f.flavor}`)
      expect(service?.taskDefinition).toBe(f.taskDefinitionArn)
      expect(service?.deployments.map((d) => d.id)).toEqual([f.deploymentId])
    }
    // Registrations are paced at 1/s.
    const registered = s.requestLog.filter(
      (r) => r.operation === 'RegisterTaskDefinition'
    )
    expect(registered).toHaveLength(3)
    expect(
      registered[2].realTime - registered[0].realTime
    ).toBeGreaterThanOrEqual(1900)
    expect(first.summary).toContain('| web | [monolith-web]')
    expect(first.summary).toContain('1 → 2')

    s.clearRequestLog()
    const again = await deploy(s, { image: V2 })
    expect(again.exitCode).toBe(0)
    expect(again.outputs.result).toBe('no-op')
    expect(again.outputs.changed).toBe('false')
    // The revisions registered by the first run carry its commit.
    expect(again.outputs['previous-image']).toBe(V2)
    expect(again.outputs['previous-commit']).toBe('0'.repeat(40))
    expect(flavorsOf(again).map((f) => f.result)).toEqual([
      'no-op',
      'no-op',
      'no-op'
    ])
    expect(writes(s)).toEqual([])
    expect(s.state().taskDefinitions).toHaveLength(6)
  }, 40_000)

  it('puts back an untagged image, the form ECS reports for an implicit :latest', async () => {
    const untagged = 'registry.local/monolith'
    const s = await world(untagged)
    const forward = await deploy(s, { image: V2, flavors: 'web' })
    expect(forward.exitCode).toBe(0)
    expect(forward.outputs['previous-image']).toBe(untagged)
    const back = await deploy(s, {
      image: forward.outputs['previous-image'],
      flavors: 'web'
    })
    expect(messages(back, 'error')).toEqual([])
    expect(back.outputs.result).toBe('success')
    expect(messages(back, 'warning')).toContainEqual(
      expect.stringContaining(`ECS pulls ${untagged}:latest`)
    )
    const [web] = flavorsOf(back)
    expect([web.imageBefore, web.imageAfter]).toEqual([V2, untagged])
    expect(taskDefinitionOf(s, 'web')).toBe(web.taskDefinitionArn)
  }, 40_000)

  it('rolls back a flavor whose image crash-loops and leaves the others untouched', async () => {
    const s = await world()
    const before = FLAVORS.map((f) => taskDefinitionOf(s, f))
    const result = await deploy(s, { image: CRASH, flavors: 'web' })
    expect(result.exitCode).toBe(1)
    expect(result.outputs.result).toBe('failed')
    const [web] = flavorsOf(result)
    expect(web).toMatchObject({
      flavor: 'web',
      result: 'failed',
      changed: true,
      rolledBack: true
    })
    expect(web.taskDefinitionArn).toMatch('monolith-web:2')
    expect(taskDefinitionOf(s, 'web')).toBe(before[0])
    const service = s.service('staging', 'monolith-web')
    // ECS's own rollback (StopServiceDeployment) leaves the failed
    // deployment listed as FAILED for a while, with no task.
    expect(service?.deployments[0]).toMatchObject({
      status: 'PRIMARY',
      taskDefinition: before[0]
    })
    expect(
      service?.deployments
        .slice(1)
        .every((d) => d.rolloutState === 'FAILED' && d.runningCount === 0)
    ).toBe(true)
    expect(taskDefinitionOf(s, 'api')).toBe(before[1])
    expect(taskDefinitionOf(s, 'worker')).toBe(before[2])
    const error = messages(result, 'error').join('\n')
    expect(error).toMatch(/web failed: failed \(crash\)/)
    expect(error).toContain('Changed by this run: web.')
    expect(error).toMatch(
      /Rolled back to the previous task definition: web \(via StopServiceDeployment\(ROLLBACK\), healthy\)/
    )
    expect(result.summary).toContain(
      'Rolled back to the previous task definition'
    )
  }, 40_000)

  it('after a later wave fails, rolls back every flavor the run changed and lists them', async () => {
    const s = await world()
    // Production goes wave by wave; the worker's new mode crash-loops.
    writeFileSync(
      join(workspace ?? '', 'waves.yml'),
      MANIFEST.replace('rollout: all-at-once', 'rollout: waves').replace(
        'command: [celery, worker], wave: 2',
        "command: [celery, worker], wave: 2, environment: { SIM_BEHAVIOR: 'crash:2s' }"
      )
    )
    const result = await deploy(s, { image: V2, manifest: 'waves.yml' })
    expect(result.exitCode).toBe(1)
    expect(
      flavorsOf(result).map((f) => [
        f.flavor,
        f.result,
        f.changed,
        f.rolledBack
      ])
    ).toEqual([
      ['web', 'rolled-back', true, true],
      ['api', 'rolled-back', true, true],
      ['worker', 'failed', true, true]
    ])
    for (const name of FLAVORS) {
      expect(taskDefinitionOf(s, name)).toMatch(`monolith-${name}:1`)
    }
    const error = messages(result, 'error').join('\n')
    expect(error).toContain('Changed by this run: web, api, worker.')
    expect(error).toContain(
      'Rolled back to the previous task definition: web (via UpdateService, healthy), api (via UpdateService, healthy), worker (via StopServiceDeployment(ROLLBACK), healthy).'
    )
    // Wave 2 was registered only after wave 1 was healthy.
    const ops = s.requestLog
      .filter((r) => r.status < 300)
      .map((r) => r.operation)
    const firstWorkerRegister = ops.lastIndexOf('RegisterTaskDefinition')
    expect(ops.slice(0, firstWorkerRegister)).toContain('ListTasks')
  }, 40_000)

  it('stays correct when the API throttles', async () => {
    const s = await world()
    // Scripted throttles on every kind of call, plus a little random noise.
    // (Heavy random throttling makes the SDK's adaptive retry crawl for
    // tens of seconds, which proves nothing more.)
    s.setFaults({
      throttleRate: 0.05,
      seed: 7,
      failNext: [
        { operation: 'DescribeServices', error: 'throttle', count: 1 },
        { operation: 'DescribeTaskDefinition', error: 'throttle', count: 1 },
        { operation: 'RegisterTaskDefinition', error: 'throttle', count: 1 },
        { operation: 'UpdateService', error: 'throttle', count: 1 }
      ]
    })
    const result = await deploy(s, { image: V2, flavors: 'web,api' })
    expect(messages(result, 'error')).toEqual([])
    expect(result.outputs.result).toBe('success')
    const throttled = new Set(
      s.requestLog
        .filter((r) => r.errorCode === 'ThrottlingException')
        .map((r) => r.operation)
    )
    for (const operation of [
      'DescribeServices',
      'DescribeTaskDefinition',
      'RegisterTaskDefinition',
      'UpdateService'
    ]) {
      expect([operation, throttled.has(operation)]).toEqual([operation, true])
    }
    // One revision per flavor, whatever the retries.
    expect(
      s
        .state()
        .taskDefinitions.filter((t) => /monolith-(web|api):2$/.test(t.arn))
    ).toHaveLength(2)
    expect(s.state().taskDefinitions.some((t) => /:3$/.test(t.arn))).toBe(false)
    expect(taskDefinitionOf(s, 'web')).toMatch('monolith-web:2')
    expect(taskDefinitionOf(s, 'api')).toMatch('monolith-api:2')
    expect(taskDefinitionOf(s, 'worker')).toMatch('monolith-worker:1')
  }, 40_000)

  it('dry run prints the diff and changes nothing', async () => {
    const s = await world()
    s.clearRequestLog()
    const result = await deploy(s, {
      image: V2,
      'dry-run': 'true',
      flavors: 'worker'
    })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('dry-run')
    expect(result.stdout).toContain(
      `~ containerDefinitions[app].image: "${V1}" → "${V2}"`
    )
    expect(result.summary).toContain('worker: 1 field(s) would change')
    expect(writes(s)).toEqual([])
  }, 30_000)

  describe('refuses bad input before any write', () => {
    const cases: [string, Record<string, string>, RegExp, (() => void)?][] = [
      [
        'an unknown flavor',
        { image: V2, flavors: 'web,mobile' },
        /Unknown flavor "mobile".*known flavors: web, api, worker/
      ],
      [
        'an unknown environment',
        { image: V2, environment: 'prod' },
        /Environment "prod" is not in .*known environments: staging/
      ],
      [
        'an image that breaks the reference grammar',
        { image: 'registry.local/Monolith:v1' },
        /Input "image" has "registry.local\/Monolith:v1", which has a repository name that is not valid/
      ],
      [
        'a container not in the task definition',
        {
          image: V2,
          service: 'monolith-web',
          cluster: 'staging',
          container: 'web'
        },
        /Task definition monolith-web has no container "web"; its containers: app/
      ],
      [
        'a missing service',
        {
          image: V2,
          service: 'monolith-cron',
          cluster: 'staging',
          container: 'app'
        },
        /service "monolith-cron" not found in cluster "staging"/
      ],
      [
        'a manifest that fails its schema',
        { image: V2, manifest: 'bad.yml' },
        /bad\.yml:\d+: flavors\[0\]\.wave: expected integer/
      ]
    ]
    it.each(cases)(
      '%s',
      async (_name, inputs, pattern) => {
        const s = await world()
        writeFileSync(
          join(workspace ?? '', 'bad.yml'),
          'environments:\n  staging: { cluster: staging, service-name: x }\nflavors:\n  - { name: web, containers: [app], wave: first }\n'
        )
        s.clearRequestLog()
        const result = await deploy(s, inputs)
        expect(result.exitCode).toBe(1)
        expect(messages(result, 'error').join('\n')).toMatch(pattern)
        expect(writes(s)).toEqual([])
        expect(result.outputs).toEqual({})
      },
      20_000
    )

    it('a service that is not ACTIVE', async () => {
      const s = await world()
      s.setFaults({})
      // DeleteService drains it; the simulator answers it like ECS.
      const { ECSClient, DeleteServiceCommand } =
        await import('@aws-sdk/client-ecs')
      const ecs = new ECSClient({
        endpoint: s.url,
        region: s.region,
        credentials: s.credentials
      })
      await ecs.send(
        new DeleteServiceCommand({
          cluster: 'staging',
          service: 'monolith-api',
          force: true
        })
      )
      ecs.destroy()
      s.clearRequestLog()
      const result = await deploy(s, { image: V2 })
      expect(result.exitCode).toBe(1)
      expect(messages(result, 'error').join('\n')).toMatch(
        /Flavor "api": service "monolith-api" (in cluster "staging" is (DRAINING|INACTIVE), not ACTIVE|not found)/
      )
      expect(writes(s)).toEqual([])
    }, 20_000)
  })
})
