/**
 * Benchmark of build-cached-image on the heavy fixture monolith (PROFILE=full),
 * with an "ephemeral runner" (all build cache and images pruned, cache-mount
 * folder removed) before every build. Compares the action with the way
 * docker/build-push-action is usually set up: plain `docker buildx build`
 * with a registry cache of its own (mode=max, gzip) and no cache-mount
 * restore. Both get a cold build, then the same three changes: app code,
 * Python requirements, a frontend package.
 *
 *   npm run bench:build            (about 25 minutes on 2 cores)
 *   BENCH_LOG_DIR=/tmp/logs npm run bench:build   (also keeps every build log)
 *
 * Runs once per image store, each on its own engine of scripts/test-env.sh:
 * - `classic`: GitHub's ubuntu-24.04 default (Docker 28, classic store, the
 *   default `docker` builder), where the action on its own gets inline cache,
 *   gzip and its cache mounts. Plain buildx there is build-push-action
 *   without setup-buildx (the docker builder can export nothing else):
 *   `--cache-from type=registry,ref=<image>:plain-latest --cache-to type=inline`.
 * - `containerd`: the containerd image store (Docker 29 runners have it by
 *   default; a dockerd restart gives it to Docker 28).
 *   Plain buildx: build-push-action with its own registry cache, mode=max,
 *   gzip, image-manifest=true, oci-mediatypes=true.
 * - `container`: setup-buildx-action's docker-container builder, which the
 *   reusable build workflow sets up (the `ert-buildkit` builder scripts/test-env.sh runs from locally built
 *   BuildKit), made current as setup-buildx does; it pushes from BuildKit
 *   and pulls cached layers lazily. Before each build its BuildKit state is
 *   pruned (cache mounts included), as a fresh runner starts a fresh builder.
 *   Plain buildx: build-push-action on that builder with the same registry
 *   cache as on the containerd store (gzip).
 * BENCH_STORES=containerd (or any of classic, containerd, container) runs
 * those; the tables of stores not run stay in bench/results/build.json.
 *
 * Prints a table per store and writes them to bench/results/build.json.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  mkdtempSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ephemeralRunner } from '../test/build-cached-image/ephemeral.js'
import { startCacheServer } from '../test/support/cache-server.js'
import { runAction, type ActionResult } from '../test/support/runner-harness.js'

// Same defaults as test/support/docker-env.ts, which cannot be imported
// outside jest.
const REGISTRY = process.env.ERT_REGISTRY ?? 'localhost:5000'
const BASE_IMAGE = process.env.ERT_BASE_IMAGE ?? `${REGISTRY}/debian:bookworm`
const root = new URL('..', import.meta.url).pathname
const fixture = join(root, 'test/fixtures/monolith')
type Store = 'classic' | 'containerd' | 'container'
const DEFAULT_HOST =
  process.env.ERT_DOCKER_HOST ?? 'unix:///var/run/docker.sock'
const HOSTS: Record<Store, string> = {
  containerd: DEFAULT_HOST,
  classic:
    process.env.ERT_CLASSIC_DOCKER_HOST ??
    'unix:///var/run/docker-classic.sock',
  container: DEFAULT_HOST
}
/** The buildx builder of a store; the engine's docker builder when absent. */
const BUILDERS: Partial<Record<Store, string>> = {
  container: process.env.ERT_BUILDKIT_BUILDER ?? 'ert-buildkit'
}
const SETUPS: Record<Store, { runner: string; plainBuildx: string }> = {
  classic: {
    runner:
      'ubuntu-24.04 default: Docker 28 classic image store, default docker builder; the action on its own',
    plainBuildx:
      'build-push-action without setup-buildx on that engine: --cache-from type=registry,ref=<image>:plain-latest --cache-to type=inline (the docker builder exports nothing else)'
  },
  containerd: {
    runner:
      'containerd image store, default docker builder: Docker 29 runners, or Docker 28 after daemon.json {"features":{"containerd-snapshotter":true}} and a restart',
    plainBuildx:
      'build-push-action with a registry cache of its own: --cache-from type=registry,ref=<image>:buildcache-plain --cache-to type=registry,ref=<image>:buildcache-plain,mode=max,image-manifest=true,oci-mediatypes=true (gzip)'
  },
  container: {
    runner:
      "setup-buildx-action's docker-container builder (BuildKit 0.25 in a container, made current): the reusable build workflow's set-up; its state pruned before every build as on a fresh runner",
    plainBuildx:
      'setup-buildx-action + build-push-action with a registry cache of its own on that builder: --cache-from type=registry,ref=<image>:buildcache-plain --cache-to type=registry,ref=<image>:buildcache-plain,mode=max,image-manifest=true,oci-mediatypes=true (gzip), pushed from BuildKit'
  }
}
const stores = (process.env.BENCH_STORES ?? 'classic,containerd,container')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as Store[]
for (const store of stores) {
  if (!(store in HOSTS)) {
    throw new Error(
      `BENCH_STORES has "${store}"; expected classic, containerd and/or container`
    )
  }
}
const buildArgs = ['PROFILE=full', `BASE_IMAGE=${BASE_IMAGE}`]
const secret = 'id=ca,src=/etc/ssl/certs/ca-certificates.crt'

