import { createHash } from 'node:crypto'
import { REGISTRY } from './docker-env.js'

/**
 * Puts a tiny image (one config blob, no layers) into the loopback registry
 * through the Registry HTTP API v2, so the ECR stand-in has a real manifest
 * to find without a Docker build. The same `label` gives the same digest.
 */
export interface PushedImage {
  /** `sha256:…` of the manifest, as the registry (and so ECR) reports it. */
  digest: string
  repository: string
  tag?: string
}

const sha256 = (body: Buffer): string =>
  `sha256:${createHash('sha256').update(body).digest('hex')}`

async function put(
  url: URL | string,
  body: Buffer,
  type: string
): Promise<Response> {
  const res = await fetch(url, {
    method: 'PUT',
    body,
    headers: { 'content-type': type }
  })
  if (!res.ok) {
    throw new Error(
      `registry ${REGISTRY} refused PUT ${String(url)}: ${res.status} ${await res.text()}`
    )
  }
  await res.arrayBuffer()
  return res
}

/** Pushes `repository[:tag]` (a repository path in the registry, no host) and returns its digest. */
export async function pushTinyImage(
  repository: string,
  options: { tag?: string; label?: string } = {}
): Promise<PushedImage> {
  const base = `http://${REGISTRY}/v2/${repository}`
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { 'ert.test-image': options.label ?? repository } }
    })
  )
  let start: Response
  try {
    start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' })
  } catch (error) {
    throw new Error(
      `The loopback registry ${REGISTRY} does not answer (start it with bash scripts/test-env.sh up): ${String(error)}`
    )
  }
  await start.arrayBuffer()
  const location = start.headers.get('location')
  if (start.status !== 202 || !location) {
    throw new Error(`registry ${REGISTRY} refused an upload: ${start.status}`)
  }
  const upload = new URL(location, `http://${REGISTRY}`)
  upload.searchParams.set('digest', sha256(config))
  await put(upload, config, 'application/octet-stream')
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length
      },
      layers: []
    })
  )
  const digest = sha256(manifest)
  await put(
    `${base}/manifests/${options.tag ?? digest}`,
    manifest,
    'application/vnd.oci.image.manifest.v1+json'
  )
  return { digest, repository, ...(options.tag && { tag: options.tag }) }
}
