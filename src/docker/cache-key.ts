import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve } from 'node:path'
import type { CacheMount } from './cache-mounts.js'
import { runCacheMounts } from './cache-mounts.js'
import {
  argValues,
  parseDockerfile,
  splitFlags,
  substituteArgs
} from './dockerfile.js'

/** Where a cache-mount key comes from. */
export interface CacheMountKey {
  key: string
  /** Prefixes tried, in order, when the exact key is absent. */
  restoreKeys: string[]
  /** Manifest files hashed into the key, relative to the workspace. */
  files: string[]
}

function sources(args: string): string[] {
  const { flags, rest } = splitFlags(args)
  // COPY --from reads another stage or image, not the build context.
  if (flags.some((f) => f.startsWith('from='))) return []
  if (rest.startsWith('[')) {
    try {
      const list = JSON.parse(rest) as string[]
      return list.slice(0, -1)
    } catch {
      return []
    }
  }
  const words = rest.split(/\s+/).filter(Boolean)
  return words.slice(0, -1)
}

/**
 * The dependency manifests of a Dockerfile: the files COPY/ADD bring in
 * before the last RUN that uses a cache mount. Those are the inputs of the
 * dependency installs, so a change in them is what makes the installs rerun
 * (and is what the cache mounts should be keyed on). Whole-tree copies
 * (`.`, directories, globs) are left out by the caller's file check.
 */
export function manifestCandidates(
  dockerfile: string,
  buildArgs: Record<string, string>
): string[] {
  const instructions = parseDockerfile(dockerfile)
  const values = argValues(instructions, buildArgs)
  let lastMountRun = -1
  instructions.forEach((instruction, i) => {
    if (runCacheMounts(instruction).length > 0) lastMountRun = i
  })
  const found: string[] = []
  instructions.slice(0, lastMountRun + 1).forEach((instruction) => {
    if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') return
    for (const source of sources(instruction.args)) {
      const path = substituteArgs(source, values)
      if (/[*?[]/.test(path) || /^[a-z]+:\/\//.test(path)) continue
      if (!found.includes(path)) found.push(path)
    }
  })
  return found
}

/**
 * The manifests of each cache mount: the files COPY/ADD bring in before the
 * RUNs that use the mount, in the RUN's stage and in the stages it is built
 * FROM. A mount keyed on its own inputs only is restored and saved only when
 * those change: a lock file change in one stage does not move the (large)
 * mounts of another. Keys are mount ids.
 */
export function mountManifestCandidates(
  dockerfile: string,
  buildArgs: Record<string, string>
): Map<string, string[]> {
  const instructions = parseDockerfile(dockerfile)
  const values = argValues(instructions, buildArgs)
  // Files copied so far by each named stage (including what it inherits).
  const stageFiles = new Map<string, string[]>()
  let current: string[] = []
  const result = new Map<string, string[]>()
  const add = (list: string[], path: string): void => {
    if (!list.includes(path)) list.push(path)
  }
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = splitFlags(instruction.args).rest.split(/\s+/)
      const base = substituteArgs(words[0] ?? '', values)
      current = [...(stageFiles.get(base) ?? [])]
      const alias = /^as$/i.test(words[1] ?? '') ? words[2] : undefined
      if (alias) stageFiles.set(alias, current)
      continue
    }
    if (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') {
      for (const source of sources(instruction.args)) {
        const path = substituteArgs(source, values)
        if (/[*?[]/.test(path) || /^[a-z]+:\/\//.test(path)) continue
        add(current, path)
      }
      continue
    }
    for (const mount of runCacheMounts(instruction)) {
      const files = result.get(mount.id) ?? []
      current.forEach((f) => add(files, f))
      result.set(mount.id, files)
    }
  }
  return result
}

/** Keeps the candidates that are regular files inside the context. */
export async function existingFiles(
  context: string,
  candidates: string[]
): Promise<string[]> {
  const files: string[] = []
  for (const candidate of candidates) {
    const path = resolve(context, candidate)
    const info = await stat(path).catch(() => undefined)
    if (info?.isFile()) files.push(path)
  }
  return files
}

/** A short stable hash of strings. */
export function shortHash(parts: string[], length = 16): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\0')
  return hash.digest('hex').slice(0, length)
}

/**
 * The `@actions/cache` key of the cache mounts: which mounts (ids and
 * targets), then the content of the manifests. The restore key drops the
 * manifest part, so a changed lock file still restores the newest set of
 * downloads for the same mounts.
 */
export async function cacheMountKey(options: {
  prefix: string
  platform: string
  mounts: CacheMount[]
  files: string[]
  workspace: string
}): Promise<CacheMountKey> {
  const mountPart = shortHash(
    options.mounts.map((m) => `${m.id}=${m.target}`),
    8
  )
  const contents: string[] = []
  const names: string[] = []
  for (const file of [...options.files].sort()) {
    const name = isAbsolute(file) ? relative(options.workspace, file) : file
    names.push(name)
    contents.push(
      name,
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex')
    )
  }
  const base = `${options.prefix}-${options.platform}-${mountPart}-`
  return {
    key: `${base}${shortHash(contents)}`,
    restoreKeys: [base],
    files: names
  }
}
