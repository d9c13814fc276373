// The life of the RUN cache mounts around a build (restore, inject, extract,
// alias, save), apart from the build itself so it can be tested through its
// store and runner seams.
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { errorMessage } from '../common/errors.js'
import type { ActionsCacheLookup } from './actions-cache.js'
import type { MountCacheOutcome } from './build-summary.js'
import {
  decideAlias,
  listFiles,
  readAlias,
  writeAlias,
  type FileSizes
} from './cache-mount-alias.js'
import {
  cacheMountKey,
  existingFiles,
  mountManifestCandidates
} from './cache-key.js'
import {
  extractCacheMounts,
  hasContent,
  injectCacheMounts
} from './cache-mount-sync.js'
import { findCacheMounts, usesMount, type CacheMount } from './cache-mounts.js'
import { firstBaseImage, parseDockerfile } from './dockerfile.js'
import type { CommandRunner } from '../common/command-runner.js'
import type { StepReport } from './rawjson-progress.js'

/** The slice of `@actions/cache` the mounts need, injectable for tests. */
export interface MountCacheStore {
  restore(
    paths: string[],
    key: string,
    restoreKeys: string[],
    lookupOnly: boolean
  ): Promise<string | undefined>
  /** The entry id, or -1 when the library gave up (it warned why). */
  save(paths: string[], key: string): Promise<number>
}

export interface MountCacheOptions {
  /** The Dockerfile's text. */
  dockerfile: string
  context: string
  buildArgs: Record<string, string>
  /** Files that key every mount; empty means each mount's own manifests. */
  cacheKeyFiles: string[]
  platforms: string[]
  /** The image's path in its registry, which names the entries. */
  imagePath: string
  /** Stable local folder of the mounts (the paths saved and restored). */
  dir: string
  utilityImage?: string
  builder?: string
  workspace: string
  /**
   * Whether the layer cache can answer the steps that use this mount when
   * their manifests did not change.
   */
  layerCached: (mountId: string) => boolean
  /** The Actions cache service, or why there is none. */
  service: ActionsCacheLookup
  /** Whether this run may write shared caches, and what decided it. */
  write: { allowed: boolean; reason: string }
}

export interface MountCacheDeps {
  runner: CommandRunner
  store: MountCacheStore
  info: (message: string) => void
  warning: (message: string) => void
}

