import { createHash } from 'node:crypto'
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse
} from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A thin loopback proxy in front of the test registry that plays ECR's tag
 * immutability: on a repository marked IMMUTABLE, a manifest PUT to a tag
 * that already names another manifest is refused with the error ECR returns
 * (ImageTagAlreadyExistsException, surfaced by Docker and BuildKit as
 * "tag invalid: The image tag '<tag>' already exists in the '<repository>'
 * repository and cannot be overwritten because the repository is
 * immutable."; moby/buildkit#3776, aws/containers-roadmap#862). A push of
 * the same manifest to the same tag is accepted, as ECR accepts it.
 * Everything else passes through unchanged, Host header included, so the
 * registry's upload URLs point back at the proxy.
 */
export interface ImmutableRegistry {
  /** `127.0.0.1:<port>`: Docker reaches loopback registries over plain HTTP. */
  host: string
  /** Repositories (paths) whose tags are immutable. */
  immutable: Set<string>
  /** Refused pushes, in order. */
  refusals: { repository: string; tag: string }[]
  close: () => Promise<void>
}

/** ECR's message for an overwrite of an immutable tag. */
export function immutableTagMessage(repository: string, tag: string): string {
  return `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

export async function startImmutableRegistry(
  upstream = '127.0.0.1:5000',
  immutable: string[] = []
): Promise<ImmutableRegistry> {
  const [upstreamHost, upstreamPort] = upstream.split(':')
  const state: ImmutableRegistry = {
    host: '',
    immutable: new Set(immutable),
    refusals: [],
    close: async () => undefined
  }

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body?: Buffer
  ): void => {
    const upstreamReq = request(
      {
        host: upstreamHost,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: req.headers
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers)
        upstreamRes.pipe(res)
      }
    )
    upstreamReq.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
    if (body) upstreamReq.end(body)
    else req.pipe(upstreamReq)
  }

  /** The digest the tag names upstream now, if it exists. */
  const currentDigest = (
    req: IncomingMessage,
    path: string
  ): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const head = request(
        {
          host: upstreamHost,
          port: Number(upstreamPort),
          method: 'HEAD',
          path,
          headers: {
            accept: req.headers['content-type'] ?? '*/*',
            authorization: req.headers.authorization ?? ''
          }
        },
        (res) => {
          res.resume()
          resolve(
            res.statusCode === 200
              ? String(res.headers['docker-content-digest'] ?? '')
              : undefined
          )
        }
      )
      head.on('error', reject)
      head.end()
    })

  const server: Server = createServer((req, res) => {
    const match = /^\/v2\/(.+)\/manifests\/([^/?]+)$/.exec(
      (req.url ?? '').split('?')[0]
    )
    const [, repository, reference] = match ?? []
    if (
      req.method !== 'PUT' ||
      !match ||
      reference.startsWith('sha256:') ||
      !state.immutable.has(repository)
    ) {
      forward(req, res)
      return
    }
    void (async () => {
      const body = await readBody(req)
      const pushed = `sha256:${createHash('sha256').update(body).digest('hex')}`
      const existing = await currentDigest(req, req.url ?? '')
      if (existing && existing !== pushed) {
        state.refusals.push({ repository, tag: reference })
        const text = JSON.stringify({
          errors: [
            {
              code: 'TAG_INVALID',
              message: immutableTagMessage(repository, reference)
            }
          ]
        })
        res
          .writeHead(400, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(text)
          })
          .end(text)
        return
      }
      forward(req, res, body)
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  state.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((done) => server.close(() => done()))
  }
  return state
}
