import type { CommandRunner } from '../common/command-runner.js'

/** The BuildKit builder a build will run on. */
export interface BuilderInfo {
  name: string
  /** `docker`, `docker-container`, `kubernetes` or `remote`. */
  driver: string
  /** Docker's containerd image store, which widens what the docker driver can do. */
  containerdStore: boolean
}

/** A cache backend as `--cache-to type=` names it. */
export type CacheExporter = 'inline' | 'registry' | 'local' | 'gha'

/** Reads `Name:` and `Driver:` from `docker buildx inspect` output. */
export function parseBuildxInspect(text: string): {
  name: string
  driver: string
} {
  const field = (label: string): string =>
    new RegExp(`^${label}:\\s*(\\S+)`, 'm').exec(text)?.[1] ?? ''
  return { name: field('Name'), driver: field('Driver') }
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

/** Asks buildx and the engine which builder and store a build will use. */
export async function detectBuilder(
  runner: CommandRunner,
  builder?: string
): Promise<BuilderInfo> {
  const inspect = await runner('docker', [
    'buildx',
    'inspect',
    ...(builder ? [builder] : [])
  ])
  if (inspect.exitCode !== 0) {
    throw new Error(
      `docker buildx inspect${builder ? ` ${builder}` : ''} failed: ${inspect.stderr.trim().split('\n').pop() ?? ''}`
    )
  }
  const { name, driver } = parseBuildxInspect(inspect.stdout)
  let containerdStore = false
  if (driver === 'docker') {
    const info = await runner('docker', [
      'info',
      '--format',
      '{{json .DriverStatus}}'
    ])
    containerdStore =
      info.exitCode === 0 && usesContainerdStore(info.stdout.trim())
  }
  return { name: name || builder || 'default', driver, containerdStore }
}