/** One cache mount's entry in the Actions cache. */
export interface MountEntry {
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

function utilityImage(options: MountCacheOptions): string {
  if (options.utilityImage) return options.utilityImage
  const image = firstBaseImage(
    parseDockerfile(options.dockerfile),
    options.buildArgs
  )
  if (!image || image === 'scratch') {
    throw new Error(
      'no image with a shell to copy the cache mounts: set input "cache-mounts-utility-image"'
    )
  }
  return image
}

async function mountEntries(
  options: MountCacheOptions,
  mounts: CacheMount[]
): Promise<MountEntry[]> {
  const manifests = mountManifestCandidates(
    options.dockerfile,
    options.buildArgs
  )
  const platform = (
    options.platforms.join('+') || `linux-${process.arch}`
  ).replace(/\//g, '-')
  const entries: MountEntry[] = []
  for (const mount of mounts) {
    const files = options.cacheKeyFiles.length
      ? options.cacheKeyFiles
      : await existingFiles(options.context, manifests.get(mount.id) ?? [])
    const key = await cacheMountKey({
      prefix: `buildkit-mounts-${options.imagePath.replace(/\//g, '-')}`,
      platform,
      mounts: [mount],
      files,
      workspace: options.workspace
    })
    entries.push({
      mount,
      path: mountFolder(options.dir, mount),
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
  return entries
}

/**
 * Why no mount may be saved in this run, or undefined when saving is up to
 * each mount: the run may not write shared caches, or the service is read only.
 */
function saveBlocked(options: MountCacheOptions): string | undefined {
  if (!options.write.allowed) {
    return `skipped: cache writes are off (${options.write.reason})`
  }
  const access = options.service.service?.access
  if (access && !access.write) return `skipped: ${access.reason}`
  return undefined
}

/** Restores one mount's folder; true when it came back with content to inject. */
async function restoreOne(
  entry: MountEntry,
  options: MountCacheOptions,
  store: MountCacheStore
): Promise<boolean> {
  const { outcome } = entry
  const key = outcome.key ?? ''
  if (options.layerCached(entry.mount.id)) {
    const exact = await store.restore([entry.path], key, [], true)
    if (exact) {
      outcome.restore =
        'skipped: manifests unchanged, the install steps come from the layer cache'
      entry.needsSave = false
      return false
    }
  }
  await rm(entry.path, { recursive: true, force: true })
  const hit = await store.restore(
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
    const real = await store.restore([entry.path], target, [], false)
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

/**
 * Restores the cache mounts before the build, each under a key of its own
 * manifests (the files copied before the RUNs that use it), so a change in
 * one lock file moves only the mounts of that install. When a mount's exact
 * key exists its manifests did not change since it was saved, so the steps
 * that use it are layer-cache hits and restoring it would only cost time; an
 * older key (a changed lock file) is restored and injected so the reinstall
 * downloads only what is new. Undefined when the Dockerfile has no mounts.
 */
export async function restoreMounts(
  options: MountCacheOptions,
  deps: MountCacheDeps,
  workDir: string,
  nonce: string
): Promise<MountEntry[] | undefined> {
  const mounts = findCacheMounts(options.dockerfile)
  if (mounts.length === 0) return undefined
  const entries = await mountEntries(options, mounts)
  const { service, missing } = options.service
  const unreadable = !service
    ? `skipped: no Actions cache service (${missing})`
    : !service.access.read
      ? `skipped: ${service.access.reason}`
      : undefined
  if (unreadable) {
    for (const entry of entries) {
      entry.outcome.restore = unreadable
      entry.outcome.save = saveBlocked(options) ?? unreadable
      entry.needsSave = false
    }
    return entries
  }
  try {
    // Downloads and unpacking of different mounts overlap: one big mount
    // (apt archives) no longer holds the small ones back.
    const came = await Promise.all(
      entries.map((e) => restoreOne(e, options, deps.store))
    )
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
      utilityImage: utilityImage(options),
      dir: injectDir,
      workDir,
      builder: options.builder,
      nonce
    })
    await rm(injectDir, { recursive: true, force: true })
    deps.info(
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
    deps.warning(
      `Restoring the cache mounts failed, building without them: ${errorMessage(error)}`
    )
  }
  return entries
}

/** The mounts worth saving: key missing, writes allowed, and a step using them ran. */
function mountsToSave(
  entries: MountEntry[],
  options: MountCacheOptions,
  report: StepReport
): MountEntry[] {
  const blocked = saveBlocked(options)
  const ranSteps = report.steps.filter((s) => !s.cached)
  const toSave: MountEntry[] = []
  for (const entry of entries) {
    const { outcome } = entry
    if (!entry.needsSave) {
      if (outcome.save === 'skipped')
        outcome.save = 'skipped: the cache already has this key'
      continue
    }
    if (!ranSteps.some((s) => usesMount(s.name, entry.mount.id))) {
      outcome.save = 'skipped: no step using it ran'
      continue
    }
    if (blocked) {
      outcome.save = blocked
      continue
    }
    toSave.push(entry)
  }
  return toSave
}

/**
 * Saves the mounts whose key was missing and that a step which actually ran
 * used: the others are either already in the cache or unchanged since the
 * restore, and re-uploading them is the most expensive part of the action.
 */
export async function saveMounts(
  entries: MountEntry[],
  options: MountCacheOptions,
  deps: MountCacheDeps,
  report: StepReport,
  workDir: string,
  nonce: string
): Promise<void> {
  const toSave = mountsToSave(entries, options, report)
  if (toSave.length === 0) return
  try {
    const extractDir = join(workDir, 'extract')
    await extractCacheMounts({
      runner: deps.runner,
      mounts: toSave.map((e) => e.mount),
      utilityImage: utilityImage(options),
      dir: extractDir,
      workDir: join(workDir, 'extract-context'),
      builder: options.builder,
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
    deps.warning(`Saving the cache mounts failed: ${errorMessage(error)}`)
  }
}
