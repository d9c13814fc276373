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
  if (request.noCache) args.push('--no-cache')
  if (request.pull) args.push('--pull')
  if (request.metadataFile) args.push('--metadata-file', request.metadataFile)
  if (request.push) args.push('--push')
  if (request.load && builder.driver !== 'docker') args.push('--load')
  args.push(request.context)
  return args
}

/**
 * A second, output-less pass that only writes the layer cache. It runs after
 * the real build on the same builder, so every step is a local hit and the
 * pass costs the export alone; a failure there cannot fail the build, and it
 * is skipped when every step was already cached.
 */
export function cacheExportArgs(
  request: BuildRequest,
  builder: BuilderInfo
): string[] {
  return buildxArgs(
    {
      ...request,
      tags: [],
      push: false,
      load: false,
      // cache-from stays: steps that were hits on the remote cache were
      // never pulled, and without it this pass would rebuild them.
      metadataFile: undefined
    },
    builder
  )
    .filter((a) => a !== request.context)
    .concat(['--output', 'type=cacheonly', request.context])
}
