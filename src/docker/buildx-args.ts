import type { BuilderInfo } from './builder-info.js'

/** Everything a `docker buildx build` call is made of. */
export interface BuildRequest {
  context: string
  file: string
  target?: string
  tags: string[]
  /** `NAME=value` entries. */
  buildArgs: string[]
  /** `--secret` specs (`id=x,src=path` / `id=x,env=VAR`). */
  secrets: string[]
  platforms: string[]
  push: boolean
  load: boolean
  labels: string[]
  network?: string
  builder?: string
  metadataFile?: string
  cacheFrom: string[]
  cacheTo: string[]
  noCache?: boolean
  pull?: boolean
  /** Layer compression of the image; gzip when absent. */
  compression?: LayerCompression
  /**
   * Attestations: `--provenance` value (`false`, `mode=min`, `mode=max`)
   * and `--sbom`; absent means no flag (buildx's defaults).
   */
  provenance?: string
  sbom?: boolean
  /**
   * `oci-artifact=` of the image exporter: false keeps attestations in the
   * image index form ECR accepts (BuildKit 0.32 defaults to OCI artifacts
   * with a subject, which ECR has answered with 405). Absent: not set.
   */
  ociArtifact?: boolean
}

/** The `compression` input. */
export type LayerCompression = 'zstd' | 'gzip'
export const COMPRESSIONS: readonly LayerCompression[] = ['zstd', 'gzip']

/**
 * Whether the builder can write zstd layers into the image it exports: the
 * classic docker image store only takes gzip.
 */
export function canWriteZstd(builder: BuilderInfo): boolean {
  return builder.driver !== 'docker' || builder.containerdStore
}

/**
 * The export flags. zstd needs an explicit image exporter; layers already
 * compressed (the base image's) are kept as they are, so only the layers this
 * build made are zstd. A push with --load on a container builder keeps the
 * plain flags, because two exporters need a newer BuildKit than runners have.
 */
function outputArgs(request: BuildRequest, builder: BuilderInfo): string[] {
  const zstd =
    request.compression === 'zstd' &&
    canWriteZstd(builder) &&
    (builder.driver === 'docker' || (request.push && !request.load))
  if (zstd) {
    const type =
      builder.driver === 'docker'
        ? `type=image,push=${request.push}`
        : 'type=registry'
    const artifact =
      request.ociArtifact === undefined
        ? ''
        : `,oci-artifact=${request.ociArtifact}`
    return [
      '--output',
      `${type},compression=zstd,oci-mediatypes=true${artifact}`
    ]
  }
  const args: string[] = []
  if (request.push) args.push('--push')
  if (request.load && builder.driver !== 'docker') args.push('--load')
  return args
}

/**
 * Arguments of the build itself. Progress is rawjson so the action can
 * count cached steps; the docker driver always stores the image in the
 * engine, so `--load` is only passed where it means a copy.
 */
export function buildxArgs(
  request: BuildRequest,
  builder: BuilderInfo
): string[] {
  const args = ['buildx', 'build', '--progress=rawjson']
  if (request.builder) args.push('--builder', request.builder)
  args.push('--file', request.file)
  if (request.target) args.push('--target', request.target)
  for (const tag of request.tags) args.push('--tag', tag)
  for (const arg of request.buildArgs) args.push('--build-arg', arg)
  for (const secret of request.secrets) args.push('--secret', secret)
  for (const label of request.labels) args.push('--label', label)
  if (request.platforms.length)
    args.push('--platform', request.platforms.join(','))
  if (request.network) args.push('--network', request.network)
  for (const from of request.cacheFrom) args.push('--cache-from', from)
  for (const to of request.cacheTo) args.push('--cache-to', to)
  if (request.provenance !== undefined)
    args.push(`--provenance=${request.provenance}`)
  if (request.sbom !== undefined) args.push(`--sbom=${request.sbom}`)
  if (request.noCache) args.push('--no-cache')
  if (request.pull) args.push('--pull')
  if (request.metadataFile) args.push('--metadata-file', request.metadataFile)
  args.push(...outputArgs(request, builder))
  args.push(request.context)
  return args
}
