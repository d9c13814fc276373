import { readdir, readFile, rm, mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * A cache mount restored from an older key and barely changed by the build
 * (apt archives after two packages were added: 0.2 MB new in 407 MB) is not
 * uploaded again. Its new key gets a tiny entry naming the older one instead:
 * the next build's exact-key lookup still finds the key (and skips the
 * restore when the layer cache will hit), and a restore through the alias
 * fetches the older entry. Re-uploading hundreds of megabytes for a few new
 * files was the largest part of saving the mounts.
 */

/** The file that makes a saved folder an alias. */
export const ALIAS_FILE = '.build-cached-image-alias'

/** Only mounts at least this big are worth an alias. */
export const ALIAS_MIN_BYTES = 32 * 1024 * 1024
/** At most this share of the mount's bytes may be new. */
export const ALIAS_MAX_NEW_SHARE = 0.05

/** Size of every file under a folder, by relative path. */
export type FileSizes = Map<string, number>

export async function listFiles(dir: string): Promise<FileSizes> {
  const sizes: FileSizes = new Map()
  const names = await readdir(dir, { recursive: true }).catch(() => [])
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined)
    if (info?.isFile()) sizes.set(name, info.size)
  }
  return sizes
}

export function totalBytes(sizes: FileSizes): number {
  let total = 0
  for (const size of sizes.values()) total += size
  return total
}

/** Bytes of files that are new, or whose size changed, since `before`. */
export function newBytes(before: FileSizes, after: FileSizes): number {
  let added = 0
  for (const [name, size] of after) {
    if (before.get(name) !== size) added += size
  }
  return added
}

export interface AliasDecision {
  alias: boolean
  newBytes: number
  totalBytes: number
}

/** Whether the folder after the build is close enough to what was restored. */
export function decideAlias(
  before: FileSizes,
  after: FileSizes
): AliasDecision {
  const total = totalBytes(after)
  const added = newBytes(before, after)
  return {
    alias: total >= ALIAS_MIN_BYTES && added <= total * ALIAS_MAX_NEW_SHARE,
    newBytes: added,
    totalBytes: total
  }
}

/** Replaces the folder's content with an alias of `key`. */
export async function writeAlias(dir: string, key: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, ALIAS_FILE), JSON.stringify({ key }) + '\n')
}

/** The key a restored folder points at, when it is an alias. */
export async function readAlias(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[])
  if (names.length !== 1 || names[0] !== ALIAS_FILE) return undefined
  try {
    const { key } = JSON.parse(
      await readFile(join(dir, ALIAS_FILE), 'utf8')
    ) as { key?: unknown }
    return typeof key === 'string' && key ? key : undefined
  } catch {
    return undefined
  }
}
