import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service
} from '@aws-sdk/client-ecs'
import { mockClient } from 'aws-sdk-client-mock'
import { ManualClock } from '../../src/common/clock.js'
import { ConfigurationError } from '../../src/common/errors.js'
import {
  executeDeployments,
  mergeTags,
  type DeployDeps,
  type DeployOptions
} from '../../src/ecs/flavor-deploy.js'
import { planDeployments } from '../../src/ecs/flavor-plan.js'
import {
  DEFAULT_HEALTH_POLICY,
  type DeployFlavor
} from '../../src/ecs/flavor-manifest.js'
import type { WatchResult, WatchTarget } from '../../src/ecs/types.js'
import { describedTaskDefinition } from '../support/task-definitions.js'

const ecsMock = mockClient(ECSClient)
const client = new ECSClient({ region: 'us-east-1' })
const NEW = 'registry.example/monolith@sha256:' + 'c'.repeat(64)
const OLD = 'registry.example/monolith:1.0'

function flavor(
  name: string,
  wave = 1,
  extra: Partial<DeployFlavor> = {}
): DeployFlavor {
  return {
    name,
    environment: 'production',
    cluster: 'prod',
    region: 'us-east-1',
    service: `monolith-${name}`,
    containers: ['app'],
    wave,
    policy: DEFAULT_HEALTH_POLICY,
    rollout: 'waves',
    ...extra
  }
}

const tdArn = (family: string, revision: number): string =>
  `arn:aws:ecs:us-east-1:123456789012:task-definition/${family}:${revision}`

