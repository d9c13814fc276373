import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CacheMount } from './cache-mounts.js'
import type { CommandRunner } from '../common/command-runner.js'

/**
 * Moving `RUN --mount=type=cache` contents in and out of the builder. No
 * cache backend exports them (moby/buildkit#1512), and they live inside
 * BuildKit's state, so the only door is another build that mounts the same
 * cache ids: extraction copies them into a stage exported with
 * `--output type=local`; injection copies a local folder, sent as the build
 * context, into them. Each mount has a numbered folder (`0`, `1`, ...) under
 * the local directory, in the order of `mounts`.
 */

function mountFlag(mount: CacheMount, target: string): string {
  const options = [`type=cache`, `id=${mount.id}`, `target=${target}`]
  // Locked sharing waits for a running build to release the mount instead of
  // copying a half-written one.
  options.push(`sharing=${mount.sharing ?? 'locked'}`)
  if (mount.uid) options.push(`uid=${mount.uid}`)
  if (mount.gid) options.push(`gid=${mount.gid}`)
  if (mount.mode) options.push(`mode=${mount.mode}`)
  return `--mount=${options.join(',')}`
}

/** The helper Dockerfile that copies every mount out to `/out/<n>`. */
export function extractDockerfile(
  mounts: CacheMount[],
  utilityImage: string
): string {
  const flags = mounts
    .map((m, i) => mountFlag(m, `/cache/${i}`))
    .join(' \\\n    ')
  const copies = mounts
    .map((_, i) => `mkdir -p /out/${i} && cp -a /cache/${i}/. /out/${i}/`)
    .join(' && ')
  // The nonce keeps BuildKit from answering with a cached (stale) copy.
  return [
    `FROM ${utilityImage} AS extract`,
    'ARG CACHE_MOUNT_NONCE',
    `RUN ${flags} \\\n    echo "$CACHE_MOUNT_NONCE" >/dev/null && ${copies}`,
    'FROM scratch',
    'COPY --from=extract /out/ /',
    ''
  ].join('\n')
}

/** The helper Dockerfile that copies the context's `<n>` folders into the mounts. */
export function injectDockerfile(
  mounts: CacheMount[],
  utilityImage: string
): string {
  const flags = mounts
    .map((m, i) => mountFlag(m, `/cache/${i}`))
    .join(' \\\n    ')
  const copies = mounts
    .map((_, i) => `cp -a /restore/${i}/. /cache/${i}/`)
    .join(' && ')
  return [
    `FROM ${utilityImage}`,
    'ARG CACHE_MOUNT_NONCE',
    `RUN --mount=type=bind,source=.,target=/restore ${flags} \\\n    echo "$CACHE_MOUNT_NONCE" >/dev/null && ${copies}`,
    ''
  ].join('\n')
}

export interface SyncOptions {
  runner: CommandRunner
  mounts: CacheMount[]
  utilityImage: string
  /** Local folder holding one numbered folder per mount. */
  dir: string
  /** Folder for the helper Dockerfile (outside `dir`). */
  workDir: string
  builder?: string
  nonce: string
}

function failure(what: string, stderr: string): Error {
  const tail = stderr.trim().split('\n').slice(-5).join('\n')
  return new Error(`${what} failed: ${tail}`)
}

/**
 * Runs one of the helper builds that move files between a folder and the
 * builder's cache mounts: only a build can reach those mounts.
 */
async function runHelperBuild(
  options: SyncOptions,
  name: string,
  dockerfileText: string,
  output: string,
  context: string,
  what: string
): Promise<void> {
  await mkdir(options.workDir, { recursive: true })
  const dockerfile = join(options.workDir, `${name}.Dockerfile`)
  await writeFile(dockerfile, dockerfileText)
  const result = await options.runner('docker', [
    'buildx',
    'build',
    ...(options.builder ? ['--builder', options.builder] : []),
    '--progress=plain',
    // The helpers only copy files: no network, so they run even where the
    // engine's default bridge is missing or the build's network is locked down.
    '--network',
    'none',
    '--file',
    dockerfile,
    '--build-arg',
    `CACHE_MOUNT_NONCE=${options.nonce}`,
    '--output',
    output,
    context
  ])
  if (result.exitCode !== 0) throw failure(what, result.stderr)
}

/** Copies the mounts out of the builder into `dir` (emptied first). */
export async function extractCacheMounts(options: SyncOptions): Promise<void> {
  await rm(options.dir, { recursive: true, force: true })
  await mkdir(options.dir, { recursive: true })
  await runHelperBuild(
    options,
    'extract',
    extractDockerfile(options.mounts, options.utilityImage),
    `type=local,dest=${options.dir}`,
    options.workDir,
    'extracting the cache mounts'
  )
}

/** Copies `dir` into the builder's mounts; missing folders are created empty. */
export async function injectCacheMounts(options: SyncOptions): Promise<void> {
  for (let i = 0; i < options.mounts.length; i++) {
    await mkdir(join(options.dir, String(i)), { recursive: true })
  }
  await runHelperBuild(
    options,
    'inject',
    injectDockerfile(options.mounts, options.utilityImage),
    'type=cacheonly',
    options.dir,
    'restoring the cache mounts'
  )
}

/** Whether an extracted or restored folder holds any file at all. */
export async function hasContent(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [])
  return entries.length > 0
}
