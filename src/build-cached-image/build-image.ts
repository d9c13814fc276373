import * as core from '@actions/core'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { errorMessage } from '../common/errors.js'
import {
  buildxArgs,
  cacheExportArgs,
  type BuildRequest
} from '../docker/buildx-args.js'
import { buildFailureMessage, runBuildx } from '../docker/buildx-build.js'
import { cacheExporters, detectBuilder } from '../docker/builder-info.js'
import {
  decideAlias,
  listFiles,
  readAlias,
  writeAlias,
  type FileSizes
} from '../docker/cache-mount-alias.js'
import {
  cacheMountKey,
  existingFiles,
  mountManifestCandidates
} from '../docker/cache-key.js'
import {
  extractCacheMounts,
  hasContent,
  injectCacheMounts
} from '../docker/cache-mount-sync.js'
import {
  findCacheMounts,
  usesMount,
  type CacheMount
} from '../docker/cache-mounts.js'
import { planCache, type CachePlan } from '../docker/cache-plan.js'
import {
  firstBaseImage,
  parseDockerfile,
  stageNames
} from '../docker/dockerfile.js'
import type { CommandRunner } from '../common/command-runner.js'
import {
  renderSummary,
  type BuildSummary,
  type MountCacheOutcome
} from '../docker/build-summary.js'
import {
  diffPackages,
  listImagePackages,
  matchingChanges,
  type PackageChange
} from '../docker/packages.js'
import { probeRegistry, type RegistryAccess } from '../docker/registry-probe.js'
import type { StepReport } from '../docker/rawjson-progress.js'
import type { Inputs } from './inputs.js'

/** The slice of `@actions/cache` the action uses, injectable for tests. */
export interface MountCacheStore {
  restore(
    paths: string[],
    key: string,
    restoreKeys: string[],
    lookupOnly: boolean
  ): Promise<string | undefined>
  save(paths: string[], key: string): Promise<number>
  available(): boolean
}

export interface BuildDeps {
  runner: CommandRunner
  store: MountCacheStore
  now: () => number
}

/** Seconds spent per phase, in order, for the summary. */
type Timings = [string, number][]

async function timed<T>(
  deps: BuildDeps,
  timings: Timings,
  phase: string,
  body: () => Promise<T>
): Promise<T> {
  const start = deps.now()
  try {
    return await body()
  } finally {
    timings.push([phase, (deps.now() - start) / 1000])
  }
}

/** What the build produced, for outputs. */
export interface BuildOutcome {
  image: string
  digest?: string
  tags: string[]
  metadata: Record<string, unknown>
  durationSeconds: number
  report: StepReport
  backend: string
  packageChanges?: PackageChange[]
  blockedChanges: PackageChange[]
  summary: string
}

function ghaEnv(): { url: string; token: string } | undefined {
  const url = process.env.ACTIONS_CACHE_URL
  const token = process.env.ACTIONS_RUNTIME_TOKEN
  return url && token ? { url, token } : undefined
}

