/**
 * `npm run rehearse`: the staging pipeline on this machine, with no cloud
 * account. The loopback registry and a local Actions cache stand in for ECR
 * and GitHub's cache, the ECS simulator for Amazon ECS; the actions are the
 * committed dist/ bundles, run the way the runner runs them.
 *
 *   push 1 (cold)  build-cached-image -> deploy-ecs-flavor (waits healthy)
 *   push 2 (warm)  one line of app code changed, runner wiped, same again
 *   --fail         push 3: the taskworker flavor runs out of memory; the
 *                  deploy halts and rolls back what it changed
 *
 * Options: --profile light|full (fixture weight, default light: the same
 * pipeline, stages and failure, with a cold build of minutes rather than the
 * full fixture's compile-heavy one, which bench:build measures), --speed N
 * (simulated seconds per real second, default 1), --fail, --json FILE.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { stringify } from 'yaml'
import { startCacheServer } from '../test/support/cache-server.js'
import {
  BASE_IMAGE,
  REGISTRY,
  dockerUnavailableReason
} from '../test/support/docker-env.js'
import { startEcsSimulator } from '../test/support/ecs-sim/index.js'
import {
  failureMessage,
  runAction,
  type ActionResult
} from '../test/support/runner-harness.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname

const { values: options } = parseArgs({
  options: {
    profile: { type: 'string', default: 'light' },
    speed: { type: 'string', default: '1' },
    fail: { type: 'boolean', default: false },
    json: { type: 'string' }
  }
})

const CLUSTER = 'monolith-staging'
// A repository of its own per run, so an earlier run's registry cache cannot
// make the cold push warm.
const IMAGE = `${REGISTRY}/rehearsal-${Date.now().toString(36)}/monolith`

/**
 * The loopback registry plays ECR: the deploy names the pushed image by an
 * ECR host, so deploy-ecs-flavor's image check asks the simulator's ECR
 * stand-in (AWS_ENDPOINT_URL_ECR), which reads the very manifest the build
 * pushed to the loopback registry.
 */
const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
function asEcrImage(image: string): string {
  return image.startsWith(`${REGISTRY}/`)
    ? `${ECR_HOST}/${image.slice(REGISTRY.length + 1)}`
    : image
}
// Time limits per action. The full fixture's cold build compiles its native
// extensions: about 5.5 minutes alone on two cores, several times that on a
// busy machine. A deploy waits at most the manifest's 10m timeout and then as
// long again for a rollback, on the simulator's clock.
const BUILD_LIMIT_MS = 40 * 60_000
const DEPLOY_LIMIT_MS = 25 * 60_000

const FLAVORS = [
  { name: 'taskworker', wave: 1, memory: 1024 },
  { name: 'api', wave: 2, memory: 2048 },
  { name: 'web', wave: 3, memory: 2048 }
]

interface FlavorReport {
  flavor: string
  result: string
  changed: boolean
  rolledBack: boolean
  imageAfter?: string
  error?: string
}

interface PushReport {
  push: string
  buildSeconds: number
  deploySeconds: number
  totalSeconds: number
  cachedSteps: number
  totalSteps: number
  cacheHitRatio: string
  firstMissedStep: string
  image: string
  deployResult: string
  flavors: FlavorReport[]
  failure?: string
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10
}

/** The manifest the rehearsal deploys with, as a user would write it. */
function manifest(oomFlavor?: string): string {
  return stringify({
    defaults: {
      health: {
        'startup-grace': '2m',
        'startup-failure-budget': 2,
        'failure-budget': 0,
        'stable-for': '10s',
        timeout: '10m'
      }
    },
    environments: {
      staging: {
        cluster: CLUSTER,
        region: 'us-east-1',
        'service-name': 'monolith-{flavor}-staging',
        rollout: 'all-at-once'
      }
    },
    flavors: FLAVORS.map((f) => ({
      name: f.name,
      containers: ['app'],
      wave: f.wave,
      // The simulator's stand-in for a worker that outgrows its memory limit.
      ...(f.name === oomFlavor
        ? { environment: { SIM_BEHAVIOR: 'oom:20s' } }
        : {})
    }))
  })
}