/** A small ECS: services on revision 7 of their own family; registrations bump the revision. */
function fakeEcs(
  names: string[],
  opts: { status?: Record<string, string>; image?: string } = {}
): { calls: string[]; at: Record<string, number[]> } {
  const calls: string[] = []
  const at: Record<string, number[]> = {}
  const service = (name: string): Service => ({
    serviceName: name,
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/prod/${name}`,
    status: opts.status?.[name] ?? 'ACTIVE',
    taskDefinition: tdArn(name, 7),
    deploymentController: { type: 'ECS' },
    deployments: [{ id: `ecs-svc/${name}-old`, status: 'PRIMARY' }]
  })
  ecsMock
    .on(DescribeServicesCommand)
    .callsFake((input: { services: string[] }) => {
      calls.push(`describe:${input.services.join(',')}`)
      return {
        services: input.services.filter((s) => names.includes(s)).map(service),
        failures: input.services
          .filter((s) => !names.includes(s))
          .map((s) => ({ arn: s, reason: 'MISSING' }))
      }
    })
  ecsMock
    .on(DescribeTaskDefinitionCommand)
    .callsFake((input: { taskDefinition: string }) => {
      const family = input.taskDefinition.split('/').pop()!.split(':')[0]
      const td = describedTaskDefinition({
        family,
        taskDefinitionArn: input.taskDefinition
      })
      if (opts.image) td.containerDefinitions![0].image = opts.image
      return { taskDefinition: td, tags: [{ key: 'team', value: 'core' }] }
    })
  ecsMock
    .on(RegisterTaskDefinitionCommand)
    .callsFake((input: RegisterTaskDefinitionCommandInput) => {
      const family = input.family ?? ''
      calls.push(`register:${family}`)
      ;(at[family] ??= []).push(clock.now())
      return {
        taskDefinition: {
          ...input,
          taskDefinitionArn: tdArn(family, 8),
          revision: 8
        }
      }
    })
  ecsMock
    .on(UpdateServiceCommand)
    .callsFake((input: { service: string; taskDefinition: string }) => {
      const rev = input.taskDefinition.split(':').pop()
      calls.push(`update:${input.service}:${rev}`)
      return {
        service: {
          ...service(input.service),
          deployments: [
            { id: `ecs-svc/${input.service}-r${rev}`, status: 'PRIMARY' },
            { id: `ecs-svc/${input.service}-old`, status: 'ACTIVE' }
          ]
        }
      }
    })
  return { calls, at }
}

let clock: ManualClock
let watched: WatchTarget[][]
let verdicts: Record<string, Partial<WatchResult>>
let lines: string[]

function deps(): DeployDeps {
  return {
    ecsFor: () => client,
    clock,
    log: (line) => lines.push(line),
    watch: async (targets) => {
      watched.push(targets)
      return targets.map((t) => ({
        cluster: t.cluster,
        service: t.service,
        deploymentId: t.deploymentId,
        result: 'healthy',
        durationSeconds: 1,
        stoppedTasks: [],
        timeline: [],
        ...(verdicts[t.deploymentId ?? t.taskDefinitionArn ?? ''] ?? {})
      }))
    }
  }
}

const options: DeployOptions = {
  image: NEW,
  wait: true,
  rollbackOnFailure: true,
  rollbackScope: 'changed',
  dryRun: false,
  tags: [{ key: 'release-train:commit', value: 'abc' }]
}

beforeEach(() => {
  ecsMock.reset()
  clock = new ManualClock(0)
  watched = []
  verdicts = {}
  lines = []
})

describe('planDeployments', () => {
  it('describes services in batches of ten per cluster', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`)
    const { calls } = fakeEcs(names.map((n) => `monolith-${n}`))
    const plans = await planDeployments(
      names.map((n) => flavor(n)),
      NEW,
      deps()
    )
    expect(plans).toHaveLength(12)
    expect(calls.filter((c) => c.startsWith('describe:'))).toEqual([
      `describe:${names
        .slice(0, 10)
        .map((n) => `monolith-${n}`)
        .join(',')}`,
      'describe:monolith-f10,monolith-f11'
    ])
  })

  it('reports every problem at once and writes nothing', async () => {
    const { calls } = fakeEcs(
      ['monolith-web', 'monolith-admin', 'monolith-old'],
      {
        status: { 'monolith-old': 'DRAINING' }
      }
    )
    const error = await planDeployments(
      [
        flavor('web'),
        flavor('admin', 1, { containers: ['worker'] }),
        flavor('api'),
        flavor('old')
      ],
      NEW,
      deps()
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toBe(
      [
        'Nothing was deployed; fix these first:',
        '- Flavor "api": service "monolith-api" not found in cluster "prod"',
        '- Flavor "old": service "monolith-old" in cluster "prod" is DRAINING, not ACTIVE',
        '- Flavor "admin": Task definition monolith-admin has no container "worker"; its containers: app, log-router'
      ].join('\n')
    )
    expect(calls.some((c) => /^(register|update)/.test(c))).toBe(false)
  })

  it('marks a flavor whose render equals the running definition as unchanged', async () => {
    fakeEcs(['monolith-web'], { image: NEW })
    const [plan] = await planDeployments([flavor('web')], NEW, deps())
    expect(plan.changes).toEqual([])
  })
})

