import * as core from '@actions/core'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../common/errors.js'
import {
  buildxArgs,
  cacheExportArgs,
  type BuildRequest
} from '../docker/buildx-args.js'
import { buildFailureMessage, runBuildx } from '../docker/buildx-build.js'
import { cacheExporters, detectBuilder } from '../docker/builder-info.js'
import {
  builderShortfalls,
  describeShortfalls
} from '../docker/builder-shortfalls.js'
import { planCache } from '../docker/cache-plan.js'
import { parseDockerfile, stageNames } from '../docker/dockerfile.js'
import type { CommandRunner } from '../common/command-runner.js'
import { renderSummary, type BuildSummary } from '../docker/build-summary.js'
import {
  restoreMounts,
  saveMounts,
  type MountCacheOptions,
  type MountCacheStore
} from '../docker/mount-cache.js'
import {
  diffPackages,
  listImagePackages,
  matchingChanges,
  type PackageChange
} from '../docker/packages.js'
import {
  speaksCacheV2,
  storesAttestations,
  type BuilderInfo
} from '../docker/builder-info.js'
import {
  cacheTagHint,
  imageTagHint,
  immutableTagRefusal,
  refusedTagPut
} from '../docker/ecr-rules.js'
import { probeRegistry, type RegistryAccess } from '../docker/registry-probe.js'
import type { StepReport } from '../docker/rawjson-progress.js'
import type { Inputs } from './inputs.js'

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

/**
 * The attestation flags: provenance and SBOM as asked, kept in the image
 * index form ECR accepts unless OCI artifacts are asked for. The classic
 * image store keeps no attestations, so nothing is asked of it.
 */
function attestations(
  inputs: Inputs,
  builder: BuilderInfo
): Pick<BuildRequest, 'provenance' | 'sbom' | 'ociArtifact'> {
  if (!storesAttestations(builder)) {
    core.info(
      'Attestations: none (the classic image store keeps no provenance or SBOM)'
    )
    return {}
  }
  const any = inputs.provenance !== 'false' || inputs.sbom
  return {
    provenance: inputs.provenance,
    sbom: inputs.sbom,
    // oci-artifact= is known to BuildKit 0.19+; older ones have no other form.
    ociArtifact:
      any && speaksCacheV2(builder) ? inputs.ociArtifactAttestations : undefined
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
  const gha = inputs.actionsCache.service
  if (gha) core.setSecret(gha.token)
  core.info(
    `Cache writes ${inputs.cacheWrite.write ? 'on' : 'off'}: ${inputs.cacheWrite.reason}`
  )
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
  // Never a silent downgrade: an annotation now, a section in the summary.
  const shortfalls = builderShortfalls(builder, inputs)
  if (shortfalls) core.warning(describeShortfalls(shortfalls))
  let registry: RegistryAccess | undefined
  const cacheImage = inputs.cacheRepository ?? inputs.image
  if (
    cacheImage.host &&
    (inputs.cache === 'auto' || inputs.cache === 'registry')
  ) {
    const host = cacheImage.host
    const probe = await timed(deps, timings, 'probe registry', () =>
      probeRegistry(host, cacheImage.path)
    )
    registry = probe.access
    core.info(`Registry ${host}: ${probe.access} (${probe.detail})`)
  }
  const plan = planCache({
    choice: inputs.cache,
    image: inputs.image,
    cacheImage: inputs.cacheRepository,
    branch: inputs.branch,
    fallbackBranches: inputs.cacheFromBranches,
    exporters: cacheExporters(builder),
    registry,
    gha,
    ghaMissing: inputs.actionsCache.missing,
    ghaV2: speaksCacheV2(builder),
    write: inputs.cacheWrite.write,
    localDir: inputs.localCacheDir,
    compression: inputs.compression
  })
  plan.warnings.forEach(warn)
  plan.notes.forEach((note) => core.info(`Cache: ${note}`))
  core.info(`Layer cache: ${plan.backend}`)

  const dockerfile = await readFile(inputs.file, 'utf8')
  const mountOptions: MountCacheOptions = {
    dockerfile,
    context: inputs.context,
    buildArgs: inputs.buildArgs,
    cacheKeyFiles: inputs.cacheKeyFiles,
    platforms: inputs.platforms,
    imagePath: inputs.image.path,
    dir: inputs.cacheMountsDir,
    utilityImage: inputs.utilityImage,
    builder: inputs.builder,
    workspace: inputs.workspace,
    layerCached: plan.backend !== 'none' && plan.backend !== 'inline',
    service: inputs.actionsCache,
    write: {
      allowed: inputs.cacheWrite.write,
      reason: inputs.cacheWrite.reason
    }
  }
  const mountDeps = {
    runner: deps.runner,
    store: deps.store,
    info: (message: string) => core.info(message),
    warning: (message: string) => core.warning(message)
  }
  const mounts = inputs.cacheMounts
    ? await timed(deps, timings, 'restore cache mounts', () =>
        restoreMounts(mountOptions, mountDeps, workDir, nonce)
      )
    : undefined

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
    compression: inputs.compression,
    ...attestations(inputs, builder)
  }
  // buildx 0.36+ reads this; older ones ignore it. The --output above says
  // the same where the action writes it.
  const env: Record<string, string> = inputs.ociArtifactAttestations
    ? {}
    : { BUILDX_NO_DEFAULT_OCI_ARTIFACT: 'true' }
  const builderInfo = builder
  const stages = stageNames(parseDockerfile(dockerfile))
  const build = await timed(deps, timings, 'build', () =>
    runBuildx(deps.runner, buildxArgs(request, builderInfo), {
      print: (line) => core.info(line),
      stages,
      env
    })
  )
  if (build.exitCode !== 0) {
    await rm(workDir, { recursive: true, force: true })
    const message = buildFailureMessage(build)
    const refusal = immutableTagRefusal([message, ...build.messages].join('\n'))
    throw new Error(refusal ? `${message}\n${imageTagHint(refusal)}` : message)
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
        { print: (line) => core.info(`[cache export] ${line}`), env }
      )
    )
    if (exported.exitCode === 0) return 'written'
    const reason = buildFailureMessage(exported).split('\n')[0]
    const refusal = immutableTagRefusal(reason) ?? refusedTagPut(reason)
    // BuildKit's gha client drops the service's message: name the causes.
    const hint = refusal
      ? ` ${refusal.message === reason ? '' : `${refusal.message} `}${cacheTagHint(refusal)}`
      : /failed to reserve cache/.test(reason)
        ? ' (the Actions cache service refused a new entry: the token of this run is read only, "cache write denied", or another job is writing the same entry)'
        : ''
    warn(
      `The image is built, but exporting the ${plan.backend} cache failed: ${reason}${hint}`
    )
    return 'failed'
  }
  const [cacheExport] = await Promise.all([
    exportCache(),
    mounts
      ? timed(deps, timings, 'save cache mounts', () =>
          saveMounts(mounts, mountOptions, mountDeps, report, workDir, nonce)
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
    shortfalls,
    timings,
    cacheWrite: inputs.cacheWrite
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
