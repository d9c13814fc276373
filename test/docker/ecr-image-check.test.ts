import { beforeEach, describe, expect, it } from '@jest/globals'
import { BatchGetImageCommand, ECRClient } from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import {
  checkEcrImage,
  ecrRepositoryOf,
  verifyImage
} from '../../src/docker/ecr-image-check.js'
import { parseImageReference } from '../../src/docker/image-reference.js'

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const DIGEST = `sha256:${'a'.repeat(64)}`
const ecrMock = mockClient(ECRClient)
const ref = (text: string): ReturnType<typeof parseImageReference> =>
  parseImageReference('image', text)

beforeEach(() => {
  ecrMock.reset()
})

describe('ecrRepositoryOf', () => {
  it.each([
    [`${ECR}/team/monolith:v1`, '123456789012', 'eu-west-1', 'team/monolith'],
    [
      '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app@' + DIGEST,
      '123456789012',
      'us-east-1',
      'app'
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1',
      '123456789012',
      'cn-north-1',
      'app'
    ],
    [
      '123456789012.dkr-ecr.eu-west-1.on.aws/app:v1',
      '123456789012',
      'eu-west-1',
      'app'
    ]
  ])('%s is in ECR', (image, registryId, region, repositoryName) => {
    expect(ecrRepositoryOf(ref(image))).toEqual({
      registryId,
      region,
      repositoryName
    })
  })

  it.each([
    'monolith:v1',
    'localhost:5000/monolith:v1',
    'ghcr.io/acme/monolith:v1',
    'public.ecr.aws/acme/monolith:v1',
    '12345.dkr.ecr.eu-west-1.amazonaws.com/app:v1',
    '123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example/app:v1'
  ])('%s is not a private ECR repository', (image) => {
    expect(ecrRepositoryOf(ref(image))).toBeUndefined()
  })
})

describe('checkEcrImage', () => {
  const repository = {
    registryId: '123456789012',
    region: 'eu-west-1',
    repositoryName: 'team/monolith'
  }
  const ecr = (): ECRClient => new ECRClient({ region: 'eu-west-1' })

  it('asks by digest when there is one (what ECS pulls), in the right registry', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST } }],
      failures: []
    })
    const check = await checkEcrImage(
      ref(`${ECR}/team/monolith:v1@${DIGEST}`),
      repository,
      ecr()
    )
    expect(check.status).toBe('found')
    const [call] = ecrMock.commandCalls(BatchGetImageCommand)
    expect(call.args[0].input).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'team/monolith',
      imageIds: [{ imageDigest: DIGEST }]
    })
  })

  it('asks by tag otherwise and reports the digest the tag names', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST, imageTag: 'v1' } }]
    })
    const check = await checkEcrImage(
      ref(`${ECR}/team/monolith:v1`),
      repository,
      ecr()
    )
    expect(check).toEqual({
      status: 'found',
      digest: DIGEST,
      message: `The image ${ECR}/team/monolith:v1 is in ECR repository team/monolith (${DIGEST}).`
    })
    expect(
      ecrMock.commandCalls(BatchGetImageCommand)[0].args[0].input.imageIds
    ).toEqual([{ imageTag: 'v1' }])
  })

  it('a failure names repository, registry, region, tag and ECR failure code', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [
        {
          imageId: { imageTag: 'v9' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found'
        }
      ]
    })
    const check = await checkEcrImage(
      ref(`${ECR}/team/monolith:v9`),
      repository,
      ecr()
    )
    expect(check.status).toBe('missing')
    expect(check.message).toBe(
      `The image ${ECR}/team/monolith:v9 is not in ECR: repository team/monolith (registry 123456789012, eu-west-1) has no tag v9 (BatchGetImage: ImageNotFound: Requested image not found). Nothing was registered or updated; push the image first, or check the image input.`
    )
  })

  it('an untagged reference is looked up as ECS pulls it, :latest, and says so', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({ images: [], failures: [] })
    const check = await checkEcrImage(
      ref(`${ECR}/team/monolith`),
      repository,
      ecr()
    )
    expect(check.status).toBe('missing')
    expect(check.message).toContain(
      'has no tag latest (implicit: the reference has neither tag nor digest) (BatchGetImage: ECR returned neither the image nor a failure)'
    )
  })

  it('an AWS error propagates for the one error path', async () => {
    ecrMock
      .on(BatchGetImageCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }))
    await expect(
      checkEcrImage(ref(`${ECR}/team/monolith:v1`), repository, ecr())
    ).rejects.toThrow('denied')
  })
})

describe('verifyImage', () => {
  const never = (): never => {
    throw new Error('no ECR call expected')
  }

  it('verify false: no call, and the message names the input', async () => {
    const check = await verifyImage(ref(`${ECR}/app:v1`), false, never)
    expect(check.status).toBe('skipped')
    expect(check.message).toContain('verify-image: false')
  })

  it('another registry: no call, and the message says why and how to silence it', async () => {
    const check = await verifyImage(ref('ghcr.io/acme/app:v1'), true, never)
    expect(check).toEqual({
      status: 'skipped',
      message:
        'ghcr.io/acme/app:v1 is not in a private ECR registry (<account>.dkr.ecr.<region>.amazonaws.com), so its existence was not checked before the deploy; set verify-image: false to say that is intended.'
    })
  })

  it('an ECR image is looked up with the client of its region', async () => {
    ecrMock.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST } }]
    })
    const regions: string[] = []
    const check = await verifyImage(ref(`${ECR}/app@${DIGEST}`), true, (r) => {
      regions.push(r)
      return new ECRClient({ region: r })
    })
    expect(check.status).toBe('found')
    expect(regions).toEqual(['eu-west-1'])
  })
})
