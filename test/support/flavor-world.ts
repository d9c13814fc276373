import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEcsSimulator, type EcsSimulator } from './ecs-sim/index.js'
import {
  runAction,
  type ActionResult,
  type ActionRun
} from './runner-harness.js'
import { ensureBundle } from './bundle.js'

/** Running image of every flavor before a deploy. */
export const OLD_IMAGE = 'registry.local/monolith:1.0'
/** A good new image (the simulator runs any image healthy unless told). */
export const NEW_IMAGE = 'registry.local/monolith@sha256:' + 'a'.repeat(64)

/**
 * Manifest of cluster `staging`: web and api in wave 1, worker in wave 2,
 * short health policy in real seconds (the simulator runs faster).
 */
export function flavorManifest(timeout = '12s'): string {
  return [
    'defaults:',
    '  health:',
    '    startup-grace: 2s',
    '    startup-failure-budget: 0',
    '    failure-budget: 0',
    '    stable-for: 1s',
    `    timeout: ${timeout}`,
    'environments:',
    '  staging:',
    '    cluster: staging',
    "    service-name: 'monolith-{flavor}'",
    'flavors:',
    '  - { name: web, containers: [app] }',
    '  - { name: api, containers: [app] }',
    '  - { name: worker, containers: [app], wave: 2 }',
    ''
  ].join('\n')
}

/** A simulator with steady flavors on revision 1 and a workspace holding their manifest. */
export interface FlavorWorld {
  sim: EcsSimulator
  workspace: string
  /** The task definition a flavor's service runs now (`monolith-web:2`). */
  revisionOf(flavor: string): string
  close(): Promise<void>
}

export async function startFlavorWorld(
  options: { speed?: number; flavors?: string[]; manifest?: string } = {}
): Promise<FlavorWorld> {
  const sim = await startEcsSimulator({ speed: options.speed ?? 30 })
  sim.createCluster('staging')
  for (const name of options.flavors ?? ['web', 'api', 'worker']) {
    sim.registerTaskDefinition({
      family: `monolith-${name}`,
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        { name: 'app', image: OLD_IMAGE, essential: true, memory: 512 }
      ]
    })
    sim.createService({
      cluster: 'staging',
      serviceName: `monolith-${name}`,
      taskDefinition: `monolith-${name}:1`,
      desiredCount: 1,
      steady: true
    })
  }
  const workspace = mkdtempSync(join(tmpdir(), 'flavor-world-'))
  writeFileSync(
    join(workspace, 'flavors.yml'),
    options.manifest ?? flavorManifest()
  )
  return {
    sim,
    workspace,
    revisionOf: (flavor) =>
      (sim.service('staging', `monolith-${flavor}`)?.taskDefinition ?? '')
        .split('/')
        .pop() ?? '',
    async close() {
      await sim.stop()
      rmSync(workspace, { recursive: true, force: true })
    }
  }
}

/** The `flavors` output of deploy-ecs-flavor, keyed by flavor: its one reported result. */
export function flavorResults(
  flavorsOutput: string | undefined
): Record<string, string> {
  const list = JSON.parse(flavorsOutput || '[]') as {
    flavor: string
    result: string
  }[]
  return Object.fromEntries(list.map((f) => [f.flavor, f.result]))
}

/** Makes the bundles a test file runs current (in its beforeAll). */
export function buildBundles(...actions: string[]): void {
  for (const action of actions) ensureBundle(action)
}

/** Runs the built deploy-ecs-flavor on the world's manifest, image NEW_IMAGE unless given. */
export function deployIn(
  w: FlavorWorld,
  inputs: Record<string, string> = {},
  run: Omit<ActionRun, 'action' | 'inputs'> = {}
): Promise<ActionResult> {
  return runAction({
    action: 'deploy-ecs-flavor',
    cwd: w.workspace,
    timeoutMs: 60_000,
    ...run,
    env: { ...w.sim.env, ...run.env },
    inputs: {
      manifest: 'flavors.yml',
      environment: 'staging',
      image: NEW_IMAGE,
      'poll-interval': '0.5',
      ...inputs
    }
  })
}
