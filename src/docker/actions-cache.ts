// How this run reaches the GitHub Actions cache: protocol, URL and mode, read
// from the variables the runner sets, the same way `@actions/cache` reads them.

/** What the run may do with the Actions cache (`ACTIONS_CACHE_MODE`). */
export interface ActionsCacheAccess {
  read: boolean
  write: boolean
  /** Why reads or writes are off, naming the variable; '' when both are on. */
  reason: string
}

export interface ActionsCacheService {
  /** v2 (Twirp + Azure Blob) on github.com; v1 on GitHub Enterprise Server. */
  protocol: 'v1' | 'v2'
  url: string
  token: string
  access: ActionsCacheAccess
}

export type ActionsCacheLookup =
  | { service: ActionsCacheService; missing?: undefined }
  | { service?: undefined; missing: string }

/** As `@actions/cache` decides it: a server that is not GitHub's cloud speaks v1. */
function isGhes(serverUrl: string | undefined): boolean {
  const host = new URL(serverUrl || 'https://github.com').hostname.toUpperCase()
  return (
    host !== 'GITHUB.COM' &&
    !host.endsWith('.GHE.COM') &&
    !host.endsWith('.LOCALHOST')
  )
}

function access(mode: string): ActionsCacheAccess {
  const value = mode.trim().toLowerCase()
  // Unknown values are permissive, as in @actions/cache.
  const read = !['none', 'write-only'].includes(value)
  const write = !['none', 'read'].includes(value)
  const off = [!read && 'reads', !write && 'writes']
    .filter(Boolean)
    .join(' and ')
  return {
    read,
    write,
    reason: off
      ? `ACTIONS_CACHE_MODE is "${value}", which allows no ${off}`
      : ''
  }
}

/**
 * The Actions cache this run can use, or why there is none. Runners on the
 * v2 service set ACTIONS_CACHE_SERVICE_V2 and ACTIONS_RESULTS_URL, and
 * ACTIONS_CACHE_URL only when the server still sends one; GHES sets
 * ACTIONS_CACHE_URL. Both need ACTIONS_RUNTIME_TOKEN.
 */
export function actionsCacheService(
  env: Record<string, string | undefined>
): ActionsCacheLookup {
  const v2 =
    Boolean(env.ACTIONS_CACHE_SERVICE_V2) && !isGhes(env.GITHUB_SERVER_URL)
  const token = env.ACTIONS_RUNTIME_TOKEN ?? ''
  const url = (v2 ? env.ACTIONS_RESULTS_URL : env.ACTIONS_CACHE_URL) ?? ''
  const urlName = v2
    ? 'ACTIONS_RESULTS_URL (cache service v2)'
    : 'ACTIONS_CACHE_URL (cache service v1)'
  if (!url || !token) {
    const missing = [!url && urlName, !token && 'ACTIONS_RUNTIME_TOKEN']
      .filter(Boolean)
      .join(' and ')
    return { missing: `${missing} not set` }
  }
  return {
    service: {
      protocol: v2 ? 'v2' : 'v1',
      url,
      token,
      access: access(env.ACTIONS_CACHE_MODE ?? '')
    }
  }
}

/**
 * The `type=gha` attributes that reach the service: BuildKit (0.20 and
 * later) speaks v2 when given `url_v2`, v1 when given `url`.
 */
export function ghaServiceAttrs(service: ActionsCacheService): string {
  const url = service.protocol === 'v2' ? 'url_v2' : 'url'
  return `type=gha,${url}=${service.url},token=${service.token}`
}
