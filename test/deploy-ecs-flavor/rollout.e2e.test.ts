import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'
import {
  failureMessage,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'

/**
 * The steps around the rollout (pre-deploy task, keep-revisions,
 * force-new-deployment, desired-count), through the built bundle against
 * one simulator. Each test has its own environment and cluster, so they
 * share the simulator without seeing each other's services.
 */
const SPEED = 30
const V1 = 'registry.local/monolith:1.0'
const V2 = 'registry.local/monolith@sha256:' + '2'.repeat(64)
const V3 = 'registry.local/monolith@sha256:' + '3'.repeat(64)
const MIGRATE = ['python', 'manage.py', 'migrate', '--noinput']
const ENVIRONMENTS = ['migfail', 'migok', 'keep', 'force']

const health = `
    health:
      startup-grace: 3s
      startup-failure-budget: 0
      failure-budget: 0
      stable-for: 1s
      timeout: 15s`
const preDeploy = `
    pre-deploy:
      flavor: web
      command: [${MIGRATE.join(', ')}]
      timeout: 30s`
const MANIFEST = `
environments:
${ENVIRONMENTS.map(
  (env) => `  ${env}:
    cluster: ${env}
    service-name: '${env}-{flavor}'${env.startsWith('mig') ? preDeploy : ''}${health}`
).join('\n')}
flavors:
  - { name: web, containers: [app] }
  - { name: worker, containers: [app], desired-count: 2 }
`

let sim: EcsSimulator
let workspace: string

beforeAll(async () => {
  ensureBundle('deploy-ecs-flavor')
  sim = await startEcsSimulator({ speed: SPEED })
  workspace = mkdtempSync(join(tmpdir(), 'deploy-rollout-'))
  writeFileSync(join(workspace, 'flavors.yml'), MANIFEST)
  for (const env of ENVIRONMENTS) {
    sim.createCluster(env)
    for (const flavor of ['web', 'worker']) {
      sim.registerTaskDefinition({
        family: `${env}-${flavor}`,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'app',
            image: V1,
            essential: true,
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': '/ecs/monolith',
                'awslogs-region': 'us-east-1',
                'awslogs-stream-prefix': 'ecs'
              }
            }
          }
        ]
      })
      sim.createService({
        cluster: env,
        serviceName: `${env}-${flavor}`,
        taskDefinition: `${env}-${flavor}:1`,
        desiredCount: 1,
        networkConfiguration: {
          awsvpcConfiguration: { subnets: [`subnet-${env}`] }
        },
        steady: true
      })
    }
  }
}, 120_000)

afterAll(async () => {
  await sim?.stop()
  if (workspace) rmSync(workspace, { recursive: true, force: true })
})

async function deploy(inputs: Record<string, string>): Promise<ActionResult> {
  return runAction({
    action: 'deploy-ecs-flavor',
    cwd: workspace,
    inputs: {
      manifest: 'flavors.yml',
      flavors: 'web',
      'poll-interval': '0.5',
      ...inputs
    },
    env: sim.env,
    timeoutMs: 60_000
  })
}

/** Successful ECS calls of `operation` since the log was cleared. */
function calls(operation: string): number {
  return sim.requestLog.filter(
    (r) => r.operation === operation && r.status < 300
  ).length
}

function taskDefinitionOf(env: string, flavor = 'web'): string {
  return sim.service(env, `${env}-${flavor}`)?.taskDefinition ?? ''
}

function statusOf(family: string, revision: number): string | undefined {
  return sim
    .state()
    .taskDefinitions.find((td) => td.arn.endsWith(`/${family}:${revision}`))
    ?.status
}

