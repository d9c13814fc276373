import { ghaServiceAttrs, type ActionsCacheService } from './actions-cache.js'
import type { CacheExporter } from './builder-info.js'
import { branchSlug, type ImageName } from './image-reference.js'
import type { RegistryAccess } from './registry-probe.js'

/** The `cache` input. */
export type CacheChoice = 'auto' | 'registry' | 'gha' | 'local' | 'none'
export const CACHE_CHOICES: readonly CacheChoice[] = [
  'auto',
  'registry',
  'gha',
  'local',
  'none'
]

/** The backend a build ends up using, after checks and fallbacks. */
export type CacheBackend = 'registry' | 'gha' | 'local' | 'inline' | 'none'

export interface CachePlanInput {
  choice: CacheChoice
  image: ImageName
  /**
   * Where the registry cache tags live; the image's repository when absent.
   * A separate MUTABLE repository lets the image's repository be IMMUTABLE.
   */
  cacheImage?: ImageName
  /** The branch being built (its cache is written). */
  branch: string
  /** Branches whose caches are read after this branch's, in order. */
  fallbackBranches: string[]
  exporters: Set<CacheExporter>
  /** Undefined when the image names no registry host. */
  registry?: RegistryAccess
  /** The Actions cache service, when the runner gave one. */
  gha?: ActionsCacheService
  /** Why there is no Actions cache service (names the missing variables). */
  ghaMissing?: string
  /** Whether the builder's BuildKit speaks cache service v2; true when absent. */
  ghaV2?: boolean
  /**
   * Whether this run may write shared caches (input "cache-write"); true
   * when absent. When false every backend is read only.
   */
  write?: boolean
  localDir: string
  /** Compression of the cache's layers; gzip when absent. */
  compression?: 'zstd' | 'gzip'
}

export interface CachePlan {
  backend: CacheBackend
  cacheFrom: string[]
  cacheTo: string[]
  /** Why the plan differs from what was asked; shown as warnings. */
  warnings: string[]
  /** Why `auto` passed over a backend; informational. */
  notes: string[]
}

const MAX_OPTIONS = 'mode=max'
// image-manifest keeps the cache a plain image manifest, which ECR accepts.
const REGISTRY_OPTIONS = `${MAX_OPTIONS},image-manifest=true,oci-mediatypes=true`

/** The registry cache reference of a branch, next to the image. */
export function registryCacheRef(image: ImageName, branch: string): string {
  return `${image.repository}:buildcache-${branchSlug(branch)}`
}

/** The gha scope of a branch; the image path keeps images of one repo apart. */
export function ghaScope(image: ImageName, branch: string): string {
  return `${image.path.replace(/\//g, '-')}-${branchSlug(branch)}`
}

function chain(branch: string, fallbacks: string[]): string[] {
  const seen = new Set<string>()
  const result: string[] = []
  for (const name of [branch, ...fallbacks]) {
    const slug = branchSlug(name)
    if (!seen.has(slug)) {
      seen.add(slug)
      result.push(name)
    }
  }
  return result
}

function registryPlan(input: CachePlanInput, writable: boolean): CachePlan {
  const branches = chain(input.branch, input.fallbackBranches)
  const cacheImage = input.cacheImage ?? input.image
  return {
    backend: 'registry',
    cacheFrom: branches.map(
      (b) => `type=registry,ref=${registryCacheRef(cacheImage, b)}`
    ),
    cacheTo: writable
      ? [
          `type=registry,ref=${registryCacheRef(cacheImage, input.branch)},${REGISTRY_OPTIONS}`
        ]
      : [],
    warnings: [],
    notes: []
  }
}

function ghaPlan(input: CachePlanInput): CachePlan {
  const gha = input.gha as ActionsCacheService
  const base = ghaServiceAttrs(gha)
  return {
    backend: 'gha',
    cacheFrom: chain(input.branch, input.fallbackBranches).map(
      (b) => `${base},scope=${ghaScope(input.image, b)}`
    ),
    cacheTo: gha.access.write
      ? [`${base},scope=${ghaScope(input.image, input.branch)},${MAX_OPTIONS}`]
      : [],
    // A read-only cache is the runner's decision, not a failure: say so.
    warnings: gha.access.write
      ? []
      : [
          `the Actions cache is read only for this run (${gha.access.reason}): the gha layer cache is read, not written`
        ],
    notes: []
  }
}

function localPlan(input: CachePlanInput): CachePlan {
  return {
    backend: 'local',
    cacheFrom: [`type=local,src=${input.localDir}`],
    cacheTo: [`type=local,dest=${input.localDir},${MAX_OPTIONS}`],
    warnings: [],
    notes: []
  }
}

