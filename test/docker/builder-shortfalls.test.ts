import { describe, expect, it } from '@jest/globals'
import {
  builderShortfalls,
  CLASSIC_STORE_REMEDY,
  describeShortfalls
} from '../../src/docker/builder-shortfalls.js'
import { renderSummary } from '../../src/docker/build-summary.js'

const classic = { name: 'default', driver: 'docker', containerdStore: false }

describe('builderShortfalls', () => {
  it('on the classic store names the lost layer cache and zstd, and the containerd store as the way back', () => {
    const shortfalls = builderShortfalls(classic, {
      cache: 'auto',
      compression: 'zstd'
    })
    expect(shortfalls?.items).toEqual([
      {
        wanted: 'a mode=max layer cache of every stage (registry or gha)',
        instead:
          'the inline cache: only the final stage, read back from the pushed image'
      },
      { wanted: 'zstd layers', instead: 'gzip layers' }
    ])
    expect(shortfalls?.remedy).toBe(CLASSIC_STORE_REMEDY)
    expect(shortfalls?.remedy).toContain(
      '{"features":{"containerd-snapshotter":true}}'
    )
    expect(shortfalls?.remedy).toContain('docker/setup-buildx-action')
  })

  it('names the backend the user asked for', () => {
    expect(
      builderShortfalls(classic, { cache: 'gha', compression: 'gzip' })?.items
    ).toEqual([
      {
        wanted: 'the gha layer cache of every stage (mode=max)',
        instead:
          'the inline cache: only the final stage, read back from the pushed image'
      }
    ])
  })

  it('reports nothing when nothing asked for is lost', () => {
    expect(
      builderShortfalls(classic, { cache: 'none', compression: 'gzip' })
    ).toBeUndefined()
  })

  it.each([
    { name: 'default', driver: 'docker', containerdStore: true },
    { name: 'ci', driver: 'docker-container', containerdStore: false }
  ])('reports nothing for a builder that can do it all (%j)', (builder) => {
    expect(
      builderShortfalls(builder, { cache: 'auto', compression: 'zstd' })
    ).toBeUndefined()
  })

  it('says it in one warning line and in a summary section', () => {
    const shortfalls = builderShortfalls(classic, {
      cache: 'registry',
      compression: 'zstd'
    })
    if (!shortfalls) throw new Error('expected shortfalls')
    expect(describeShortfalls(shortfalls)).toMatch(
      /^The docker driver on the classic image store cannot give the registry layer cache of every stage \(mode=max\) \(got the inline cache: .*\); zstd layers \(got gzip layers\)\. To get it back, add docker\/setup-buildx-action before this step, /
    )
    const markdown = renderSummary({
      image: 'r/app:main',
      tags: ['r/app:main'],
      durationSeconds: 1,
      backend: 'inline',
      cacheFrom: [],
      cacheExport: 'written',
      report: { steps: [], totalSteps: 0, cachedSteps: 0, hitRatio: 0 },
      warnings: [],
      shortfalls
    })
    expect(markdown).toContain('### Given up on this Docker set-up')
    expect(markdown).toContain('| zstd layers | gzip layers |')
    expect(markdown).toContain(`To get it back, ${CLASSIC_STORE_REMEDY}.`)
  })
})
