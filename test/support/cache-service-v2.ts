import {
  BlobSASPermissions,
  BlobServiceClient,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type ContainerClient
} from '@azure/storage-blob'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runtimeToken } from './cache-server.js'

/**
 * A local stand-in for the GitHub Actions cache service v2, the one GitHub's
 * runners use since v1 was retired: Twirp JSON calls for the bookkeeping,
 * and the bytes moved through signed URLs of a real Azure Blob emulator
 * (Azurite), exactly as `@actions/cache` 6 and BuildKit's gha client
 * (`url_v2`) move them on a runner.
 */

const repoRoot = resolve(new URL('../..', import.meta.url).pathname)
/** Azurite's well-known development account (public, in its README). */
const ACCOUNT = 'devstoreaccount1'
const ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
const CONTAINER = 'actions-cache'
const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/'
/** The prefix `@actions/cache` turns into CacheWriteDeniedError. */
export const WRITE_DENIED = 'cache write denied: token has no writable scopes'

export interface Azurite {
  /** `http://127.0.0.1:<port>/devstoreaccount1`, path-style. */
  accountUrl: string
  container: ContainerClient
  credential: StorageSharedKeyCredential
  close: () => Promise<void>
}

/**
 * Starts Azurite's blob service on a free loopback port with Node 24 (it
 * needs Node 22 or later, and the npm scripts' node is that one).
 */
export async function startAzurite(): Promise<Azurite> {
  const dir = await mkdtemp(join(tmpdir(), 'ert-azurite-'))
  const child: ChildProcess = spawn(
    join(repoRoot, 'node_modules', '.bin', 'node'),
    [
      join(
        repoRoot,
        'node_modules',
        'azurite',
        'dist',
        'src',
        'blob',
        'main.js'
      ),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--location',
      dir,
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--loose',
      '--silent'
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Azurite did not start in 30 s: ${output}`)),
      30_000
    )
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolvePort(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited with ${String(code)}: ${output}`))
    })
  })
  const accountUrl = `http://127.0.0.1:${port}/${ACCOUNT}`
  const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY)
  const container = new BlobServiceClient(
    accountUrl,
    credential
  ).getContainerClient(CONTAINER)
  await container.createIfNotExists()
  return {
    accountUrl,
    container,
    credential,
    close: async () => {
      child.removeAllListeners('exit')
      await new Promise<void>((done) => {
        if (child.exitCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      })
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export interface CacheEntryV2 {
  id: number
  key: string
  version: string
  blob: string
  size: number
  committed: boolean
  createdAt: number
}

export interface CacheServiceV2Options {
  /** Every Twirp call answers 503, as an outage would. */
  down?: boolean
  /** CreateCacheEntry refuses with the service's write-denied message. */
  writeDenied?: boolean
}

export interface CacheServiceV2 {
  /** `ACTIONS_RESULTS_URL`, with its trailing slash. */
  url: string
  token: string
  azurite: Azurite
  entries: () => CacheEntryV2[]
  /** Blob names and sizes as Azurite holds them. */
  blobs: () => Promise<{ name: string; size: number }[]>
  requests: { method: string; status: number }[]
  options: CacheServiceV2Options
  /** What a runner sets for an action when the service is v2. */
  env: () => Record<string, string>
  close: () => Promise<void>
}

async function readJson(
  req: IncomingMessage
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString()
  return text ? (JSON.parse(text) as Record<string, unknown>) : {}
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res
    .writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text)
    })
    .end(text)
}

/** A proto3 JSON field under either its proto name or its JSON name. */
function field(body: Record<string, unknown>, name: string): unknown {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
  return body[name] ?? body[camel]
}