interface Row {
  name: string
  seconds: number
  cachedSteps?: number
  totalSteps?: number
  firstMiss?: string
  /** The action's own phase timings (`Timing:` lines). */
  phases?: Record<string, number>
  /** Tarballs npm fetched from the registry (not from its cache). */
  npmFetches: number
  /** What apt said it had to download, MB. */
  aptDownloadMB: number
  /** Seconds the docker driver spent unpacking the image into the store. */
  unpackSeconds: number
  /** C compiler calls answered from ccache / all cacheable ones (build-wheels.py). */
  compilerCacheHits?: string
  /** Native-extension packages installed from the pip cache's wheels, not built. */
  cachedWheels: number
}

/** Download and unpack figures from a build log (plain progress format). */
function logFigures(
  log: string
): Pick<
  Row,
  | 'npmFetches'
  | 'aptDownloadMB'
  | 'unpackSeconds'
  | 'compilerCacheHits'
  | 'cachedWheels'
> {
  const units: Record<string, number> = { B: 1e-6, kB: 1e-3, MB: 1, GB: 1e3 }
  let apt = 0
  for (const m of log.matchAll(/Need to get ([\d.,]+) (B|kB|MB|GB)/g)) {
    apt += Number(m[1].replace(/,/g, '')) * units[m[2]]
  }
  const unpack = [...log.matchAll(/unpacking to \S+ ([\d.]+)s done/g)]
  return {
    npmFetches: (
      log.match(/npm http fetch GET 200 \S+\.tgz .*\(cache miss\)/g) ?? []
    ).length,
    aptDownloadMB: Math.round(apt * 10) / 10,
    unpackSeconds: unpack.reduce((sum, m) => sum + Number(m[1]), 0),
    cachedWheels: (log.match(/from its cached wheel/g) ?? []).length,
    compilerCacheHits: /\bHits:\s+(\d+\s*\/\s*\d+)/
      .exec(log)?.[1]
      ?.replace(/\s+/g, '')
  }
}
interface StoreResult {
  /** When this store's table was measured (ISO). */
  measured?: string
  /** What differs from the code and fixture of later tables. */
  note?: string
  setup: { runner: string; plainBuildx: string }
  engine: string
  rows: Row[]
  ratios: Record<string, number>
  targets: Record<string, { target: string; met: boolean }>
}