function inlinePlan(input: CachePlanInput): CachePlan {
  // Inline cache travels inside the pushed image, so read the branch tags.
  return {
    backend: 'inline',
    cacheFrom: chain(input.branch, input.fallbackBranches).map(
      (b) => `type=registry,ref=${input.image.repository}:${branchSlug(b)}`
    ),
    cacheTo: ['type=inline'],
    warnings: [],
    notes: []
  }
}

/**
 * Picks the layer cache: the one asked for when the builder and the
 * surroundings allow it, else the next one that works, with a warning that
 * says why. Never returns an exporter the builder lacks.
 */
export function planCache(input: CachePlanInput): CachePlan {
  const plan = readOnly(input, chooseBackend(input))
  if (input.compression !== 'zstd' || plan.backend === 'inline') return plan
  // The cache and the image share their layer blobs only when both use the
  // same compression; zstd also unpacks several times faster on the next
  // runner, which is most of a warm build's time.
  return {
    ...plan,
    cacheTo: plan.cacheTo.map((to) => `${to},compression=zstd`)
  }
}

/** Drops every cache write when the run may not write shared caches. */
function readOnly(input: CachePlanInput, plan: CachePlan): CachePlan {
  if (input.write !== false || plan.cacheTo.length === 0) return plan
  return {
    ...plan,
    cacheTo: [],
    notes: [...plan.notes, 'cache writes are off: the layer cache is only read']
  }
}

function chooseBackend(input: CachePlanInput): CachePlan {
  const reasons: string[] = []
  const warnings: string[] = []
  const has = (e: CacheExporter): boolean => input.exporters.has(e)
  // Under auto, passing over a backend is normal and only noted; when the
  // user named one, not getting it deserves a warning.
  const withWarnings = (plan: CachePlan): CachePlan => {
    const named = input.choice !== 'auto' && plan.backend !== input.choice
    return {
      ...plan,
      warnings: [...warnings, ...plan.warnings, ...(named ? reasons : [])],
      notes: named ? [] : reasons
    }
  }
  if (input.choice === 'none') {
    return {
      backend: 'none',
      cacheFrom: [],
      cacheTo: [],
      warnings: [],
      notes: []
    }
  }

  const registryUsable = (): boolean => {
    if (!has('registry')) {
      reasons.push(
        'the builder cannot export a registry cache (docker driver without the containerd image store)'
      )
      return false
    }
    const cacheImage = input.cacheImage ?? input.image
    if (!cacheImage.host) {
      reasons.push(`"${cacheImage.repository}" names no registry host`)
      return false
    }
    if (input.registry === 'unreachable') {
      warnings.push(
        `registry ${cacheImage.host} is unreachable; building without its cache`
      )
      return false
    }
    return true
  }
  const ghaUsable = (): boolean => {
    if (!has('gha')) {
      reasons.push('the builder cannot export a gha cache')
      return false
    }
    if (!input.gha) {
      reasons.push(
        `${input.ghaMissing ?? 'no Actions cache service is set'}, so the Actions cache is out of reach`
      )
      return false
    }
    if (!input.gha.access.read) {
      reasons.push(
        `the Actions cache is off for this run (${input.gha.access.reason})`
      )
      return false
    }
    if (input.gha.protocol === 'v2' && input.ghaV2 === false) {
      reasons.push(
        "the builder's BuildKit predates the Actions cache service v2 (url_v2 needs BuildKit 0.20+, Docker Engine 28+)"
      )
      return false
    }
    return true
  }

  if (input.choice === 'registry' || input.choice === 'auto') {
    if (registryUsable()) {
      if (input.registry === 'writable' && input.write !== false) {
        return withWarnings(registryPlan(input, true))
      }
      // A run that may not write reads the registry cache all the same.
      if (input.write === false && input.registry === 'writable') {
        return withWarnings(registryPlan(input, false))
      }
      if (input.choice === 'registry') {
        warnings.push(
          `registry ${(input.cacheImage ?? input.image).host} refuses pushes; reading its cache without writing it`
        )
        return withWarnings(registryPlan(input, false))
      }
    }
  }
  if (
    input.choice === 'gha' ||
    input.choice === 'auto' ||
    input.choice === 'registry'
  ) {
    if (ghaUsable()) return withWarnings(ghaPlan(input))
  }
  if (has('local')) {
    return withWarnings(localPlan(input))
  }
  // Only the classic docker driver gets here; inline is all it has.
  if (input.image.host && input.registry !== 'unreachable') {
    return withWarnings(inlinePlan(input))
  }
  if (input.registry === 'unreachable' && !has('registry')) {
    // Said by registryUsable() only for builders that could use it.
    warnings.push(
      `registry ${input.image.host} is unreachable; building without its cache`
    )
  }
  warnings.push(...reasons)
  warnings.push('no cache backend is usable; building without a layer cache')
  return { backend: 'none', cacheFrom: [], cacheTo: [], warnings, notes: [] }
}
