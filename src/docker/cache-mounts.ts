import {
  argValues,
  parseCsvOptions,
  parseDockerfile,
  splitFlags,
  substituteArgs,
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

/**
 * The mounts whose every RUN is in a stage the image is built FROM (the
 * target, else the last stage, and the stages it descends from). An inline
 * cache (mode=min) carries the steps of those stages only: a stage the image
 * merely copies from is rebuilt from its first changed step without it, so
 * its mounts are worth restoring even when their manifests did not change.
 */
export function mountsInImageChain(
  dockerfile: string,
  buildArgs: Record<string, string>,
  target?: string
): Set<string> {
  const instructions = parseDockerfile(dockerfile)
  const values = argValues(instructions, buildArgs)
  const stages: { alias?: string; parent?: number; mounts: Set<string> }[] = []
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = splitFlags(instruction.args).rest.split(/\s+/)
      const base = substituteArgs(words[0] ?? '', values).toLowerCase()
      const alias = /^as$/i.test(words[1] ?? '')
        ? words[2]?.toLowerCase()
        : undefined
      const parent = stages.findIndex((stage) => stage.alias === base)
      stages.push({
        alias,
        parent: parent < 0 ? undefined : parent,
        mounts: new Set()
      })
      continue
    }
    const stage = stages.at(-1)
    for (const mount of runCacheMounts(instruction)) stage?.mounts.add(mount.id)
  }
  const chain = new Set<number>()
  const wanted = target?.toLowerCase()
  let at: number | undefined = wanted
    ? stages.findIndex((stage) => stage.alias === wanted)
    : stages.length - 1
  while (at !== undefined && at >= 0 && !chain.has(at)) {
    chain.add(at)
    at = stages[at].parent
  }
  const inChain = new Set<string>()
  const elsewhere = new Set<string>()
  stages.forEach((stage, n) => {
    for (const id of stage.mounts) (chain.has(n) ? inChain : elsewhere).add(id)
  })
  return new Set([...inChain].filter((id) => !elsewhere.has(id)))
}