/** One cache mount's entry in the Actions cache. */
interface MountEntry {
  mount: CacheMount
  /** Folder saved and restored with `@actions/cache` (stable path). */
  path: string
  outcome: MountCacheOutcome
  /** True when the restore found only an older set (or nothing). */
  needsSave: boolean
  /** The entry whose content was restored (an alias's target, not the alias). */
  restoredKey?: string
  /** What was restored, to tell after the build how much is new. */
  restoredFiles?: FileSizes
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

function mountFolder(root: string, mount: CacheMount): string {
  return join(root, mount.id.replace(/[^A-Za-z0-9._-]+/g, '_'))
}

/**
 * Restores the cache mounts before the build, each under a key of its own
 * manifests (the files copied before the RUNs that use it), so a change in
 * one lock file moves only the mounts of that install. When a mount's exact
 * key exists its manifests did not change since it was saved, so the steps
 * that use it are layer-cache hits and restoring it would only cost time; an
 * older key (a changed lock file) is restored and injected so the reinstall
 * downloads only what is new.
 */
async function restoreMounts(
  inputs: Inputs,
  deps: BuildDeps,
  plan: CachePlan,
  dockerfile: string,
  workDir: string,
  nonce: string
): Promise<MountEntry[] | undefined> {
  if (!inputs.cacheMounts) return undefined
  const mounts = findCacheMounts(dockerfile)
  if (mounts.length === 0) return undefined
  const manifests = mountManifestCandidates(dockerfile, inputs.buildArgs)
  const platform = (
    inputs.platforms.join('+') || `linux-${process.arch}`
  ).replace(/\//g, '-')
  const entries: MountEntry[] = []
  for (const mount of mounts) {
    const files = inputs.cacheKeyFiles.length
      ? inputs.cacheKeyFiles
      : await existingFiles(inputs.context, manifests.get(mount.id) ?? [])
    const key = await cacheMountKey({
      prefix: `buildkit-mounts-${inputs.image.path.replace(/\//g, '-')}`,
      platform,
      mounts: [mount],
      files,
      workspace: process.env.GITHUB_WORKSPACE ?? process.cwd()
    })
    entries.push({
      mount,
      path: mountFolder(inputs.cacheMountsDir, mount),
      needsSave: true,
      outcome: {
        ids: [mount.id],
        key: key.key,
        restoreKeys: key.restoreKeys,
        files: key.files,
        restore: 'miss',
        save: 'skipped'
      }
    })
  }
  if (!deps.store.available()) {
    for (const { outcome } of entries) {
      outcome.restore = 'skipped: no Actions cache service (ACTIONS_CACHE_URL)'
      outcome.save = outcome.restore
    }
    entries.forEach((e) => (e.needsSave = false))
    return entries
  }
  const layerCached = plan.backend !== 'none' && plan.backend !== 'inline'
  /** True when the entry came back with content to inject. */
  const restoreOne = async (entry: MountEntry): Promise<boolean> => {
    const { outcome } = entry
    const key = outcome.key ?? ''
    if (layerCached) {
      const exact = await deps.store.restore([entry.path], key, [], true)
      if (exact) {
        outcome.restore =
          'skipped: manifests unchanged, the install steps come from the layer cache'
        entry.needsSave = false
        return false
      }
    }
    await rm(entry.path, { recursive: true, force: true })
    const hit = await deps.store.restore(
      [entry.path],
      key,
      outcome.restoreKeys ?? [],
      false
    )
    if (!hit) return false
    entry.needsSave = hit !== key
    let content = hit
    const target = await readAlias(entry.path)
    if (target) {
      await rm(entry.path, { recursive: true, force: true })
      const real = await deps.store.restore([entry.path], target, [], false)
      if (real !== target) {
        outcome.restore = `miss: ${hit} is an alias of ${target}, which is gone`
        return false
      }
      content = `${target} (through the alias ${hit})`
    }
    if (!(await hasContent(entry.path))) {
      outcome.restore = `restored ${content} (empty)`
      return false
    }
    outcome.restore = `restored ${content}`
    entry.restoredKey = target ?? hit
    entry.restoredFiles = await listFiles(entry.path)
    return true
  }
  try {
    // Downloads and unpacking of different mounts overlap: one big mount
    // (apt archives) no longer holds the small ones back.
    const came = await Promise.all(entries.map(restoreOne))
    const restored = entries.filter((_, i) => came[i])
    if (restored.length === 0) return entries
    // One helper build injects every restored mount from numbered folders.
    const injectDir = join(workDir, 'inject')
    await rm(injectDir, { recursive: true, force: true })
    await mkdir(injectDir, { recursive: true })
    for (const [i, entry] of restored.entries()) {
      await rename(entry.path, join(injectDir, String(i)))
    }
    await injectCacheMounts({
      runner: deps.runner,
      mounts: restored.map((e) => e.mount),
      utilityImage: inputs.utilityImage ?? baseImage(inputs, dockerfile),
      dir: injectDir,
      workDir,
      builder: inputs.builder,
      nonce
    })
    await rm(injectDir, { recursive: true, force: true })
    core.info(
      `Cache mounts ${restored.map((e) => e.mount.id).join(', ')} restored`
    )
  } catch (error) {
    // Whatever came back was not injected: report it as failed, and forget
    // what was restored so the save does not alias an entry the build never saw.
    for (const entry of entries.filter((e) => e.restoredKey)) {
      entry.outcome.restore = `failed: ${errorMessage(error)}`
      entry.restoredKey = undefined
      entry.restoredFiles = undefined
    }
    core.warning(
      `Restoring the cache mounts failed, building without them: ${errorMessage(error)}`
    )
  }
  return entries
}

function baseImage(inputs: Inputs, dockerfile: string): string {
  const image = firstBaseImage(parseDockerfile(dockerfile), inputs.buildArgs)
  if (!image || image === 'scratch') {
    throw new Error(
      'no image with a shell to copy the cache mounts: set input "cache-mounts-utility-image"'
    )
  }
  return image
}

/**
 * Saves the mounts whose key was missing and that a step which actually ran
 * used: the others are either already in the cache or unchanged since the
 * restore, and re-uploading them is the most expensive part of the action.
 */
async function saveMounts(
  entries: MountEntry[],
  inputs: Inputs,
  deps: BuildDeps,
  dockerfile: string,
  report: StepReport,
  workDir: string,
  nonce: string
): Promise<void> {
  const ranSteps = report.steps.filter((s) => !s.cached)
  const toSave: MountEntry[] = []
  for (const entry of entries) {
    const { outcome } = entry
    if (!entry.needsSave) {
      if (outcome.save === 'skipped')
        outcome.save = 'skipped: the cache already has this key'
      continue
    }
    const ran = ranSteps.some((s) => usesMount(s.name, entry.mount.id))
    if (!ran) {
      outcome.save = 'skipped: no step using it ran'
      continue
    }
    toSave.push(entry)
  }
  if (toSave.length === 0) return
  try {
    const extractDir = join(workDir, 'extract')
    await extractCacheMounts({
      runner: deps.runner,
      mounts: toSave.map((e) => e.mount),
      utilityImage: inputs.utilityImage ?? baseImage(inputs, dockerfile),
      dir: extractDir,
      workDir: join(workDir, 'extract-context'),
      builder: inputs.builder,
      nonce
    })
    // Each mount is archived and uploaded on its own, side by side.
    await Promise.all(
      toSave.map(async (entry, i) => {
        await rm(entry.path, { recursive: true, force: true })
        await mkdir(dirname(entry.path), { recursive: true })
        await rename(join(extractDir, String(i)), entry.path)
        // An empty mount would only cost a cache entry and a restore later.
        if (!(await hasContent(entry.path))) {
          entry.outcome.save = 'skipped: the mount is empty'
          return
        }
        let saved = 'saved'
        if (entry.restoredKey && entry.restoredFiles) {
          const decision = decideAlias(
            entry.restoredFiles,
            await listFiles(entry.path)
          )
          if (decision.alias) {
            await writeAlias(entry.path, entry.restoredKey)
            saved = `saved as an alias of ${entry.restoredKey} (${megabytes(decision.newBytes)} new of ${megabytes(decision.totalBytes)})`
          }
        }
        const id = await deps.store.save([entry.path], entry.outcome.key ?? '')
        entry.outcome.save = id > 0 ? saved : 'failed: see the warning above'
      })
    )
  } catch (error) {
    for (const entry of toSave) {
      if (entry.outcome.save === 'skipped')
        entry.outcome.save = `failed: ${errorMessage(error)}`
    }
    core.warning(`Saving the cache mounts failed: ${errorMessage(error)}`)
  }
}

async function comparePackages(
  inputs: Inputs,
  deps: BuildDeps,
  builtRef: string,
  warnings: string[]
): Promise<BuildSummary['packages']> {
  if (!inputs.compareTo) return undefined
  try {
    const [before, after] = await Promise.all([
      listImagePackages(deps.runner, inputs.compareTo),
      listImagePackages(deps.runner, builtRef)
    ])
    const changes = diffPackages(before, after)
    return {
      compareTo: inputs.compareTo,
      changes,
      blocked: matchingChanges(changes, inputs.failOnPackageChange)
    }
  } catch (error) {
    const message = `Package drift not checked: ${errorMessage(error)}`
    warnings.push(message)
    core.warning(message)
    return undefined
  }
}

/**
 * The whole build: pick the layer cache, bring the cache mounts back, build,
 * write the cache (in a pass of its own, so a cache failure stays a
 * warning), keep the cache mounts, and compare packages.
 */
export async function buildImage(
  inputs: Inputs,
  deps: BuildDeps
): Promise<BuildOutcome> {
  const started = deps.now()
  const warnings: string[] = []
  const timings: Timings = []
  const warn = (message: string): void => {
    warnings.push(message)
    core.warning(message)
  }
  const gha = ghaEnv()
  if (gha) core.setSecret(gha.token)
  const workDir = join(
    process.env.RUNNER_TEMP ?? tmpdir(),
    `build-cached-image-${started}`
  )
  await mkdir(workDir, { recursive: true })
  const nonce = String(started)

  const builder = await timed(deps, timings, 'detect builder', () =>
    detectBuilder(deps.runner, inputs.builder)
  )
  core.info(
    `Builder ${builder.name}: driver ${builder.driver}${builder.driver === 'docker' ? `, containerd image store ${builder.containerdStore ? 'on' : 'off'}` : ''}`
  )
  if (
    inputs.platforms.length > 1 &&
    builder.driver === 'docker' &&
    !builder.containerdStore
  ) {
    throw new Error(
      `Input "platforms" asks for ${inputs.platforms.join(',')}, but the docker driver without the containerd image store builds one platform only`
    )
  }
  let registry: RegistryAccess | undefined
  if (
    inputs.image.host &&
    (inputs.cache === 'auto' || inputs.cache === 'registry')
  ) {
    const host = inputs.image.host
    const probe = await timed(deps, timings, 'probe registry', () =>
      probeRegistry(host, inputs.image.path)
    )
    registry = probe.access
    core.info(
      `Registry ${inputs.image.host}: ${probe.access} (${probe.detail})`
    )
  }
  const plan = planCache({
    choice: inputs.cache,
    image: inputs.image,
    branch: inputs.branch,
    fallbackBranches: inputs.cacheFromBranches,
    exporters: cacheExporters(builder),
    registry,
    gha,
    localDir: inputs.localCacheDir,
    compression: inputs.compression
  })
  plan.warnings.forEach(warn)
  plan.notes.forEach((note) => core.info(`Cache: ${note}`))
  core.info(`Layer cache: ${plan.backend}`)

  const dockerfile = await readFile(inputs.file, 'utf8')
  const mounts = await timed(deps, timings, 'restore cache mounts', () =>
    restoreMounts(inputs, deps, plan, dockerfile, workDir, nonce)
  )

  const secrets = [...inputs.secrets]
  for (const [id, value] of Object.entries(inputs.inlineSecrets)) {
    const path = join(workDir, `secret-${id}`)
    await writeFile(path, value, { mode: 0o600 })
    secrets.push(`id=${id},src=${path}`)
  }
  const metadataFile = join(workDir, 'metadata.json')
  const inline = plan.backend === 'inline'
  const request: BuildRequest = {
    context: inputs.context,
    file: inputs.file,
    target: inputs.target,
    tags: inputs.tags,
    buildArgs: Object.entries(inputs.buildArgs).map(([k, v]) => `${k}=${v}`),
    secrets,
    platforms: inputs.platforms,
    push: inputs.push,
    load: inputs.load,
    labels: inputs.labels,
    network: inputs.network,
    builder: inputs.builder,
    metadataFile,
    cacheFrom: plan.cacheFrom,
    cacheTo: inline ? plan.cacheTo : [],
    compression: inputs.compression
  }
  const builderInfo = builder
  const stages = stageNames(parseDockerfile(dockerfile))
  const build = await timed(deps, timings, 'build', () =>
    runBuildx(deps.runner, buildxArgs(request, builderInfo), {
      print: (line) => core.info(line),
      stages
    })
  )
  if (build.exitCode !== 0) {
    await rm(workDir, { recursive: true, force: true })
    throw new Error(buildFailureMessage(build))
  }
  const { report } = build

  // The layer-cache export and the cache-mount save touch different stores,
  // so they run side by side: on a dependency change both have real work.
  const exportCache = async (): Promise<string> => {
    if (!plan.cacheTo.length) return 'none'
    if (inline) return 'written'
    if (!report.firstMiss && report.totalSteps > 0) {
      return 'skipped: every step was cached'
    }
    const exported = await timed(deps, timings, 'export layer cache', () =>
      runBuildx(
        deps.runner,
        cacheExportArgs({ ...request, cacheTo: plan.cacheTo }, builderInfo),
        { print: (line) => core.info(`[cache export] ${line}`) }
      )
    )
    if (exported.exitCode === 0) return 'written'
    const reason = buildFailureMessage(exported).split('\n')[0]
    warn(
      `The image is built, but exporting the ${plan.backend} cache failed: ${reason}`
    )
    return 'failed'
  }
  const [cacheExport] = await Promise.all([
    exportCache(),
    mounts
      ? timed(deps, timings, 'save cache mounts', () =>
          saveMounts(mounts, inputs, deps, dockerfile, report, workDir, nonce)
        )
      : undefined
  ])

  const metadata = JSON.parse(
    await readFile(metadataFile, 'utf8').catch(() => '{}')
  ) as Record<string, unknown>
  const digest = metadata['containerimage.digest'] as string | undefined
  const image = digest ? `${inputs.image.repository}@${digest}` : inputs.tags[0]
  const durationSeconds = (deps.now() - started) / 1000

  const builtRef = inputs.push && digest ? image : inputs.tags[0]
  const packages = await timed(deps, timings, 'compare packages', () =>
    comparePackages(inputs, deps, builtRef, warnings)
  )
  for (const [phase, seconds] of timings) {
    core.info(`Timing: ${phase} ${seconds.toFixed(1)}s`)
  }
  await rm(workDir, { recursive: true, force: true })

  const summary = renderSummary({
    image,
    digest,
    tags: inputs.tags,
    durationSeconds,
    backend: plan.backend,
    cacheFrom: plan.cacheFrom,
    cacheExport,
    report,
    mounts: mounts?.map((e) => e.outcome),
    packages,
    warnings,
    timings
  })
  return {
    image,
    digest,
    tags: inputs.tags,
    metadata,
    durationSeconds,
    report,
    backend: plan.backend,
    packageChanges: packages?.changes,
    blockedChanges: packages?.blocked ?? [],
    summary
  }
}
