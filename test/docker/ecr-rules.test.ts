import { describe, expect, it } from '@jest/globals'
import { buildxArgs, type BuildRequest } from '../../src/docker/buildx-args.js'
import {
  cacheExporters,
  storesAttestations,
  type BuilderInfo
} from '../../src/docker/builder-info.js'
import { planCache } from '../../src/docker/cache-plan.js'
import {
  cacheTagHint,
  imageTagHint,
  immutableTagRefusal,
  refusedTagPut
} from '../../src/docker/ecr-rules.js'
import { parseImageName } from '../../src/docker/image-reference.js'

const containerd: BuilderInfo = {
  name: 'default',
  driver: 'docker',
  containerdStore: true
}

describe('ECR immutable tags', () => {
  // As BuildKit prints ECR's ImageTagAlreadyExistsException on a push.
  const output =
    "ERROR: failed to build: failed to solve: failed to push 1234.dkr.ecr.eu-west-1.amazonaws.com/monolith:main: tag invalid: The image tag 'main' already exists in the 'monolith' repository and cannot be overwritten because the repository is immutable."

  it('finds the refusal and keeps ECR’s sentence', () => {
    expect(immutableTagRefusal(output)).toEqual({
      tag: 'main',
      repository: 'monolith',
      message:
        "The image tag 'main' already exists in the 'monolith' repository and cannot be overwritten because the repository is immutable."
    })
    expect(immutableTagRefusal('ERROR: 500 Internal Server Error')).toBe(
      undefined
    )
  })

  it('a 400 to a cache tag’s manifest PUT (all BuildKit’s cache exporter shows) is read as that refusal', () => {
    const refusal = refusedTagPut(
      'error writing manifest blob: failed commit on ref "sha256:4d80": unexpected status from PUT request to https://1234.dkr.ecr.eu-west-1.amazonaws.com/v2/team/monolith/manifests/buildcache-main: 400 Bad Request'
    )
    expect(refusal).toMatchObject({
      repository: 'team/monolith',
      tag: 'buildcache-main'
    })
    expect(refusal?.message).toContain(
      "The image tag 'buildcache-main' already exists in the 'team/monolith' repository"
    )
    expect(
      refusedTagPut(
        'PUT request to http://r/v2/m/manifests/x: 500 Internal Server Error'
      )
    ).toBeUndefined()
  })

  it('hints name the input that fixes each case', () => {
    const refusal = immutableTagRefusal(output)!
    expect(imageTagHint(refusal)).toMatch(
      /Set input "tags" to tags that never repeat/
    )
    expect(cacheTagHint({ ...refusal, tag: 'buildcache-main' })).toMatch(
      /Set input "cache-repository" to a repository with MUTABLE tags \(e\.g\. monolith-cache\)/
    )
  })

  it('a cache repository takes the registry cache tags; the image repository keeps only image tags', () => {
    const plan = planCache({
      choice: 'registry',
      image: parseImageName(
        'image',
        '1234.dkr.ecr.eu-west-1.amazonaws.com/monolith'
      ),
      cacheImage: parseImageName(
        'cache-repository',
        '1234.dkr.ecr.eu-west-1.amazonaws.com/monolith-cache'
      ),
      branch: 'main',
      fallbackBranches: [],
      exporters: cacheExporters(containerd),
      registry: 'writable',
      localDir: '/c'
    })
    expect(plan.cacheFrom).toEqual([
      'type=registry,ref=1234.dkr.ecr.eu-west-1.amazonaws.com/monolith-cache:buildcache-main'
    ])
    expect(plan.cacheTo[0]).toMatch(
      /^type=registry,ref=1234\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/monolith-cache:buildcache-main,/
    )
  })
})

describe('attestations', () => {
  const request: BuildRequest = {
    context: '/w',
    file: '/w/Dockerfile',
    tags: ['r/m:1'],
    buildArgs: [],
    secrets: [],
    platforms: [],
    push: true,
    load: false,
    labels: [],
    cacheFrom: [],
    cacheTo: [],
    compression: 'zstd',
    provenance: 'mode=min',
    sbom: false,
    ociArtifact: false
  }

  it('provenance and sbom as asked, attestations kept out of the OCI artifact form', () => {
    const args = buildxArgs(request, containerd).join(' ')
    expect(args).toContain('--provenance=mode=min')
    expect(args).toContain('--sbom=false')
    expect(args).toContain(
      '--output type=image,push=true,compression=zstd,oci-mediatypes=true,oci-artifact=false'
    )
    expect(
      buildxArgs({ ...request, ociArtifact: true }, containerd).join(' ')
    ).toContain('oci-artifact=true')
    expect(
      buildxArgs({ ...request, ociArtifact: undefined }, containerd).join(' ')
    ).not.toContain('oci-artifact')
  })

  it('the classic image store keeps none', () => {
    expect(storesAttestations({ ...containerd, containerdStore: false })).toBe(
      false
    )
    expect(storesAttestations(containerd)).toBe(true)
    expect(
      storesAttestations({
        name: 'c',
        driver: 'docker-container',
        containerdStore: false
      })
    ).toBe(true)
  })
})
