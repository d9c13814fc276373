import { createReadStream } from 'node:fs'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A local stand-in for the GitHub Actions cache service, speaking the v1 REST
 * protocol that `@actions/cache` uses for GHES and that BuildKit's `type=gha`
 * backend speaks. Entries live on disk so multi-gigabyte layer caches fit.
 */
export interface CacheEntry {
  id: number
  key: string
  version: string
  scope: string
  size: number
  committed: boolean
  createdAt: Date
  file: string
}

export interface CacheServerOptions {
  port?: number
  /** When true, every request answers 503, as an outage would. */
  down?: boolean
  /** When true, reservations are refused (a read-only token). */
  readOnly?: boolean
}

export interface CacheServer {
  /** Base URL with a trailing slash, as `ACTIONS_CACHE_URL` expects. */
  url: string
  /** A token shaped like the runner's (BuildKit reads its `ac` claim). */
  token: string
  entries: () => CacheEntry[]
  requests: { method: string; path: string; status: number }[]
  options: CacheServerOptions
  /** The variables an action needs to reach this service. */
  env: () => Record<string, string>
  close: () => Promise<void>
}

/**
 * A JWT-shaped runtime token; the signature is never checked by clients.
 * BuildKit's gha client (go-actions-cache) requires `ac`, `exp` and `nbf`.
 */
export function runtimeToken(scope = 'refs/heads/main'): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url')
  const claims = {
    ac: JSON.stringify([{ Scope: scope, Permission: 3 }]),
    exp: Math.floor(Date.now() / 1000) + 86400,
    nbf: Math.floor(Date.now() / 1000) - 60
  }
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}.c2ln`
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendJson(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  const text = JSON.stringify(body)
  res
    .writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text)
    })
    .end(text)
}

/** Starts the service on loopback; `port` 0 (default) picks a free one. */
export async function startCacheServer(
  options: CacheServerOptions = {}
): Promise<CacheServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ert-cache-'))
  const entries: CacheEntry[] = []
  const requests: CacheServer['requests'] = []
  const token = runtimeToken()
  let nextId = 1
  let baseUrl = ''

  const toResult = (entry: CacheEntry): Record<string, unknown> => ({
    cacheKey: entry.key,
    scope: entry.scope,
    cacheVersion: entry.version,
    creationTime: entry.createdAt.toISOString(),
    archiveLocation: `${baseUrl}_download/${entry.id}`
  })

  // The service's matching rule: an exact key first, then each restore key
  // as a prefix, newest entry first; the version must always match.
  const lookup = (keys: string[], version: string): CacheEntry | undefined => {
    const ready = entries
      .filter((e) => e.committed && e.version === version)
      .sort(
        (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id
      )
    for (const key of keys) {
      const exact = ready.find((e) => e.key === key)
      if (exact) return exact
      const prefixed = ready.find((e) => e.key.startsWith(key))
      if (prefixed) return prefixed
    }
    return undefined
  }

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse
  ): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname
    if (options.down)
      return sendJson(res, 503, { message: 'cache service unavailable' })

    const download = /^\/_download\/(\d+)$/.exec(path)
    if (req.method === 'GET' && download) {
      const entry = entries.find((e) => e.id === Number(download[1]))
      if (!entry?.committed) return sendJson(res, 404)
      const size = (await stat(entry.file)).size
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
      if (range) {
        const start = Number(range[1])
        const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1
        res.writeHead(206, {
          'Content-Length': end - start + 1,
          'Content-Range': `bytes ${start}-${end}/${size}`,
          'Content-Type': 'application/octet-stream'
        })
        createReadStream(entry.file, { start, end }).pipe(res)
        return
      }
      res.writeHead(200, {
        'Content-Length': size,
        'Content-Type': 'application/octet-stream'
      })
      createReadStream(entry.file).pipe(res)
      return
    }

    const auth = req.headers.authorization ?? ''
    if (auth !== `Bearer ${token}`)
      return sendJson(res, 401, { message: 'bad token' })

    const api = '/_apis/artifactcache/'
    if (!path.startsWith(api)) return sendJson(res, 404)
    const resource = path.slice(api.length)

    if (req.method === 'GET' && resource === 'cache') {
      const keys = (url.searchParams.get('keys') ?? '')
        .split(',')
        .filter(Boolean)
      const found = lookup(keys, url.searchParams.get('version') ?? '')
      return found ? sendJson(res, 200, toResult(found)) : sendJson(res, 204)
    }
    if (req.method === 'GET' && resource === 'caches') {
      const key = url.searchParams.get('key') ?? ''
      const list = entries.filter((e) => e.committed && e.key === key)
      return sendJson(res, 200, {
        totalCount: list.length,
        artifactCaches: list.map(toResult)
      })
    }
    if (req.method === 'POST' && resource === 'caches') {
      const body = JSON.parse((await readBody(req)).toString() || '{}') as {
        key?: string
        version?: string
      }
      if (options.readOnly) {
        return sendJson(res, 403, { message: 'token has no write permission' })
      }
      if (!body.key || !body.version) {
        return sendJson(res, 400, { message: 'key and version are required' })
      }
      if (
        entries.some((e) => e.key === body.key && e.version === body.version)
      ) {
        return sendJson(res, 409, {
          message: `Cache already exists. Scope: refs/heads/main, Key: ${body.key}, Version: ${body.version}`
        })
      }
      const entry: CacheEntry = {
        id: nextId++,
        key: body.key,
        version: body.version,
        scope: 'refs/heads/main',
        size: 0,
        committed: false,
        createdAt: new Date(),
        file: ''
      }
      entry.file = join(dir, `entry-${entry.id}`)
      await (await open(entry.file, 'w')).close()
      entries.push(entry)
      return sendJson(res, 201, { cacheId: entry.id })
    }
    const chunk = /^caches\/(\d+)$/.exec(resource)
    if (chunk) {
      const entry = entries.find((e) => e.id === Number(chunk[1]))
      if (!entry || entry.committed) return sendJson(res, 404)
      if (req.method === 'PATCH') {
        const range = /^bytes (\d+)-(\d+)\/\*$/.exec(
          req.headers['content-range'] ?? ''
        )
        if (!range)
          return sendJson(res, 400, { message: 'Content-Range required' })
        const data = await readBody(req)
        const handle = await open(entry.file, 'r+')
        await handle.write(data, 0, data.length, Number(range[1]))
        await handle.close()
        return sendJson(res, 204)
      }
      if (req.method === 'POST') {
        const body = JSON.parse((await readBody(req)).toString() || '{}') as {
          size?: number
        }
        const size = (await stat(entry.file)).size
        if (body.size !== size) {
          return sendJson(res, 400, {
            message: `size ${String(body.size)} does not match uploaded ${size}`
          })
        }
        entry.size = size
        entry.committed = true
        entry.createdAt = new Date()
        return sendJson(res, 204)
      }
    }
    return sendJson(res, 404)
  }

  const server: Server = createServer((req, res) => {
    res.on('finish', () =>
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode
      })
    )
    handle(req, res).catch((error: unknown) =>
      sendJson(res, 500, { message: String(error) })
    )
  })
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  )
  const port = (server.address() as AddressInfo).port
  baseUrl = `http://127.0.0.1:${port}/`

  return {
    url: baseUrl,
    token,
    entries: () => [...entries],
    requests,
    options,
    env: () => ({
      ACTIONS_CACHE_URL: baseUrl,
      ACTIONS_RUNTIME_TOKEN: token,
      ACTIONS_CACHE_SERVICE_V2: ''
    }),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