describe('executeDeployments', () => {
  it('is a no-op when nothing differs: no registration, no update, no wait', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-api'], { image: NEW })
    const plans = await planDeployments(
      [flavor('web'), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(report.result).toBe('no-op')
    expect(report.changed).toBe(false)
    expect(
      report.flavors.map((f) => [
        f.flavor,
        f.result,
        f.changed,
        f.taskDefinitionArn
      ])
    ).toEqual([
      ['web', 'no-op', false, tdArn('monolith-web', 7)],
      ['api', 'no-op', false, tdArn('monolith-api', 7)]
    ])
    expect(calls.filter((c) => !c.startsWith('describe'))).toEqual([])
    expect(watched).toEqual([])
  })

  it('registers at 1/s, keeps existing tags, updates in parallel and follows the new deployment', async () => {
    const { calls, at } = fakeEcs([
      'monolith-web',
      'monolith-api',
      'monolith-admin'
    ])
    const plans = await planDeployments(
      [flavor('web'), flavor('api'), flavor('admin')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(report.result).toBe('success')
    expect(report.changed).toBe(true)
    expect(calls.filter((c) => !c.startsWith('describe'))).toEqual([
      'register:monolith-web',
      'register:monolith-api',
      'register:monolith-admin',
      'update:monolith-web:8',
      'update:monolith-api:8',
      'update:monolith-admin:8'
    ])
    expect([
      at['monolith-web'],
      at['monolith-api'],
      at['monolith-admin']
    ]).toEqual([[0], [1000], [2000]])
    const registered = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]
      .args[0].input
    expect(registered.tags).toEqual([
      { key: 'team', value: 'core' },
      { key: 'release-train:commit', value: 'abc' }
    ])
    expect(registered.containerDefinitions?.[0].image).toBe(NEW)
    expect(registered).not.toHaveProperty('revision')
    expect(watched).toHaveLength(1)
    expect(watched[0].map((t) => t.deploymentId)).toEqual([
      'ecs-svc/monolith-web-r8',
      'ecs-svc/monolith-api-r8',
      'ecs-svc/monolith-admin-r8'
    ])
    expect(report.flavors[0]).toMatchObject({
      flavor: 'web',
      taskDefinitionArn: tdArn('monolith-web', 8),
      previousTaskDefinitionArn: tdArn('monolith-web', 7),
      revisionBefore: 7,
      revisionAfter: 8,
      deploymentId: 'ecs-svc/monolith-web-r8',
      changed: true,
      result: 'success',
      rolledBack: false,
      imageBefore: OLD,
      imageAfter: NEW
    })
  })

  it('goes wave by wave, each healthy before the next', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-admin'])
    const plans = await planDeployments(
      [flavor('web', 2), flavor('admin', 1)],
      NEW,
      deps()
    )
    await executeDeployments(plans, options, deps())
    expect(calls.filter((c) => !c.startsWith('describe'))).toEqual([
      'register:monolith-admin',
      'update:monolith-admin:8',
      'register:monolith-web',
      'update:monolith-web:8'
    ])
    expect(watched.map((w) => w.map((t) => t.service))).toEqual([
      ['monolith-admin'],
      ['monolith-web']
    ])
  })

  it('deploys every wave together when the environment says all-at-once', async () => {
    fakeEcs(['monolith-web', 'monolith-admin'])
    const plans = await planDeployments(
      [
        flavor('admin', 1, { rollout: 'all-at-once' }),
        flavor('web', 2, { rollout: 'all-at-once' })
      ],
      NEW,
      deps()
    )
    await executeDeployments(plans, options, deps())
    expect(watched.map((w) => w.map((t) => t.service))).toEqual([
      ['monolith-admin', 'monolith-web']
    ])
  })

  it('rolls back every flavor it changed when one fails, skips later waves, and says so', async () => {
    const { calls } = fakeEcs([
      'monolith-web',
      'monolith-api',
      'monolith-admin'
    ])
    verdicts['ecs-svc/monolith-api-r8'] = {
      result: 'failed',
      failureCategory: 'crash',
      failureReason: 'app exited 1'
    }
    const plans = await planDeployments(
      [flavor('web'), flavor('api'), flavor('admin', 2)],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(report.result).toBe('failed')
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([
      'update:monolith-web:8',
      'update:monolith-api:8',
      'update:monolith-web:7',
      'update:monolith-api:7'
    ])
    expect(watched[1].map((t) => t.deploymentId)).toEqual([
      'ecs-svc/monolith-web-r7',
      'ecs-svc/monolith-api-r7'
    ])
    expect(
      report.flavors.map((f) => [
        f.flavor,
        f.result,
        f.changed,
        f.rolledBack,
        f.rollback?.result
      ])
    ).toEqual([
      ['web', 'rolled-back', true, true, 'healthy'],
      ['api', 'failed', true, true, 'healthy'],
      ['admin', 'skipped', false, false, undefined]
    ])
    expect(report.flavors[1].error).toBe('failed (crash): app exited 1')
  })

  it('with rollback scope "failed" puts back only the failed flavor', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-api'])
    verdicts['ecs-svc/monolith-api-r8'] = {
      result: 'timeout',
      failureCategory: 'timeout'
    }
    const plans = await planDeployments(
      [flavor('web'), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(
      plans,
      { ...options, rollbackScope: 'failed' },
      deps()
    )
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([
      'update:monolith-web:8',
      'update:monolith-api:8',
      'update:monolith-api:7'
    ])
    expect(
      report.flavors.map((f) => [f.flavor, f.result, f.rolledBack])
    ).toEqual([
      ['web', 'success', false],
      ['api', 'failed', true]
    ])
  })

  it('rolls back a deployment still under way by StopServiceDeployment(ROLLBACK), a finished one by UpdateService', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-api'])
    const sdArn =
      'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/monolith-api/abc'
    const stops: unknown[] = []
    ecsMock.on(StopServiceDeploymentCommand).callsFake((input: unknown) => {
      stops.push(input)
      return { serviceDeploymentArn: sdArn }
    })
    verdicts['ecs-svc/monolith-web-r8'] = {
      serviceDeployment: { arn: 'sd-web', status: 'SUCCESSFUL' }
    }
    verdicts['ecs-svc/monolith-api-r8'] = {
      result: 'failed',
      failureCategory: 'health-check',
      serviceDeployment: {
        arn: sdArn,
        status: 'IN_PROGRESS',
        strategy: 'BLUE_GREEN'
      }
    }
    const plans = await planDeployments(
      [flavor('web'), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(stops).toEqual([
      { serviceDeploymentArn: sdArn, stopType: 'ROLLBACK' }
    ])
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([
      'update:monolith-web:8',
      'update:monolith-api:8',
      'update:monolith-web:7'
    ])
    expect(report.flavors.map((f) => [f.flavor, f.rollback?.method])).toEqual([
      ['web', 'update-service'],
      ['api', 'stop-service-deployment']
    ])
    // ECS's own rollback brings back the previous revision: followed by it.
    expect(watched[1]).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          taskDefinitionArn: tdArn('monolith-api', 7)
        })
      ])
    )
  })

  it('does not fight the circuit breaker: waits for its rollback instead of updating', async () => {
    const { calls } = fakeEcs(['monolith-web'])
    verdicts['ecs-svc/monolith-web-r8'] = {
      result: 'failed',
      failureCategory: 'rolled-back',
      failureReason: 'circuit breaker rolled back'
    }
    const plans = await planDeployments([flavor('web')], NEW, deps())
    const report = await executeDeployments(plans, options, deps())
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([
      'update:monolith-web:8'
    ])
    expect(watched[1]).toEqual([
      expect.objectContaining({ taskDefinitionArn: tdArn('monolith-web', 7) })
    ])
    expect(report.flavors[0]).toMatchObject({
      result: 'failed',
      rolledBack: true,
      rollback: { by: 'circuit-breaker', result: 'healthy' }
    })
  })

  it('reports every flavor when one update fails, and rolls back the others', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-api'])
    ecsMock
      .on(UpdateServiceCommand, {
        service: 'monolith-api',
        taskDefinition: tdArn('monolith-api', 8)
      })
      .rejects(new Error('AccessDeniedException: not allowed'))
    const plans = await planDeployments(
      [flavor('web'), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(report.result).toBe('failed')
    expect(
      report.flavors.map((f) => [f.flavor, f.result, f.changed, f.rolledBack])
    ).toEqual([
      ['web', 'rolled-back', true, true],
      ['api', 'failed', false, false]
    ])
    // The client's own middleware names the call (src/common/aws-calls.ts).
    expect(report.flavors[1].error).toBe('AccessDeniedException: not allowed')
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([
      'update:monolith-web:8',
      'update:monolith-web:7'
    ])
  })

  it('does not move any service of a wave when a registration fails', async () => {
    const { calls } = fakeEcs(['monolith-web', 'monolith-api'])
    ecsMock
      .on(RegisterTaskDefinitionCommand, { family: 'monolith-api' })
      .rejects(new Error('ClientException: invalid memory'))
    const plans = await planDeployments(
      [flavor('web'), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    expect(calls.filter((c) => c.startsWith('update'))).toEqual([])
    expect(report.flavors.map((f) => [f.flavor, f.result])).toEqual([
      ['web', 'skipped'],
      ['api', 'failed']
    ])
    expect(report.changed).toBe(false)
  })

  it('without wait, reports updated and does not watch', async () => {
    fakeEcs(['monolith-web'])
    const plans = await planDeployments([flavor('web')], NEW, deps())
    const report = await executeDeployments(
      plans,
      { ...options, wait: false },
      deps()
    )
    expect(report.result).toBe('updated')
    expect(watched).toEqual([])
  })

  it('in a dry run changes nothing and lists the diff', async () => {
    const { calls } = fakeEcs(['monolith-web'])
    const plans = await planDeployments([flavor('web')], NEW, deps())
    const report = await executeDeployments(
      plans,
      { ...options, dryRun: true },
      deps()
    )
    expect(report.result).toBe('dry-run')
    expect(report.flavors[0].result).toBe('would-change')
    expect(report.flavors[0].changes).toEqual([
      { path: 'containerDefinitions[app].image', before: OLD, after: NEW }
    ])
    expect(calls.filter((c) => !c.startsWith('describe'))).toEqual([])
  })
})

describe('force-new-deployment and desired-count', () => {
  it('forces a new deployment of the running revision without registering', async () => {
    const { calls } = fakeEcs(['monolith-web'], { image: NEW })
    const plans = await planDeployments([flavor('web')], NEW, deps())
    const report = await executeDeployments(
      plans,
      { ...options, forceNewDeployment: true },
      deps()
    )
    expect(report.result).toBe('success')
    expect(calls.filter((c) => /^(register|update)/.test(c))).toEqual([
      'update:monolith-web:7'
    ])
    expect(
      ecsMock.commandCalls(UpdateServiceCommand)[0].args[0].input
    ).toMatchObject({
      taskDefinition: tdArn('monolith-web', 7),
      forceNewDeployment: true
    })
    expect(watched[0][0].deploymentId).toBe('ecs-svc/monolith-web-r7')
    expect(report.flavors[0]).toMatchObject({ changed: true })
  })

  it('sends the desired count with the update, and updates for a count change alone', async () => {
    fakeEcs(['monolith-web', 'monolith-api'], { image: NEW })
    // The fake services run no desired count, so 3 differs; api has none set.
    const plans = await planDeployments(
      [flavor('web', 1, { desiredCount: 3 }), flavor('api')],
      NEW,
      deps()
    )
    const report = await executeDeployments(plans, options, deps())
    const updates = ecsMock
      .commandCalls(UpdateServiceCommand)
      .map((c) => c.args[0].input)
    expect(updates).toEqual([
      {
        cluster: 'prod',
        service: 'monolith-web',
        taskDefinition: tdArn('monolith-web', 7),
        desiredCount: 3
      }
    ])
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0)
    expect(report.flavors.map((o) => [o.flavor, o.result])).toEqual([
      ['web', 'success'],
      ['api', 'no-op']
    ])
  })

  it('in a dry run reports a forced flavor as would-change', async () => {
    fakeEcs(['monolith-web'], { image: NEW })
    const plans = await planDeployments([flavor('web')], NEW, deps())
    const report = await executeDeployments(
      plans,
      { ...options, dryRun: true, forceNewDeployment: true },
      deps()
    )
    expect(report.flavors[0].result).toBe('would-change')
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0)
  })
})

describe('mergeTags', () => {
  it('keeps other tags and replaces ours', () => {
    expect(
      mergeTags(
        [
          { key: 'team', value: 'core' },
          { key: 'release-train:commit', value: 'old' }
        ],
        [{ key: 'release-train:commit', value: 'new' }]
      )
    ).toEqual([
      { key: 'team', value: 'core' },
      { key: 'release-train:commit', value: 'new' }
    ])
  })
})
