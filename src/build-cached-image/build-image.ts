import * as core from '@actions/core'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../common/errors.js'
import { buildxArgs, type BuildRequest } from '../docker/buildx-args.js'
import { buildFailureMessage, runBuildx } from '../docker/buildx-build.js'
import { detectBuilder } from '../docker/builder-info.js'
import {
  builderShortfalls,
  describeShortfalls
} from '../docker/builder-shortfalls.js'
import { parseDockerfile, stageNames } from '../docker/dockerfile.js'
import { renderSummary, type BuildSummary } from '../docker/build-summary.js'
import { restoreMounts, saveMounts } from '../docker/mount-cache.js'
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
import { imageTagHint, immutableTagRefusal } from '../docker/ecr-rules.js'
import { builtImage } from '../docker/image-reference.js'
import type { StepReport } from '../docker/rawjson-progress.js'
import type { Inputs } from './inputs.js'
import {
  buildCacheTo,
  chooseLayerCache,
  layerCacheOutcome,
  mountCacheOptions,
  type LayerCachePlan
} from './build-cache.js'
import { timed, warn, type BuildDeps, type BuildRun } from './build-run.js'

export type { BuildDeps } from './build-run.js'

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
  /** The image without its registry host: survives masking of the account id. */
  imagePath: string
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
  run: BuildRun,
  builtRef: string
): Promise<BuildSummary['packages']> {
  const { inputs, deps } = run
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
    warn(run, `Package drift not checked: ${errorMessage(error)}`)
    return undefined
  }
}

/** The builder, refused when it cannot do what the inputs ask. */
async function chooseBuilder(run: BuildRun): Promise<{
  builder: BuilderInfo
  shortfalls: ReturnType<typeof builderShortfalls>
}> {
  const { inputs } = run
  const builder = await timed(run, 'detect builder', () =>
    detectBuilder(run.deps.runner, inputs.builder)
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
  return { builder, shortfalls }
}

/** The buildx request; inline secrets become files only the build reads. */
async function buildRequestOf(
  inputs: Inputs,
  plan: LayerCachePlan,
  builder: BuilderInfo,
  workDir: string
): Promise<BuildRequest> {
  const secrets = [...inputs.secrets]
  for (const [id, value] of Object.entries(inputs.inlineSecrets)) {
    const path = join(workDir, `secret-${id}`)
    await writeFile(path, value, { mode: 0o600 })
    secrets.push(`id=${id},src=${path}`)
  }
  return {
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
    metadataFile: join(workDir, 'metadata.json'),
    cacheFrom: plan.cacheFrom,
    cacheTo: buildCacheTo(plan),
    compression: inputs.compression,
    ...attestations(inputs, builder)
  }
}

/**
 * The whole build: pick the layer cache, bring the cache mounts back, build,
 * write the cache, keep the cache mounts, and compare packages.
 */
export async function buildImage(
  inputs: Inputs,
  deps: BuildDeps
): Promise<BuildOutcome> {
  const started = deps.now()
  const run: BuildRun = { inputs, deps, timings: [], warnings: [] }
  if (inputs.actionsCache.service) {
    core.setSecret(inputs.actionsCache.service.token)
  }
  core.info(
    `Cache writes ${inputs.cacheWrite.write ? 'on' : 'off'}: ${inputs.cacheWrite.reason}`
  )
  const workDir = join(
    process.env.RUNNER_TEMP ?? tmpdir(),
    `build-cached-image-${started}`
  )
  await mkdir(workDir, { recursive: true })
  const nonce = String(started)

  const { builder, shortfalls } = await chooseBuilder(run)
  const plan = await chooseLayerCache(run, builder)
  const dockerfile = await readFile(inputs.file, 'utf8')
  const mountOptions = mountCacheOptions(inputs, dockerfile, plan)
  const mountDeps = {
    runner: deps.runner,
    store: deps.store,
    info: (message: string) => core.info(message),
    warning: (message: string) => core.warning(message)
  }
  const mounts = inputs.cacheMounts
    ? await timed(run, 'restore cache mounts', () =>
        restoreMounts(mountOptions, mountDeps, workDir, nonce)
      )
    : undefined

  const request = await buildRequestOf(inputs, plan, builder, workDir)
  // buildx 0.36+ reads this; older ones ignore it. The --output above says
  // the same where the action writes it.
  const env: Record<string, string> = inputs.ociArtifactAttestations
    ? {}
    : { BUILDX_NO_DEFAULT_OCI_ARTIFACT: 'true' }
  const stages = stageNames(parseDockerfile(dockerfile))
  const build = await timed(run, 'build', () =>
    runBuildx(deps.runner, buildxArgs(request, builder), {
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
  const cacheExport = layerCacheOutcome(run, plan, build)
  if (mounts) {
    await timed(run, 'save cache mounts', () =>
      saveMounts(mounts, mountOptions, mountDeps, report, workDir, nonce)
    )
  }

  const metadata = JSON.parse(
    await readFile(request.metadataFile ?? '', 'utf8').catch(() => '{}')
  ) as Record<string, unknown>
  const digest = metadata['containerimage.digest'] as string | undefined
  const { image, imagePath } = builtImage(inputs.image, digest, inputs.tags)
  const durationSeconds = (deps.now() - started) / 1000

  const builtRef = inputs.push && digest ? image : inputs.tags[0]
  const packages = await timed(run, 'compare packages', () =>
    comparePackages(run, builtRef)
  )
  for (const [phase, seconds] of run.timings) {
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
    warnings: run.warnings,
    shortfalls,
    timings: run.timings,
    cacheWrite: inputs.cacheWrite
  })
  return {
    image,
    imagePath,
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
