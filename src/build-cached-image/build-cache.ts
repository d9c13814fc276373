import * as core from '@actions/core'
import type { BuildxRun } from '../docker/buildx-build.js'
import {
  cacheExporters,
  speaksCacheV2,
  type BuilderInfo
} from '../docker/builder-info.js'
import { planCache } from '../docker/cache-plan.js'
import {
  cacheTagHint,
  immutableTagRefusal,
  refusedTagPut
} from '../docker/ecr-rules.js'
import { mountsInImageChain } from '../docker/cache-mounts.js'
import type { MountCacheOptions } from '../docker/mount-cache.js'
import { probeRegistry, type RegistryAccess } from '../docker/registry-probe.js'
import { timed, warn, type BuildRun } from './build-run.js'
import type { Inputs } from './inputs.js'

export type LayerCachePlan = ReturnType<typeof planCache>

/** Where the layer cache comes from and goes, after probing the registry. */
export async function chooseLayerCache(
  run: BuildRun,
  builder: BuilderInfo
): Promise<LayerCachePlan> {
  const { inputs } = run
  let registry: RegistryAccess | undefined
  const cacheImage = inputs.cacheRepository ?? inputs.image
  if (
    cacheImage.host &&
    (inputs.cache === 'auto' || inputs.cache === 'registry')
  ) {
    const host = cacheImage.host
    const probe = await timed(run, 'probe registry', () =>
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
    gha: inputs.actionsCache.service,
    ghaMissing: inputs.actionsCache.missing,
    ghaV2: speaksCacheV2(builder),
    write: inputs.cacheWrite.write,
    localDir: inputs.localCacheDir,
    compression: inputs.compression
  })
  plan.warnings.forEach((message) => warn(run, message))
  plan.notes.forEach((note) => core.info(`Cache: ${note}`))
  core.info(`Layer cache: ${plan.backend}`)
  return plan
}

/**
 * Which mounts' steps the layer cache answers when their manifests did not
 * change: every mount with a registry, gha or local cache (mode=max); with
 * the inline cache, only the mounts of the stages the image is built FROM.
 */
function layerCachedMounts(
  inputs: Inputs,
  dockerfile: string,
  plan: LayerCachePlan
): (mountId: string) => boolean {
  if (plan.backend === 'none') return () => false
  if (plan.backend !== 'inline') return () => true
  const chain = mountsInImageChain(dockerfile, inputs.buildArgs, inputs.target)
  return (mountId) => chain.has(mountId)
}

/** What the cache-mount restore and save need to know of this build. */
export function mountCacheOptions(
  inputs: Inputs,
  dockerfile: string,
  plan: LayerCachePlan
): MountCacheOptions {
  return {
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
    layerCached: layerCachedMounts(inputs, dockerfile, plan),
    service: inputs.actionsCache,
    write: {
      allowed: inputs.cacheWrite.write,
      reason: inputs.cacheWrite.reason
    }
  }
}

/**
 * The `--cache-to` of the build itself. Exporters other than inline get
 * `ignore-error=true` (BuildKit 0.11+, Docker 23+): a cache that cannot be
 * written must not fail an image that is built, and one call costs less
 * than a second cache-only pass (about 2 s of solve and session on a warm
 * build). Inline cache is part of the image, so its failure is the image's.
 */
export function buildCacheTo(plan: LayerCachePlan): string[] {
  if (plan.backend === 'inline') return plan.cacheTo
  return plan.cacheTo.map((to) => `${to},ignore-error=true`)
}

/**
 * How the layer-cache export went, read from the build's progress: with
 * `ignore-error=true` a failed export leaves an error on its exporter vertex
 * and the build succeeds, so the failure becomes a warning that names it.
 */
export function layerCacheOutcome(
  run: BuildRun,
  plan: LayerCachePlan,
  build: BuildxRun
): string {
  if (!plan.cacheTo.length) return 'none'
  if (plan.backend === 'inline') return 'written'
  const reason = build.report.cacheExportError
  if (!reason) return 'written'
  const refusal = immutableTagRefusal(reason) ?? refusedTagPut(reason)
  // BuildKit's gha client drops the service's message: name the causes.
  const hint = refusal
    ? ` ${refusal.message === reason ? '' : `${refusal.message} `}${cacheTagHint(refusal)}`
    : /failed to reserve cache/.test(reason)
      ? ' (the Actions cache service refused a new entry: the token of this run is read only, "cache write denied", or another job is writing the same entry)'
      : ''
  warn(
    run,
    `The image is built, but exporting the ${plan.backend} cache failed: ${reason}${hint}`
  )
  return 'failed'
}