/** Wipes what an ephemeral runner would not have: images and build cache. */
async function wipeRunner(cacheMountsDir: string): Promise<void> {
  await prune(['buildx', 'prune', '-af'])
  await prune(['image', 'prune', '-af'])
  await rm(cacheMountsDir, { recursive: true, force: true })
}

/**
 * The engine runs one prune at a time and refuses a second outright; on a
 * developer's machine a test suite may be pruning the same engine.
 */
async function prune(args: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run('docker', args)
      return
    } catch (error) {
      if (
        attempt >= 30 ||
        !/prune operation is already running/.test(String(error))
      )
        throw error
      await new Promise((resolve) => setTimeout(resolve, 2000))
    }
  }
}

function fail(action: string, result: ActionResult): never {
  throw new Error(failureMessage(action, result))
}

async function main(): Promise<number> {
  const reason = dockerUnavailableReason()
  if (reason) {
    console.error(
      `The rehearsal builds a real image and needs Docker: ${reason}`
    )
    return 2
  }
  const speed = Number(options.speed)
  if (!Number.isFinite(speed) || speed <= 0) {
    console.error(`--speed has "${options.speed}"; expected a positive number`)
    return 2
  }
  if (!['light', 'full'].includes(options.profile ?? '')) {
    console.error(`--profile has "${options.profile}"; expected light or full`)
    return 2
  }

  const work = await mkdtemp(join(tmpdir(), 'ert-rehearsal-'))
  const repo = join(work, 'monolith')
  const cacheMountsDir = join(work, 'cache-mounts')
  await cp(join(root, 'test/fixtures/monolith'), repo, { recursive: true })
  await mkdir(join(repo, '.github'), { recursive: true })
  await writeFile(join(repo, '.github/ecs-flavors.yml'), manifest())

  const cache = await startCacheServer()
  const sim = await startEcsSimulator({ speed })
  const reports: PushReport[] = []
  try {
    sim.createCluster(CLUSTER)
    for (const flavor of FLAVORS) {
      const family = `monolith-${flavor.name}-staging`
      sim.registerTaskDefinition({
        family,
        cpu: '512',
        memory: String(flavor.memory),
        containerDefinitions: [
          {
            name: 'app',
            image: asEcrImage(`${IMAGE}:previous-release`),
            memory: flavor.memory,
            essential: true,
            environment: [{ name: 'DJANGO_MODE', value: flavor.name }]
          }
        ]
      })
      sim.createService({
        cluster: CLUSTER,
        serviceName: family,
        taskDefinition: family,
        desiredCount: 2,
        healthCheckGracePeriodSeconds: 30,
        deploymentConfiguration: {
          minimumHealthyPercent: 100,
          maximumPercent: 200,
          deploymentCircuitBreaker: { enable: true, rollback: true }
        },
        steady: true
      })
    }

    const env = {
      ...cache.env(),
      ...sim.env,
      GITHUB_REF: 'refs/heads/release/rehearsal',
      GITHUB_REF_NAME: 'release/rehearsal',
      GITHUB_REPOSITORY: 'acme/monolith'
    }

    const push = async (label: string, commit: string): Promise<PushReport> => {
      console.log(`\n=== ${label}`)
      const started = Date.now()
      const build = await runAction({
        action: 'build-cached-image',
        cwd: repo,
        env: { ...env, GITHUB_SHA: commit },
        inputs: {
          image: IMAGE,
          context: '.',
          'build-args': `BASE_IMAGE=${BASE_IMAGE}\nPROFILE=${options.profile}`,
          secrets: 'id=ca,src=/etc/ssl/certs/ca-certificates.crt',
          push: true,
          cache: 'registry',
          // As in the e2e suite and the benchmark: RUN steps use the host's
          // network, so the rehearsal needs no docker0 bridge (some engines,
          // this machine's among them, run without one).
          network: 'host',
          'cache-mounts-dir': cacheMountsDir
        },
        timeoutMs: BUILD_LIMIT_MS
      })
      if (build.exitCode !== 0) fail('build-cached-image', build)
      const built = Date.now()
      const image = build.outputs.image
      console.log(
        `built ${image} in ${seconds(built - started)} s: ${build.outputs['cached-steps']}/${build.outputs['total-steps']} steps cached`
      )

      const deploy = await runAction({
        action: 'deploy-ecs-flavor',
        cwd: repo,
        env: { ...env, GITHUB_SHA: commit },
        inputs: {
          image: asEcrImage(image),
          environment: 'staging',
          flavors: 'all',
          wait: true
        },
        timeoutMs: DEPLOY_LIMIT_MS
      })
      if (deploy.timedOutAfterMs !== undefined)
        fail('deploy-ecs-flavor', deploy)
      const checked = /The image \S+ is in ECR repository \S+/.exec(
        deploy.stdout
      )
      if (checked) console.log(`image check: ${checked[0]}`)
      const done = Date.now()
      const flavors = JSON.parse(
        deploy.outputs.flavors ?? '[]'
      ) as FlavorReport[]
      const report: PushReport = {
        push: label,
        buildSeconds: seconds(built - started),
        deploySeconds: seconds(done - built),
        totalSeconds: seconds(done - started),
        cachedSteps: Number(build.outputs['cached-steps']),
        totalSteps: Number(build.outputs['total-steps']),
        cacheHitRatio: build.outputs['cache-hit-ratio'],
        firstMissedStep: build.outputs['first-missed-step'] ?? '',
        image,
        deployResult: deploy.outputs.result ?? `exit ${deploy.exitCode}`,
        flavors: flavors.map((f) => ({
          flavor: f.flavor,
          result: f.result,
          changed: f.changed,
          rolledBack: f.rolledBack,
          imageAfter: f.imageAfter,
          error: f.error
        })),
        failure: deploy.annotations.find((a) => a.level === 'error')?.message
      }
      console.log(
        `deploy ${report.deployResult} in ${report.deploySeconds} s: ` +
          report.flavors
            .map(
              (f) =>
                `${f.flavor}=${f.result}${f.rolledBack ? ' (rolled back)' : ''}`
            )
            .join(', ')
      )
      if (report.failure) console.log(`deploy said: ${report.failure}`)
      return report
    }

    const appFile = join(repo, 'app/monolith/settings.py')
    await wipeRunner(cacheMountsDir)
    reports.push(await push('push 1: cold', 'a'.repeat(40)))

    await wipeRunner(cacheMountsDir)
    await writeFile(
      appFile,
      `${await readFile(appFile, 'utf8')}\nRELEASE_NOTE = "warm push"\n`
    )
    reports.push(
      await push('push 2: one line of app code, fresh runner', 'b'.repeat(40))
    )

    if (options.fail) {
      await wipeRunner(cacheMountsDir)
      await writeFile(
        appFile,
        `${await readFile(appFile, 'utf8')}\nRELEASE_NOTE = "oom push"\n`
      )
      await writeFile(
        join(repo, '.github/ecs-flavors.yml'),
        manifest('taskworker')
      )
      reports.push(
        await push('push 3: taskworker runs out of memory', 'c'.repeat(40))
      )
    }
  } finally {
    await sim.stop()
    await cache.close()
    await rm(work, { recursive: true, force: true })
  }

  printReport(reports)
  if (options.json)
    await writeFile(
      options.json,
      JSON.stringify(
        { speed, profile: options.profile, pushes: reports },
        null,
        2
      )
    )

  const healthy = reports.filter((r) => !r.push.includes('out of memory'))
  const ok = healthy.every((r) => r.deployResult === 'success')
  const failing = reports.find((r) => r.push.includes('out of memory'))
  const halted =
    !failing ||
    (failing.deployResult === 'failed' &&
      failing.flavors.some(
        (f) => f.flavor === 'taskworker' && f.result !== 'success'
      ))
  return ok && halted ? 0 : 1
}

function printReport(reports: PushReport[]): void {
  console.log('\n## Release report\n')
  console.log(
    '| push | build s | deploy+wait s | push to verdict s | steps cached | result | flavors |'
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const r of reports) {
    const flavors = r.flavors
      .map(
        (f) => `${f.flavor}: ${f.result}${f.rolledBack ? ', rolled back' : ''}`
      )
      .join('; ')
    console.log(
      `| ${r.push} | ${r.buildSeconds} | ${r.deploySeconds} | ${r.totalSeconds} | ${r.cachedSteps}/${r.totalSteps} | ${r.deployResult} | ${flavors} |`
    )
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  }
)