/** Starts Azurite and the Twirp service in front of it, both on loopback. */
export async function startCacheServiceV2(
  options: CacheServiceV2Options = {}
): Promise<CacheServiceV2> {
  const azurite = await startAzurite()
  const entries: CacheEntryV2[] = []
  const requests: CacheServiceV2['requests'] = []
  const token = runtimeToken()
  let nextId = 1

  const signedUrl = (blob: string, permissions: string): string => {
    const sas = generateBlobSASQueryParameters(
      {
        containerName: CONTAINER,
        blobName: blob,
        permissions: BlobSASPermissions.parse(permissions),
        protocol: SASProtocol.HttpsAndHttp,
        expiresOn: new Date(Date.now() + 3600_000)
      },
      azurite.credential
    ).toString()
    return `${azurite.accountUrl}/${CONTAINER}/${blob}?${sas}`
  }

  // The service's matching rule, as in v1: the key exactly, then each key
  // as a prefix, newest first; the version must match.
  const lookup = (
    keys: string[],
    version: string
  ): CacheEntryV2 | undefined => {
    const ready = entries
      .filter((e) => e.committed && e.version === version)
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
    for (const key of keys) {
      const found =
        ready.find((e) => e.key === key) ??
        ready.find((e) => e.key.startsWith(key))
      if (found) return found
    }
    return undefined
  }

  const methods: Record<
    string,
    (body: Record<string, unknown>) => Promise<unknown>
  > = {
    CreateCacheEntry: async (body) => {
      const key = String(field(body, 'key') ?? '')
      const version = String(field(body, 'version') ?? '')
      if (options.writeDenied) return { ok: false, message: WRITE_DENIED }
      if (!key || !version)
        return { ok: false, message: 'key and version are required' }
      if (entries.some((e) => e.key === key && e.version === version)) {
        return { ok: false, message: `cache entry ${key} already exists` }
      }
      const id = nextId++
      const blob = `${id}-${key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 200)}`
      entries.push({
        id,
        key,
        version,
        blob,
        size: 0,
        committed: false,
        createdAt: Date.now()
      })
      return { ok: true, signed_upload_url: signedUrl(blob, 'cw') }
    },
    FinalizeCacheEntryUpload: async (body) => {
      const key = String(field(body, 'key') ?? '')
      const version = String(field(body, 'version') ?? '')
      const entry = entries.find(
        (e) => e.key === key && e.version === version && !e.committed
      )
      if (!entry) return { ok: false, message: `no upload of ${key} to finish` }
      const size = Number(field(body, 'size_bytes'))
      const properties = await azurite.container
        .getBlobClient(entry.blob)
        .getProperties()
        .catch(() => undefined)
      if (!properties || properties.contentLength !== size) {
        return {
          ok: false,
          message: `size ${size} does not match the uploaded ${String(properties?.contentLength)}`
        }
      }
      entry.size = size
      entry.committed = true
      entry.createdAt = Date.now()
      // proto3 JSON writes int64 as a string; BuildKit's client reads it so.
      return { ok: true, entry_id: String(entry.id) }
    },
    GetCacheEntryDownloadURL: async (body) => {
      const key = String(field(body, 'key') ?? '')
      const restoreKeys = (field(body, 'restore_keys') as string[]) ?? []
      const found = lookup(
        [key, ...restoreKeys].filter(Boolean),
        String(field(body, 'version') ?? '')
      )
      if (!found) return { ok: false }
      return {
        ok: true,
        signed_download_url: signedUrl(found.blob, 'r'),
        matched_key: found.key
      }
    }
  }

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse
  ): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (options.down) {
      return send(res, 503, { code: 'unavailable', msg: 'cache service down' })
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      return send(res, 401, { code: 'unauthenticated', msg: 'bad token' })
    }
    const method = methods[path.slice(SERVICE.length)]
    if (req.method !== 'POST' || !path.startsWith(SERVICE) || !method) {
      return send(res, 404, { code: 'bad_route', msg: `no route ${path}` })
    }
    send(res, 200, await method(await readJson(req)))
  }

  const server: Server = createServer((req, res) => {
    res.on('finish', () =>
      requests.push({
        method: (req.url ?? '').split('/').pop() ?? '',
        status: res.statusCode
      })
    )
    handle(req, res).catch((error: unknown) =>
      send(res, 500, { code: 'internal', msg: String(error) })
    )
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

  return {
    url,
    token,
    azurite,
    entries: () => [...entries],
    blobs: async () => {
      const found: { name: string; size: number }[] = []
      for await (const blob of azurite.container.listBlobsFlat()) {
        found.push({
          name: blob.name,
          size: blob.properties.contentLength ?? 0
        })
      }
      return found
    },
    requests,
    options,
    env: () => ({
      ACTIONS_CACHE_SERVICE_V2: 'True',
      ACTIONS_RESULTS_URL: url,
      ACTIONS_RUNTIME_TOKEN: token,
      // A runner on the v2 service no longer sends the v1 URL.
      ACTIONS_CACHE_URL: ''
    }),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
      await azurite.close()
    }
  }
}
