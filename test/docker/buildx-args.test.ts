import { describe, expect, it } from '@jest/globals'
import { buildxArgs, type BuildRequest } from '../../src/docker/buildx-args.js'
import {
  cacheExporters,
  parseBuildxInspect,
  usesContainerdStore,
  type BuilderInfo
} from '../../src/docker/builder-info.js'
import { planCache, type CachePlanInput } from '../../src/docker/cache-plan.js'
import { parseImageName } from '../../src/docker/image-reference.js'

const image = parseImageName('image', 'localhost:5000/team/monolith')
const classic: BuilderInfo = {
  name: 'default',
  driver: 'docker',
  containerdStore: false
}
const containerd: BuilderInfo = {
  name: 'default',
  driver: 'docker',
  containerdStore: true
}
const container: BuilderInfo = {
  name: 'ci',
  driver: 'docker-container',
  containerdStore: false
}

function input(overrides: Partial<CachePlanInput>): CachePlanInput {
  return {
    choice: 'auto',
    image,
    branch: 'feature/Login',
    fallbackBranches: ['release/2024.06', 'main'],
    exporters: cacheExporters(containerd),
    registry: 'writable',
    gha: {
      protocol: 'v1',
      url: 'http://127.0.0.1:1/',
      token: 'a.b.c',
      access: { read: true, write: true, reason: '' }
    },
    localDir: '/cache',
    ...overrides
  }
}

describe('builder detection parsing', () => {
  it('reads the driver and the containerd store', () => {
    expect(
      parseBuildxInspect('Name:          default\nDriver:        docker\n')
    ).toEqual({
      name: 'default',
      driver: 'docker'
    })
    expect(
      usesContainerdStore('[["driver-type","io.containerd.snapshotter.v1"]]')
    ).toBe(true)
    expect(usesContainerdStore('[["Backing Filesystem","extfs"]]')).toBe(false)
    expect(usesContainerdStore('not json')).toBe(false)
  })

  it('gives the classic docker driver inline only', () => {
    expect([...cacheExporters(classic)]).toEqual(['inline'])
    expect(cacheExporters(containerd).has('registry')).toBe(true)
    expect(cacheExporters(container).has('gha')).toBe(true)
  })
})

describe('planCache', () => {
  it('auto picks a writable registry: mode=max, ECR-friendly manifest, branch fallback chain', () => {
    const plan = planCache(input({}))
    expect(plan.backend).toBe('registry')
    expect(plan.cacheTo).toEqual([
      'type=registry,ref=localhost:5000/team/monolith:buildcache-feature-login,mode=max,image-manifest=true,oci-mediatypes=true'
    ])
    expect(plan.cacheFrom).toEqual([
      'type=registry,ref=localhost:5000/team/monolith:buildcache-feature-login',
      'type=registry,ref=localhost:5000/team/monolith:buildcache-release-2024.06',
      'type=registry,ref=localhost:5000/team/monolith:buildcache-main'
    ])
    expect(plan.warnings).toEqual([])
  })

  it('auto falls back to gha when the registry is read-only, with per-branch scopes', () => {
    const plan = planCache(input({ registry: 'read-only' }))
    expect(plan.backend).toBe('gha')
    expect(plan.cacheTo).toEqual([
      'type=gha,url=http://127.0.0.1:1/,token=a.b.c,scope=team-monolith-feature-login,mode=max'
    ])
    expect(plan.cacheFrom[2]).toContain('scope=team-monolith-main')
    expect(plan.warnings).toEqual([])
  })

  it('an unreachable registry is a warning, never a failure', () => {
    const plan = planCache(
      input({ choice: 'registry', registry: 'unreachable', gha: undefined })
    )
    expect(plan.backend).toBe('local')
    expect(plan.warnings.join('\n')).toMatch(/unreachable/)
  })

  it('on the classic docker driver an unreachable registry leaves no cache, and both are said', () => {
    const plan = planCache(
      input({ exporters: cacheExporters(classic), registry: 'unreachable' })
    )
    expect(plan.backend).toBe('none')
    expect(plan.cacheFrom).toEqual([])
    expect(plan.warnings).toEqual(
      expect.arrayContaining([
        'registry localhost:5000 is unreachable; building without its cache',
        'no cache backend is usable; building without a layer cache'
      ])
    )
  })

  it('an explicit registry that refuses pushes is read without being written', () => {
    const plan = planCache(input({ choice: 'registry', registry: 'read-only' }))
    expect(plan.backend).toBe('registry')
    expect(plan.cacheTo).toEqual([])
    expect(plan.warnings.join()).toMatch(/refuses pushes/)
  })

  it('never asks the classic docker driver for a registry or gha exporter', () => {
    for (const choice of ['auto', 'registry', 'gha', 'local'] as const) {
      const plan = planCache(
        input({ choice, exporters: cacheExporters(classic) })
      )
      expect(plan.cacheTo.every((spec) => spec === 'type=inline')).toBe(true)
    }
    expect(
      planCache(
        input({ choice: 'gha', exporters: cacheExporters(classic) })
      ).warnings.join()
    ).toMatch(/cannot export a gha cache/)
  })

  it('zstd is asked of every cache exporter but inline', () => {
    for (const choice of ['registry', 'gha', 'local'] as const) {
      const plan = planCache(input({ choice, compression: 'zstd' }))
      expect(plan.cacheTo).toHaveLength(1)
      expect(plan.cacheTo[0]).toMatch(/,compression=zstd$/)
      expect(plan.cacheFrom.join()).not.toContain('compression')
    }
    expect(
      planCache(input({ choice: 'registry', compression: 'gzip' })).cacheTo[0]
    ).not.toContain('compression')
    const inline = planCache(
      input({ exporters: cacheExporters(classic), compression: 'zstd' })
    )
    expect(inline.cacheTo).toEqual(['type=inline'])
  })

  it('none means no cache at all', () => {
    expect(planCache(input({ choice: 'none' }))).toMatchObject({
      backend: 'none',
      cacheFrom: [],
      cacheTo: []
    })
  })
})

