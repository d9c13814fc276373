import type { CommandRunner } from '../common/command-runner.js'

/** The BuildKit builder a build will run on. */
export interface BuilderInfo {
  name: string
  /** `docker`, `docker-container`, `kubernetes` or `remote`. */
  driver: string
  /** Docker's containerd image store, which widens what the docker driver can do. */
  containerdStore: boolean
  /** BuildKit's [major, minor] when the builder reports a real version. */
  buildkit?: [number, number]
  /** Docker Engine major version, for the docker driver (its embedded BuildKit). */
  engineMajor?: number
}

/** A cache backend as `--cache-to type=` names it. */
export type CacheExporter = 'inline' | 'registry' | 'local' | 'gha'

/** Reads `Name:`, `Driver:` and the BuildKit version from `docker buildx inspect` output. */
export function parseBuildxInspect(text: string): {
  name: string
  driver: string
  buildkit?: [number, number]
} {
  const field = (label: string): string =>
    new RegExp(`^${label}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? ''
  // Distribution builds of dockerd report v0.0.0+unknown: no version then.
  const version = /^\s*Build[Kk]it(?: version)?:\s*v?(\d+)\.(\d+)/m.exec(text)
  const buildkit: [number, number] | undefined =
    version && version[1] + version[2] !== '00'
      ? [Number(version[1]), Number(version[2])]
      : undefined
  return { name: field('Name'), driver: field('Driver'), buildkit }
}

/**
 * Whether the builder's BuildKit speaks the Actions cache service v2
 * (`url_v2`, BuildKit 0.20+, which Docker Engine 28 embeds). Unknown means
 * yes: a failed cache export is reported as a warning if not.
 */
export function speaksCacheV2(builder: BuilderInfo): boolean {
  if (builder.buildkit) {
    const [major, minor] = builder.buildkit
    return major > 0 || minor >= 20
  }
  if (builder.driver === 'docker' && builder.engineMajor !== undefined) {
    return builder.engineMajor >= 28
  }
  return true
}

/** Whether `docker info`'s DriverStatus JSON says the containerd store is on. */
export function usesContainerdStore(driverStatusJson: string): boolean {
  try {
    const status = JSON.parse(driverStatusJson) as unknown
    if (!Array.isArray(status)) return false
    return status.some(
      (pair) =>
        Array.isArray(pair) &&
        String(pair[1]).startsWith('io.containerd.snapshotter')
    )
  } catch {
    return false
  }
}

/**
 * The cache exporters a builder has. The docker driver on the classic image
 * store only has inline (asking for more fails the build with "Cache export
 * is not supported"); the containerd store adds registry, local and gha.
 */
export function cacheExporters(builder: BuilderInfo): Set<CacheExporter> {
  if (builder.driver === 'docker' && !builder.containerdStore) {
    return new Set(['inline'])
  }
  return new Set(['inline', 'registry', 'local', 'gha'])
}

/** Whether the builder can keep attestations: the classic image store cannot. */
export function storesAttestations(builder: BuilderInfo): boolean {
  return builder.driver !== 'docker' || builder.containerdStore
}

/** Asks buildx and the engine which builder and store a build will use. */
export async function detectBuilder(
  runner: CommandRunner,
  builder?: string
): Promise<BuilderInfo> {
  // docker info only matters for the docker driver, but asking it beside
  // buildx inspect saves a CLI round trip (about 0.4 s) on the runner default.
  const [inspect, info] = await Promise.all([
    runner('docker', ['buildx', 'inspect', ...(builder ? [builder] : [])]),
    runner('docker', [
      'info',
      '--format',
      '{{.ServerVersion}} {{json .DriverStatus}}'
    ])
  ])
  if (inspect.exitCode !== 0) {
    const why = inspect.stderr.trim().split('\n').pop() ?? ''
    throw new Error(
      builder
        ? `Input "builder" has "${builder}", which buildx cannot use here (docker buildx inspect ${builder}: ${why}); create it first (setup-buildx-action, or docker buildx create --name ${builder}) or leave the input empty for the current builder`
        : `docker buildx inspect failed: ${why}`
    )
  }
  const { name, driver, buildkit } = parseBuildxInspect(inspect.stdout)
  let containerdStore = false
  let engineMajor: number | undefined
  if (driver === 'docker' && info.exitCode === 0) {
    const text = info.stdout.trim()
    const space = text.indexOf(' ')
    containerdStore = usesContainerdStore(text.slice(space + 1))
    const major = /^(\d+)\./.exec(text)?.[1]
    engineMajor = major ? Number(major) : undefined
  }
  return {
    name: name || builder || 'default',
    driver,
    containerdStore,
    buildkit,
    engineMajor
  }
}