/** The benchmark on one engine, from a fresh copy of the fixture. */
async function benchStore(store: Store): Promise<StoreResult> {
  const work = mkdtempSync(join(tmpdir(), `ert-bench-monolith-${store}-`))
  cpSync(fixture, work, { recursive: true })
  const mountsDir = join(
    mkdtempSync(join(tmpdir(), 'ert-bench-mounts-')),
    'mounts'
  )
  const image = `${REGISTRY}/ert-bench-monolith-${store}-${Date.now() % 1000000}`
  const rows: Row[] = []

  const server = await startCacheServer()
  const builder = BUILDERS[store]
  const engineVars = {
    DOCKER_HOST: HOSTS[store],
    ...(builder ? { BUILDX_BUILDER: builder } : {})
  }
  const dockerEnv = { ...process.env, ...engineVars }
  const wipe = (): void =>
    ephemeralRunner(BASE_IMAGE, mountsDir, HOSTS[store], builder)

  async function action(name: string): Promise<ActionResult> {
    wipe()
    const started = Date.now()
    const result = await runAction({
      action: 'build-cached-image',
      cwd: work,
      env: { ...server.env(), ...engineVars },
      timeoutMs: 1_800_000,
      inputs: {
        image,
        'build-args': buildArgs.join('\n'),
        secrets: secret,
        network: 'host',
        push: 'true',
        cache: 'registry',
        'cache-mounts-dir': mountsDir
      }
    })
    const seconds = (Date.now() - started) / 1000
    if (process.env.BENCH_LOG_DIR) {
      writeFileSync(
        join(
          process.env.BENCH_LOG_DIR,
          `${store}-${name.replace(/\W+/g, '-')}.log`
        ),
        result.stdout
      )
    }
    if (result.exitCode !== 0) {
      console.error(result.stdout.slice(-4000))
      throw new Error(`${name}: the action failed`)
    }
    rows.push({
      name,
      seconds,
      cachedSteps: Number(result.outputs['cached-steps']),
      totalSteps: Number(result.outputs['total-steps']),
      firstMiss: result.outputs['first-missed-step'],
      phases: Object.fromEntries(
        [...result.stdout.matchAll(/^Timing: (.+) ([\d.]+)s$/gm)].map((m) => [
          m[1],
          Number(m[2])
        ])
      ),
      ...logFigures(result.stdout)
    })
    console.log(
      `[${store}] ${name}: ${seconds.toFixed(1)} s`,
      rows.at(-1)?.phases
    )
    return result
  }

  /** build-push-action's usual setup: same registry cache, no cache mounts. */
  function plainBuildx(name: string, tag: string): void {
    wipe()
    const args = [
      'buildx',
      'build',
      '--progress=plain',
      '--network',
      'host',
      ...buildArgs.flatMap((a) => ['--build-arg', a]),
      '--secret',
      secret,
      ...(store === 'classic'
        ? [
            '--cache-from',
            `type=registry,ref=${image}:plain-latest`,
            '--cache-to',
            'type=inline',
            '--tag',
            `${image}:plain-latest`
          ]
        : [
            '--cache-from',
            `type=registry,ref=${image}:buildcache-plain`,
            '--cache-to',
            `type=registry,ref=${image}:buildcache-plain,mode=max,image-manifest=true,oci-mediatypes=true`
          ]),
      '--tag',
      `${image}:${tag}`,
      '--push',
      work
    ]
    const started = Date.now()
    const result = spawnSync('docker', args, {
      env: dockerEnv,
      encoding: 'utf8',
      maxBuffer: 1 << 28
    })
    const seconds = (Date.now() - started) / 1000
    if (process.env.BENCH_LOG_DIR) {
      writeFileSync(
        join(
          process.env.BENCH_LOG_DIR,
          `${store}-${name.replace(/\W+/g, '-')}.log`
        ),
        result.stderr
      )
    }
    if (result.status !== 0) {
      console.error(result.stderr.slice(-4000))
      throw new Error(`${name}: buildx failed`)
    }
    const cached = (result.stderr.match(/^#\d+ CACHED$/gm) ?? []).length
    rows.push({
      name,
      seconds,
      cachedSteps: cached,
      ...logFigures(result.stderr)
    })
    console.log(`[${store}] ${name}: ${seconds.toFixed(1)} s`)
  }

  try {
    execFileSync('docker', ['pull', '-q', BASE_IMAGE], {
      stdio: 'pipe',
      env: dockerEnv
    })
    await action('action: cold')
    // Plain buildx keeps a cache chain of its own, as a build-push-action
    // workflow would: reading the action's zstd cache would make it recompress
    // every layer to gzip, which no real setup of it does.
    plainBuildx('plain buildx: cold', 'plain-cold')
    appendFileSync(
      join(work, 'app/orders/views.py'),
      '\n\ndef ping(request):\n    return JsonResponse({"pong": True})\n'
    )
    plainBuildx('plain buildx: code-only change', 'plain-code')
    await action('action: code-only change')
    // The dependency change of a Django monolith: its Python requirements.
    // The requirements step reruns, and with it the compile of the native
    // extensions below it, which is where a restored compiler cache pays.
    appendFileSync(
      join(work, 'requirements.apt'),
      'python3-markdown=3.4.1-2+deb12u1\npython3-bleach=5.0.1-2\n'
    )
    plainBuildx('plain buildx: dependency change', 'plain-deps')
    await action('action: dependency change')
    // A frontend dependency change, where only downloads are saved: one
    // package added to package.json and the lock file.
    for (const file of ['package.full.json', 'package-lock.full.json']) {
      cpSync(
        join(root, 'bench/fixtures/frontend-change', file),
        join(work, 'frontend', file)
      )
    }
    plainBuildx('plain buildx: frontend dependency change', 'plain-frontend')
    await action('action: frontend dependency change')
  } finally {
    await server.close()
    rmSync(work, { recursive: true, force: true })
    rmSync(mountsDir, { recursive: true, force: true })
  }

  const seconds = (name: string): number =>
    rows.find((r) => r.name === name)?.seconds ?? NaN
  const cold = seconds('action: cold')
  const codeOnly = seconds('action: code-only change')
  const deps = seconds('action: dependency change')
  const plainCode = seconds('plain buildx: code-only change')
  const plainDeps = seconds('plain buildx: dependency change')
  const ratios = {
    codeOnlyOverCold: codeOnly / cold,
    dependencyOverPlainDependency: deps / plainDeps,
    frontendDependencyOverPlain:
      seconds('action: frontend dependency change') /
      seconds('plain buildx: frontend dependency change'),
    // Everything the action adds around its own buildx build call (node start,
    // builder detection, registry probe, mount lookups and save, the report).
    // The layer-cache export is part of that call, as it is of plain buildx's;
    // plain buildx is still not the same call: it writes gzip.
    actionOverheadSeconds:
      codeOnly -
      (rows.find((r) => r.name === 'action: code-only change')?.phases?.build ??
        NaN),
    codeOnlyMinusPlainSeconds: codeOnly - plainCode
  }
  const targets = {
    codeOnlyOverCold: {
      target: '<= 0.05',
      met: ratios.codeOnlyOverCold <= 0.05
    },
    dependencyOverPlainDependency: {
      target: '<= 0.5',
      met: ratios.dependencyOverPlainDependency <= 0.5
    },
    actionOverheadSeconds: {
      target: '< 3',
      met: ratios.actionOverheadSeconds < 3
    }
  }

  console.log(`\n## ${store} store: ${SETUPS[store].runner}`)
  console.log(
    '\n| Build | Seconds | Cached steps | npm fetches | apt MB | ccache hits | cached wheels | First miss |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  )
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.seconds.toFixed(1)} | ${row.cachedSteps ?? ''}${row.totalSteps ? `/${row.totalSteps}` : ''} | ${row.npmFetches} | ${row.aptDownloadMB} | ${row.compilerCacheHits ?? ''} | ${row.cachedWheels} | ${row.firstMiss ?? ''} |`
    )
  }
  console.log(
    `\ncode-only / cold: ${ratios.codeOnlyOverCold.toFixed(3)} (target <= 0.05)`
  )
  console.log(
    `dependency / plain dependency: ${ratios.dependencyOverPlainDependency.toFixed(3)} (target <= 0.5)`
  )
  console.log(
    `frontend dependency / plain: ${ratios.frontendDependencyOverPlain.toFixed(3)} (no target)`
  )
  console.log(
    `action overhead over its buildx build call (code-only): ${ratios.actionOverheadSeconds.toFixed(1)} s (target < 3 s)`
  )
  console.log(
    `code-only, action minus plain buildx: ${ratios.codeOnlyMinusPlainSeconds.toFixed(1)} s`
  )

  return {
    setup: SETUPS[store],
    engine: execFileSync(
      'docker',
      ['version', '--format', '{{.Server.Version}}'],
      { env: dockerEnv }
    )
      .toString()
      .trim(),
    rows,
    ratios,
    targets
  }
}

const resultsFile = join(root, 'bench/results/build.json')
/**
 * A run of one store keeps the other stores' tables, each with the date it
 * was measured: a run per store takes about an hour on this machine.
 */
function earlierResults(): Partial<Record<Store, StoreResult>> {
  try {
    return (
      (
        JSON.parse(readFileSync(resultsFile, 'utf8')) as {
          stores?: Partial<Record<Store, StoreResult>>
        }
      ).stores ?? {}
    )
  } catch {
    return {}
  }
}
const results = earlierResults()
/** Written after each store, so a long run keeps what it has measured. */
function writeResults(): void {
  mkdirSync(join(root, 'bench/results'), { recursive: true })
  writeFileSync(
    resultsFile,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          cpus: 2,
          engines:
            'Docker 28.5.2, buildx 0.29.1, containerd 2.1.9 (scripts/test-env.sh); container: BuildKit 0.25 built from Debian sources (scripts/buildkit-image.sh)'
        },
        fixture: 'test/fixtures/monolith PROFILE=full',
        stores: results
      },
      null,
      2
    ) + '\n'
  )
}
for (const store of stores) {
  results[store] = {
    measured: new Date().toISOString(),
    ...(await benchStore(store))
  }
  writeResults()
}
