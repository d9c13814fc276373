import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** What a build can do with a registry before it tries. */
export type RegistryAccess = 'writable' | 'read-only' | 'unreachable'

export interface RegistryProbe {
  access: RegistryAccess
  detail: string
}

export type FetchLike = (
  url: string,
  init?: { method?: string; signal?: AbortSignal }
) => Promise<{ status: number; headers: { get(name: string): string | null } }>

/** Loopback registries speak plain HTTP, as Docker assumes for them. */
export function registryBaseUrl(host: string): string {
  const plain = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host)
  return `${plain ? 'http' : 'https'}://${host}`
}

/** Whether the Docker CLI has credentials (or a helper) for `host`. */
export function hasDockerCredentials(
  host: string,
  configPath = join(
    process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'),
    'config.json'
  )
): boolean {
  if (!existsSync(configPath)) return false
  try {
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      auths?: Record<string, unknown>
      credHelpers?: Record<string, unknown>
      credsStore?: string
    }
    return Boolean(
      config.auths?.[host] ??
      config.auths?.[`https://${host}`] ??
      config.credHelpers?.[host]
    )
  } catch {
    return false
  }
}

/**
 * Finds out, in two requests, whether layers could be pushed to `repository`
 * on `host`: `/v2/` must answer, and starting a blob upload must be accepted
 * (the upload is cancelled at once). A registry that wants auth counts as
 * writable when the Docker CLI holds credentials for it, since buildx pushes
 * with those. Never throws: an unreachable registry is an answer.
 */
export async function probeRegistry(
  host: string,
  repository: string,
  fetchImpl: FetchLike = fetch as unknown as FetchLike,
  timeoutMs = 5000,
  credentials: (host: string) => boolean = hasDockerCredentials
): Promise<RegistryProbe> {
  const base = registryBaseUrl(host)
  const call = async (
    url: string,
    method: string
  ): Promise<Awaited<ReturnType<FetchLike>>> =>
    fetchImpl(url, { method, signal: AbortSignal.timeout(timeoutMs) })
  try {
    const root = await call(`${base}/v2/`, 'GET')
    if (root.status >= 500) {
      return {
        access: 'unreachable',
        detail: `${base}/v2/ answered ${root.status}`
      }
    }
    if (root.status === 401 || root.status === 403) {
      return credentials(host)
        ? {
            access: 'writable',
            detail: 'authenticated with Docker credentials'
          }
        : { access: 'read-only', detail: `no Docker credentials for ${host}` }
    }
    const upload = await call(`${base}/v2/${repository}/blobs/uploads/`, 'POST')
    if (upload.status === 202) {
      const location = upload.headers.get('location')
      if (location) {
        const url = new URL(location, base).toString()
        await call(url, 'DELETE').catch(() => undefined)
      }
      return { access: 'writable', detail: 'blob upload accepted' }
    }
    return {
      access: 'read-only',
      detail: `blob upload refused with ${upload.status}`
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return {
      access: 'unreachable',
      detail: `${base} did not answer (${cause ?? String(error)})`
    }
  }
}