describe('buildxArgs', () => {
  const request: BuildRequest = {
    context: '/w/ctx',
    file: '/w/ctx/Dockerfile',
    target: 'app',
    tags: ['localhost:5000/team/monolith:abc'],
    buildArgs: ['PROFILE=light'],
    secrets: ['id=ca,src=/etc/ssl/certs/ca-certificates.crt'],
    platforms: ['linux/amd64'],
    push: true,
    load: true,
    labels: ['org.opencontainers.image.revision=abc'],
    network: 'host',
    metadataFile: '/tmp/m.json',
    cacheFrom: ['type=registry,ref=r:buildcache-main'],
    cacheTo: []
  }

  it('builds with rawjson progress, the context last, and no --load on the docker driver', () => {
    const args = buildxArgs(request, containerd)
    expect(args.slice(0, 3)).toEqual(['buildx', 'build', '--progress=rawjson'])
    expect(args.at(-1)).toBe('/w/ctx')
    expect(args).toContain('--push')
    expect(args).not.toContain('--load')
    expect(args.join(' ')).toContain(
      '--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt'
    )
    expect(args.join(' ')).toContain('--metadata-file /tmp/m.json')
    expect(buildxArgs(request, container)).toContain('--load')
  })

  it('zstd layers go through an explicit image exporter that still pushes', () => {
    const zstd = { ...request, compression: 'zstd' as const }
    const onDocker = buildxArgs(zstd, containerd).join(' ')
    expect(onDocker).toContain(
      '--output type=image,push=true,compression=zstd,oci-mediatypes=true'
    )
    expect(onDocker).not.toContain('--push')
    expect(
      buildxArgs({ ...zstd, push: false }, containerd).join(' ')
    ).toContain('--output type=image,push=false,compression=zstd')
    // A push without --load on a container builder goes to the registry.
    expect(buildxArgs({ ...zstd, load: false }, container).join(' ')).toContain(
      '--output type=registry,compression=zstd,oci-mediatypes=true'
    )
    // Two exporters (push and load) or the classic store: plain gzip flags.
    const both = buildxArgs(zstd, container)
    expect(both).toEqual(expect.arrayContaining(['--push', '--load']))
    expect(both.join(' ')).not.toContain('compression')
    const classicArgs = buildxArgs(zstd, classic)
    expect(classicArgs).toContain('--push')
    expect(classicArgs.join(' ')).not.toContain('compression')
  })
})
