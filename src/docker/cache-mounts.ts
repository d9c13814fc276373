import {
  parseCsvOptions,
  parseDockerfile,
  splitFlags,
  type Instruction
} from './dockerfile.js'

/** A `RUN --mount=type=cache` as the Dockerfile declares it. */
export interface CacheMount {
  /** BuildKit keys cache mounts by id; it defaults to the target. */
  id: string
  target: string
  sharing?: string
  uid?: string
  gid?: string
  mode?: string
}

/** The cache mounts of one RUN instruction. */
export function runCacheMounts(instruction: Instruction): CacheMount[] {
  if (instruction.keyword !== 'RUN') return []
  const mounts: CacheMount[] = []
  for (const flag of splitFlags(instruction.args).flags) {
    if (!flag.startsWith('mount=')) continue
    const options = parseCsvOptions(flag.slice('mount='.length))
    if (options.get('type') !== 'cache') continue
    const target =
      options.get('target') ?? options.get('dst') ?? options.get('destination')
    if (!target) continue
    // A mount that reads another stage's files is not state worth keeping.
    if (options.has('from')) continue
    mounts.push({
      id: options.get('id') ?? target,
      target,
      sharing: options.get('sharing'),
      uid: options.get('uid'),
      gid: options.get('gid'),
      mode: options.get('mode')
    })
  }
  return mounts
}

/**
 * Every cache mount of a Dockerfile, once per id (the first declaration
 * wins), in order of appearance.
 */
export function findCacheMounts(dockerfile: string): CacheMount[] {
  const byId = new Map<string, CacheMount>()
  for (const instruction of parseDockerfile(dockerfile)) {
    for (const mount of runCacheMounts(instruction)) {
      if (!byId.has(mount.id)) byId.set(mount.id, mount)
    }
  }
  return [...byId.values()]
}

/**
 * Whether a step's name (its Dockerfile line) mounts the cache with this id;
 * a mount without `id=` is keyed by its target.
 */
export function usesMount(stepName: string, id: string): boolean {
  for (const match of stepName.matchAll(/--mount=(\S+)/g)) {
    const options = parseCsvOptions(match[1])
    if (options.get('type') !== 'cache') continue
    const mountId =
      options.get('id') ??
      options.get('target') ??
      options.get('dst') ??
      options.get('destination')
    if (mountId === id) return true
  }
  return false
}
