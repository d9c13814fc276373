/** Whether the image to deploy is in its ECR repository, asked before any write so a missing image never reaches UpdateService. */
import { BatchGetImageCommand, ECRClient } from '@aws-sdk/client-ecr'
import { awsClientConfig, nameAwsCalls } from '../common/aws-calls.js'
import { formatImageReference, type ImageReference } from './image-reference.js'

/** A private ECR repository, as its registry host and path name it. */
export interface EcrRepository {
  /** The account id of the registry (`registryId` in ECR's API). */
  registryId: string
  region: string
  /** `team/monolith`: the path after the host. */
  repositoryName: string
}

/** What the check found; `missing` stops the deploy before any write. */
export type ImageCheck =
  | { status: 'found'; digest?: string; message: string }
  | { status: 'skipped'; message: string }
  | { status: 'missing'; message: string }

/** The client the check needs: one call, any object that can send it. */
export interface EcrSender {
  send(command: BatchGetImageCommand): Promise<{
    images?: { imageId?: { imageDigest?: string; imageTag?: string } }[]
    failures?: {
      imageId?: { imageDigest?: string; imageTag?: string }
      failureCode?: string
      failureReason?: string
    }[]
  }>
}

// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], and the dual-stack
// <account>.dkr-ecr.<region>.on.aws.
const ECR_HOST =
  /^(\d{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr\.([a-z0-9-]+)\.on\.aws)$/

// Every manifest kind a pushed image can have, so ECR never refuses the
// lookup of an existing image for its media type.
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json'
]

/** The ECR repository an image lives in; undefined for any other registry. */
export function ecrRepositoryOf(
  ref: ImageReference
): EcrRepository | undefined {
  const match = ref.host ? ECR_HOST.exec(ref.host) : null
  if (!match) return undefined
  return {
    registryId: match[1],
    region: match[2] ?? match[3],
    repositoryName: ref.path
  }
}

/** The ECR client of the check. The SDK reads `AWS_ENDPOINT_URL_ECR` itself; errors name their call. */
export function createEcrClient(
  region: string,
  callTimeoutSeconds?: number
): ECRClient {
  return nameAwsCalls(
    new ECRClient(awsClientConfig(region, callTimeoutSeconds)),
    { label: 'ECR', iamPrefix: 'ecr' }
  )
}

/**
 * Asks ECR (BatchGetImage, the call a pull makes) whether the image's
 * digest, else its tag, is in its repository. A digest is what ECS pulls
 * when the reference has one, so with both the digest is checked. Errors
 * (AccessDenied naming ecr:BatchGetImage, a missing repository) propagate.
 */
export async function checkEcrImage(
  ref: ImageReference,
  repository: EcrRepository,
  ecr: EcrSender
): Promise<ImageCheck> {
  const image = formatImageReference(ref)
  const imageId = ref.digest
    ? { imageDigest: ref.digest }
    : { imageTag: ref.tag ?? 'latest' }
  const wanted = ref.digest
    ? `digest ${ref.digest}`
    : `tag ${imageId.imageTag}${ref.tag ? '' : ' (implicit: the reference has neither tag nor digest)'}`
  const out = await ecr.send(
    new BatchGetImageCommand({
      registryId: repository.registryId,
      repositoryName: repository.repositoryName,
      imageIds: [imageId],
      acceptedMediaTypes: MANIFEST_TYPES
    })
  )
  const found = out.images?.[0]
  if (found) {
    const digest = found.imageId?.imageDigest
    return {
      status: 'found',
      ...(digest && { digest }),
      message: `The image ${image} is in ECR repository ${repository.repositoryName}${digest && !ref.digest ? ` (${digest})` : ''}.`
    }
  }
  const failure = out.failures?.[0]
  const why = failure
    ? `${failure.failureCode ?? 'failure'}: ${failure.failureReason ?? 'no reason given'}`
    : 'ECR returned neither the image nor a failure'
  return {
    status: 'missing',
    message: `The image ${image} is not in ECR: repository ${repository.repositoryName} (registry ${repository.registryId}, ${repository.region}) has no ${wanted} (BatchGetImage: ${why}). Nothing was registered or updated; push the image first, or check the image input.`
  }
}

/**
 * The check as the deploy runs it: ECR images are looked up; with
 * `verify` false, or for an image in another registry (which this action
 * cannot ask without that registry's credentials), the check is skipped and
 * the message says so.
 */
export async function verifyImage(
  ref: ImageReference,
  verify: boolean,
  ecrFor: (region: string) => EcrSender
): Promise<ImageCheck> {
  const image = formatImageReference(ref)
  if (!verify) {
    return {
      status: 'skipped',
      message: `verify-image: false: ${image} was not looked up before the deploy; a missing image shows only when ECS fails to pull it.`
    }
  }
  const repository = ecrRepositoryOf(ref)
  if (!repository) {
    return {
      status: 'skipped',
      message: `${image} is not in a private ECR registry (<account>.dkr.ecr.<region>.amazonaws.com), so its existence was not checked before the deploy; set verify-image: false to say that is intended.`
    }
  }
  return checkEcrImage(ref, repository, ecrFor(repository.region))
}
