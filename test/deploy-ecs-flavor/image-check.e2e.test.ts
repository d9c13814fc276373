import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  buildBundles,
  deployIn,
  flavorResults,
  startFlavorWorld,
  type FlavorWorld
} from '../support/flavor-world.js'
import { pushTinyImage } from '../support/registry-images.js'
import { messages } from '../support/runner-harness.js'

/**
 * Issue #16 item 4 through the built deploy-ecs-flavor bundle: the image is
 * looked up in ECR (the real @aws-sdk/client-ecr through
 * AWS_ENDPOINT_URL_ECR, answered by the simulator's ECR stand-in from the
 * loopback registry's manifests) before any task definition is registered.
 */
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const REPOSITORY = `ert-image-check-${process.pid}/monolith`
const WRITES = ['RegisterTaskDefinition', 'UpdateService', 'RunTask']

let world: FlavorWorld
let digest = ''

beforeAll(async () => {
  buildBundles('deploy-ecs-flavor')
  digest = (await pushTinyImage(REPOSITORY, { tag: 'v1' })).digest
  world = await startFlavorWorld({ speed: 60 })
}, 300_000)

afterAll(async () => {
  await world?.close()
})

function operations(): string[] {
  return world.sim.requestLog.map((r) => r.operation)
}

/** Each deploy starts from the same steady world: the log is what this deploy asked. */
async function deploy(
  image: string,
  inputs: Record<string, string> = {}
): ReturnType<typeof deployIn> {
  world.sim.clearRequestLog()
  return deployIn(world, { image, flavors: 'web,api', ...inputs })
}

describe('deploy-ecs-flavor looks the image up in ECR before any write', () => {
  it('a tag that is not in the repository fails naming repository and tag; nothing is registered or updated', async () => {
    const result = await deploy(`${ECR}/${REPOSITORY}:no-such-tag`)
    expect(result.exitCode).toBe(1)
    const [error] = messages(result, 'error')
    expect(error).toContain(
      `is not in ECR: repository ${REPOSITORY} (registry 123456789012, us-east-1) has no tag no-such-tag (BatchGetImage: ImageNotFound: Requested image not found)`
    )
    expect(operations()).toContain('ecr:BatchGetImage')
    expect(operations().filter((o) => WRITES.includes(o))).toEqual([])
    expect(flavorResults(result.outputs.flavors)).toEqual({
      web: 'skipped',
      api: 'skipped'
    })
    expect(result.summary).toContain('No service was changed.')
    expect(result.summary).toContain('Not deployed: web, api.')
    expect(world.revisionOf('web')).toBe('monolith-web:1')
    expect(world.revisionOf('api')).toBe('monolith-api:1')
    // The post step has nothing to report: no flavor was started.
    expect(result.state.flavors ?? '').toBe('')
  }, 60_000)

  it('a digest that is not in the repository fails the same way, before any write', async () => {
    const missing = `sha256:${'e'.repeat(64)}`
    const result = await deploy(`${ECR}/${REPOSITORY}@${missing}`)
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toContain(
      `repository ${REPOSITORY} (registry 123456789012, us-east-1) has no digest ${missing}`
    )
    expect(operations().filter((o) => WRITES.includes(o))).toEqual([])
    expect(world.revisionOf('web')).toBe('monolith-web:1')
  }, 60_000)

  it('a repository that does not exist names the repository', async () => {
    const result = await deploy(`${ECR}/ert-no-such-repository:v1`)
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toContain(
      "ECR BatchGetImage failed: RepositoryNotFoundException: The repository with name 'ert-no-such-repository' does not exist"
    )
    expect(operations().filter((o) => WRITES.includes(o))).toEqual([])
  }, 60_000)

  it('AccessDenied on the lookup names the missing permission ecr:BatchGetImage and changes nothing', async () => {
    world.sim.setFaults({
      failNext: [{ operation: 'ecr:BatchGetImage', error: 'access-denied' }]
    })
    const result = await deploy(`${ECR}/${REPOSITORY}:v1`)
    world.sim.setFaults({})
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toContain(
      'ECR BatchGetImage was refused (AccessDeniedException: '
    )
    expect(messages(result, 'error')[0]).toContain(
      'the role lacks permission ecr:BatchGetImage. Not retried.'
    )
    expect(
      world.sim.requestLog
        .filter((r) => r.operation === 'ecr:BatchGetImage')
        .map((r) => r.errorCode)
    ).toEqual(['AccessDeniedException'])
    expect(operations().filter((o) => WRITES.includes(o))).toEqual([])
    expect(world.revisionOf('web')).toBe('monolith-web:1')
  }, 60_000)

  it('verify-image: false skips the lookup and deploys what it is given', async () => {
    const image = `${ECR}/${REPOSITORY}:not-pushed`
    const result = await deploy(image, {
      'verify-image': 'false',
      flavors: 'web'
    })
    expect(messages(result, 'error')).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(operations()).not.toContain('ecr:BatchGetImage')
    expect(result.stdout).toContain('verify-image: false')
    expect(flavorResults(result.outputs.flavors)).toEqual({ web: 'success' })
    expect(world.revisionOf('web')).toBe('monolith-web:2')
  }, 60_000)

  it('an image that is there, by tag and by digest, passes the lookup and deploys', async () => {
    const byTag = await deploy(`${ECR}/${REPOSITORY}:v1`, { flavors: 'api' })
    expect(messages(byTag, 'error')).toEqual([])
    expect(byTag.exitCode).toBe(0)
    expect(byTag.stdout).toContain(
      `is in ECR repository ${REPOSITORY} (${digest})`
    )
    expect(operations().indexOf('ecr:BatchGetImage')).toBeLessThan(
      operations().indexOf('RegisterTaskDefinition')
    )
    expect(world.revisionOf('api')).toBe('monolith-api:2')
    const byDigest = await deploy(`${ECR}/${REPOSITORY}@${digest}`, {
      flavors: 'api'
    })
    expect(byDigest.exitCode).toBe(0)
    expect(flavorResults(byDigest.outputs.flavors)).toEqual({ api: 'success' })
    expect(world.revisionOf('api')).toBe('monolith-api:3')
  }, 90_000)

  it('an image in another registry is not looked up, and a notice says so', async () => {
    const result = await deploy(`registry.local/monolith:2.0`, {
      flavors: 'worker'
    })
    expect(result.exitCode).toBe(0)
    expect(operations()).not.toContain('ecr:BatchGetImage')
    expect(messages(result, 'notice').join('\n')).toContain(
      'registry.local/monolith:2.0 is not in a private ECR registry'
    )
  }, 60_000)

  it('a bad verify-image value is refused naming the input, before any call', async () => {
    const result = await deploy(`${ECR}/${REPOSITORY}:v1`, {
      'verify-image': 'maybe'
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toContain(
      'Input "verify-image" has "maybe", which is not a boolean'
    )
    expect(operations()).toEqual([])
  }, 60_000)
})
