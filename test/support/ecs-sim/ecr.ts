/**
 * Amazon ECR's image lookups (BatchGetImage, DescribeImages) answered from
 * the loopback registry's real manifests: ECR repository `name` is
 * `<registry>/name`, read over the plain-HTTP Registry API v2. Shapes and
 * error codes follow the ECR API reference; the texts of failureReason and
 * of the exceptions are the simulator's own where the reference gives none.
 */
import { EcsApiError } from './errors.js'

/** Every ECR request names its operation in X-Amz-Target after this prefix. */
export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.'

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

interface ImageId {
  imageDigest?: string
  imageTag?: string
}

interface Manifest {
  digest: string
  mediaType: string
  text: string
  size: number
}

/** Where the ECR stand-in reads, and the registry id it answers as. */
export interface EcrContext {
  /** `localhost:5000`: host and port of the plain-HTTP registry. */
  registry: string
  accountId: string
}

async function registryGet(
  ctx: EcrContext,
  path: string,
  accept?: string
): Promise<Response> {
  try {
    return await fetch(`http://${ctx.registry}/v2/${path}`, {
      headers: accept ? { accept } : {}
    })
  } catch (error) {
    throw new EcsApiError(
      'ServerException',
      `ECR stand-in: the registry ${ctx.registry} did not answer (${String(error)})`,
      500
    )
  }
}

async function manifestOf(
  ctx: EcrContext,
  repository: string,
  reference: string
): Promise<Manifest | undefined> {
  const res = await registryGet(
    ctx,
    `${repository}/manifests/${reference}`,
    ACCEPT
  )
  const text = await res.text()
  if (res.status === 404) return undefined
  if (!res.ok) {
    throw new EcsApiError(
      'ServerException',
      `ECR stand-in: the registry answered ${res.status} for ${repository}:${reference}`,
      500
    )
  }
  return {
    digest: res.headers.get('docker-content-digest') ?? '',
    mediaType: res.headers.get('content-type') ?? '',
    text,
    size: Buffer.byteLength(text)
  }
}

async function checkRepository(
  ctx: EcrContext,
  repository: string
): Promise<void> {
  const res = await registryGet(ctx, `${repository}/tags/list`)
  await res.text()
  if (res.status === 404) {
    throw new EcsApiError(
      'RepositoryNotFoundException',
      `The repository with name '${repository}' does not exist in the registry with id '${ctx.accountId}'`
    )
  }
}

function repositoryName(input: Record<string, unknown>): string {
  const name = input.repositoryName
  if (typeof name !== 'string' || name === '') {
    throw new EcsApiError(
      'InvalidParameterException',
      'repositoryName must be specified.'
    )
  }
  return name
}

function imageIdsOf(input: Record<string, unknown>): ImageId[] {
  const ids = input.imageIds
  if (!Array.isArray(ids) || ids.length === 0) {
    throw new EcsApiError(
      'InvalidParameterException',
      'imageIds must contain between 1 and 100 items.'
    )
  }
  return ids as ImageId[]
}

async function batchGetImage(
  ctx: EcrContext,
  input: Record<string, unknown>
): Promise<Record<string, unknown>> {
  const repository = repositoryName(input)
  const registryId = (input.registryId as string | undefined) ?? ctx.accountId
  const images: Record<string, unknown>[] = []
  const failures: Record<string, unknown>[] = []
  for (const id of imageIdsOf(input)) {
    const reference = id.imageDigest ?? id.imageTag
    if (!reference) {
      failures.push({
        imageId: id,
        failureCode: 'MissingDigestAndTag',
        failureReason:
          'Invalid request parameters: both tag and digest cannot be null'
      })
      continue
    }
    const found = await manifestOf(ctx, repository, reference)
    if (!found) {
      await checkRepository(ctx, repository)
      failures.push({
        imageId: id,
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found'
      })
      continue
    }
    if (id.imageDigest && id.imageTag) {
      const tagged = await manifestOf(ctx, repository, id.imageTag)
      if (tagged?.digest !== found.digest) {
        failures.push({
          imageId: id,
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason:
            'Invalid request parameters: given tag does not match the digest'
        })
        continue
      }
    }
    images.push({
      registryId,
      repositoryName: repository,
      imageId: {
        imageDigest: found.digest,
        ...(id.imageTag && { imageTag: id.imageTag })
      },
      imageManifest: found.text,
      imageManifestMediaType: found.mediaType
    })
  }
  return { images, failures }
}

async function describeImages(
  ctx: EcrContext,
  input: Record<string, unknown>,
  now: number
): Promise<Record<string, unknown>> {
  const repository = repositoryName(input)
  const registryId = (input.registryId as string | undefined) ?? ctx.accountId
  await checkRepository(ctx, repository)
  const imageDetails: Record<string, unknown>[] = []
  for (const id of imageIdsOf(input)) {
    const reference = id.imageDigest ?? id.imageTag ?? ''
    const found = reference
      ? await manifestOf(ctx, repository, reference)
      : undefined
    if (!found) {
      throw new EcsApiError(
        'ImageNotFoundException',
        `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repository}' in the registry with id '${registryId}'`
      )
    }
    imageDetails.push({
      registryId,
      repositoryName: repository,
      imageDigest: found.digest,
      ...(id.imageTag && { imageTags: [id.imageTag] }),
      imageSizeInBytes: found.size,
      // The registry keeps no push time; the simulated now stands in.
      imagePushedAt: now / 1000,
      imageManifestMediaType: found.mediaType
    })
  }
  return { imageDetails }
}

/** The ECR operations the stand-in answers, by `ecr:`-prefixed name. */
export const ecrOperations: Record<
  string,
  (
    ctx: EcrContext,
    input: Record<string, unknown>,
    now: number
  ) => Promise<Record<string, unknown>>
> = {
  'ecr:BatchGetImage': (ctx, input) => batchGetImage(ctx, input),
  'ecr:DescribeImages': describeImages
}