describe('deploy-ecs-flavor around the rollout', () => {
  it('a migration that exits 1 rolls nothing out; the summary shows why and where its log is', async () => {
    sim.setRunTaskOutcome({ family: 'migfail-web', exitCode: 1 })
    sim.clearRequestLog()
    const result = await deploy({ environment: 'migfail', image: V2 })
    expect(result.exitCode).toBe(1)
    expect(result.outputs.result).toBe('failed')
    expect(calls('RunTask')).toBe(1)
    expect(calls('UpdateService')).toBe(0)
    expect(taskDefinitionOf('migfail')).toMatch(/migfail-web:1$/)
    const task = sim
      .state()
      .tasks.find((t) => t.taskDefinitionArn.endsWith('migfail-web:2'))
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      startedBy: 'release-train/pre-deploy',
      group: 'family:migfail-web',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited'
    })
    const taskId = task?.taskArn.split('/').pop() ?? ''
    const preDeploy = JSON.parse(result.outputs['pre-deploy']) as Record<
      string,
      unknown
    >
    expect(preDeploy).toMatchObject({
      status: 'failed',
      exitCode: 1,
      logGroup: '/ecs/monolith',
      logStream: `ecs/app/${taskId}`,
      command: MIGRATE
    })
    expect(result.summary).toContain('nothing was rolled out')
    expect(result.summary).toContain('Essential container in task exited')
    expect(result.summary).toContain(`ecs/app/${taskId}`)
    expect(result.summary).toContain('No service was changed.')

    // Out of memory: the container's reason reaches the summary.
    sim.setRunTaskOutcome({ family: 'migfail-web', oom: true })
    const oom = await deploy({ environment: 'migfail', image: V2 })
    expect(oom.exitCode).toBe(1)
    expect(oom.summary).toContain('OutOfMemoryError')
    expect(oom.summary).toContain('exited with 137')
    expect(taskDefinitionOf('migfail')).toMatch(/migfail-web:1$/)
  }, 60_000)

  it('a migration that exits 0 lets the rollout start; the same image again skips it unless asked', async () => {
    sim.clearRequestLog()
    const first = await deploy({ environment: 'migok', image: V2 })
    expect(first.exitCode).toBe(0)
    expect(first.outputs.result).toBe('success')
    const ops = sim.requestLog
      .filter((r) => r.status < 300)
      .map((r) => r.operation)
    expect(ops.indexOf('RunTask')).toBeGreaterThan(-1)
    expect(ops.indexOf('RunTask')).toBeLessThan(ops.indexOf('UpdateService'))
    // The task ran on the revision the rollout then deployed: one registration.
    expect(calls('RegisterTaskDefinition')).toBe(1)
    expect(taskDefinitionOf('migok')).toMatch(/migok-web:2$/)
    const task = sim
      .state()
      .tasks.filter((t) => t.startedBy === 'release-train/pre-deploy')
      .find((t) => t.taskDefinitionArn.includes('/migok-web:'))
    expect(task?.taskDefinitionArn).toBe(taskDefinitionOf('migok'))
    expect(task?.group).toBe('family:migok-web')
    expect(JSON.parse(first.outputs['pre-deploy'])).toMatchObject({
      status: 'succeeded',
      exitCode: 0
    })
    expect(first.summary).toContain('exited 0')

    sim.clearRequestLog()
    const again = await deploy({ environment: 'migok', image: V2 })
    expect(again.exitCode).toBe(0)
    expect(again.outputs.result).toBe('no-op')
    expect(calls('RunTask')).toBe(0)
    expect(again.summary).toContain('already runs this image')

    const forced = await deploy({
      environment: 'migok',
      image: V2,
      'pre-deploy': 'always'
    })
    expect(forced.exitCode).toBe(0)
    expect(calls('RunTask')).toBe(1)
    expect(calls('UpdateService')).toBe(0)

    const plan = await deploy({
      environment: 'migok',
      image: V3,
      'dry-run': 'true'
    })
    expect(plan.exitCode).toBe(0)
    expect(plan.summary).toContain('would run on a new revision of migok-web')
    expect(calls('RunTask')).toBe(1)
  }, 60_000)

  it('keep-revisions deregisters old revisions but keeps one another service runs and the rollback target', async () => {
    // keep-web:1 runs now; 2 is used by another service; 3 and 4 are old.
    for (const image of [
      'registry.local/monolith:0.2',
      'registry.local/monolith:0.3',
      'registry.local/monolith:0.4'
    ]) {
      sim.registerTaskDefinition({
        family: 'keep-web',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image, essential: true }]
      })
    }
    sim.createService({
      cluster: 'keep',
      serviceName: 'keep-canary',
      taskDefinition: 'keep-web:2',
      desiredCount: 1,
      steady: true
    })
    sim.clearRequestLog()
    const result = await deploy({
      environment: 'keep',
      image: V2,
      'keep-revisions': '2',
      'delete-revisions': 'true'
    })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('success')
    expect(taskDefinitionOf('keep')).toMatch(/keep-web:5$/)
    expect(statusOf('keep-web', 5)).toBe('ACTIVE')
    expect(statusOf('keep-web', 4)).toBe('ACTIVE')
    expect(statusOf('keep-web', 3)).toBe('DELETE_IN_PROGRESS')
    expect(statusOf('keep-web', 2)).toBe('ACTIVE')
    expect(statusOf('keep-web', 1)).toBe('ACTIVE')
    expect(calls('DeregisterTaskDefinition')).toBe(1)
    expect(calls('DeleteTaskDefinitions')).toBe(1)
    const [cleaned] = JSON.parse(result.outputs['cleaned-revisions']) as {
      family: string
      inUse: string[]
    }[]
    expect(cleaned.family).toBe('keep-web')
    expect(cleaned.inUse.map((a) => a.split('/').pop()).sort()).toEqual([
      'keep-web:1',
      'keep-web:2'
    ])
    expect(result.summary).toContain('### Old revisions')
  }, 60_000)

  it('force-new-deployment redeploys the same image; desired-count is applied with the update', async () => {
    const first = await deploy({
      environment: 'force',
      image: V2,
      flavors: 'web,worker'
    })
    expect(first.exitCode).toBe(0)
    const worker = sim.service('force', 'force-worker')
    expect(worker?.desiredCount).toBe(2)
    expect(worker?.runningCount).toBe(2)
    expect(sim.service('force', 'force-web')?.desiredCount).toBe(1)

    const before = sim.service('force', 'force-web')
    sim.clearRequestLog()
    const forced = await deploy({
      environment: 'force',
      image: V2,
      'force-new-deployment': 'true'
    })
    expect(forced.exitCode === 0 ? '' : failureMessage('deploy', forced)).toBe(
      ''
    )
    expect(forced.outputs.result).toBe('success')
    expect(calls('RegisterTaskDefinition')).toBe(0)
    expect(calls('UpdateService')).toBe(1)
    const after = sim.service('force', 'force-web')
    expect(after?.taskDefinition).toBe(before?.taskDefinition)
    expect(after?.deployments).toHaveLength(1)
    expect(after?.deployments[0].id).not.toBe(before?.deployments[0].id)
    expect(forced.outputs['deployment-id']).toBe(after?.deployments[0].id)

    // Scaled in by hand: the count alone brings it back, with no new revision.
    sim.updateService({
      cluster: 'force',
      service: 'force-worker',
      desiredCount: 1
    })
    sim.clearRequestLog()
    const scaled = await deploy({
      environment: 'force',
      image: V2,
      flavors: 'worker'
    })
    expect(scaled.exitCode).toBe(0)
    expect(scaled.outputs.result).toBe('success')
    expect(calls('RegisterTaskDefinition')).toBe(0)
    expect(sim.service('force', 'force-worker')).toMatchObject({
      desiredCount: 2,
      runningCount: 2
    })
  }, 60_000)
})
