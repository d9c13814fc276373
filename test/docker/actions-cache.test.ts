import { describe, expect, it } from '@jest/globals'
import {
  actionsCacheService,
  ghaServiceAttrs,
  type ActionsCacheService
} from '../../src/docker/actions-cache.js'
import {
  cacheExporters,
  parseBuildxInspect,
  speaksCacheV2,
  type BuilderInfo
} from '../../src/docker/builder-info.js'
import { planCache, type CachePlanInput } from '../../src/docker/cache-plan.js'
import { parseImageName } from '../../src/docker/image-reference.js'
import { decideCacheWrite } from '../../src/github/event-trust.js'

const runnerV2 = {
  ACTIONS_CACHE_SERVICE_V2: 'True',
  ACTIONS_RESULTS_URL: 'https://results.example/',
  ACTIONS_RUNTIME_TOKEN: 'a.b.c'
}

describe('Actions cache service detection', () => {
  it('a github.com runner on v2 uses ACTIONS_RESULTS_URL, even with no ACTIONS_CACHE_URL', () => {
    const { service } = actionsCacheService(runnerV2)
    expect(service).toMatchObject({
      protocol: 'v2',
      url: 'https://results.example/',
      access: { read: true, write: true }
    })
    expect(ghaServiceAttrs(service as ActionsCacheService)).toBe(
      'type=gha,url_v2=https://results.example/,token=a.b.c'
    )
  })

  it('GHES speaks v1 through ACTIONS_CACHE_URL even when the v2 flag is set', () => {
    const { service } = actionsCacheService({
      ...runnerV2,
      GITHUB_SERVER_URL: 'https://git.corp.example',
      ACTIONS_CACHE_URL: 'https://ghes.example/cache/'
    })
    expect(service?.protocol).toBe('v1')
    expect(ghaServiceAttrs(service as ActionsCacheService)).toBe(
      'type=gha,url=https://ghes.example/cache/,token=a.b.c'
    )
  })

  it('names what is missing for the protocol the runner asked for', () => {
    expect(
      actionsCacheService({ ...runnerV2, ACTIONS_RESULTS_URL: '' }).missing
    ).toBe('ACTIONS_RESULTS_URL (cache service v2) not set')
    // A v1-only URL does not make a v2 runner's cache reachable.
    expect(
      actionsCacheService({
        ACTIONS_CACHE_SERVICE_V2: 'True',
        ACTIONS_CACHE_URL: 'https://x/',
        ACTIONS_RUNTIME_TOKEN: 't'
      }).missing
    ).toMatch(/ACTIONS_RESULTS_URL/)
    expect(
      actionsCacheService({ ACTIONS_CACHE_URL: 'https://x/' }).missing
    ).toBe('ACTIONS_RUNTIME_TOKEN not set')
  })

  it.each([
    [
      'read',
      true,
      false,
      /ACTIONS_CACHE_MODE is "read", which allows no writes/
    ],
    ['none', false, false, /allows no reads and writes/],
    ['write-only', false, true, /allows no reads/],
    ['write', true, true, /^$/],
    ['something-new', true, true, /^$/]
  ])('ACTIONS_CACHE_MODE=%s', (mode, read, write, reason) => {
    const access = actionsCacheService({
      ...runnerV2,
      ACTIONS_CACHE_MODE: mode
    }).service?.access
    expect(access).toMatchObject({ read, write })
    expect(access?.reason).toMatch(reason)
  })
})

describe('BuildKit versions and cache service v2', () => {
  it('reads the BuildKit version, ignoring distribution builds that report none', () => {
    expect(
      parseBuildxInspect(
        'Name: b\nDriver: docker-container\n BuildKit version: v0.19.3\n'
      ).buildkit
    ).toEqual([0, 19])
    expect(
      parseBuildxInspect(
        'Name: default\nDriver: docker\nBuildKit version: v0.0.0+unknown\n'
      ).buildkit
    ).toBeUndefined()
  })

  it('falls back to the engine version for the docker driver', () => {
    const base: BuilderInfo = {
      name: 'd',
      driver: 'docker',
      containerdStore: true
    }
    expect(speaksCacheV2({ ...base, buildkit: [0, 19] })).toBe(false)
    expect(speaksCacheV2({ ...base, buildkit: [0, 20] })).toBe(true)
    expect(speaksCacheV2({ ...base, engineMajor: 26 })).toBe(false)
    expect(speaksCacheV2({ ...base, engineMajor: 28 })).toBe(true)
    expect(speaksCacheV2({ ...base, driver: 'remote' })).toBe(true)
  })
})

const image = parseImageName('image', 'localhost:5000/team/monolith')
const v2 = actionsCacheService(runnerV2).service as ActionsCacheService

function input(overrides: Partial<CachePlanInput>): CachePlanInput {
  return {
    choice: 'gha',
    image,
    branch: 'main',
    fallbackBranches: [],
    exporters: cacheExporters({
      name: 'default',
      driver: 'docker',
      containerdStore: true
    }),
    registry: 'writable',
    gha: v2,
    localDir: '/cache',
    ...overrides
  }
}

describe('the layer cache plan on cache service v2', () => {
  it('gha goes through url_v2', () => {
    const plan = planCache(input({}))
    expect(plan.cacheTo).toEqual([
      'type=gha,url_v2=https://results.example/,token=a.b.c,scope=team-monolith-main,mode=max'
    ])
  })

  it('a builder too old for v2 gets no gha cache, and a warning that says why', () => {
    const plan = planCache(input({ ghaV2: false }))
    expect(plan.backend).toBe('local')
    expect(plan.warnings.join()).toMatch(
      /predates the Actions cache service v2/
    )
  })

  it('a read-only Actions cache is read, not written, with a warning naming ACTIONS_CACHE_MODE', () => {
    const gha = actionsCacheService({
      ...runnerV2,
      ACTIONS_CACHE_MODE: 'read'
    }).service
    const plan = planCache(input({ gha }))
    expect(plan.backend).toBe('gha')
    expect(plan.cacheFrom).toHaveLength(1)
    expect(plan.cacheTo).toEqual([])
    expect(plan.warnings.join()).toMatch(
      /read only for this run \(ACTIONS_CACHE_MODE is "read"/
    )
  })

  it('without a service the reason names the missing variable', () => {
    const plan = planCache(
      input({
        gha: undefined,
        ghaMissing: 'ACTIONS_RESULTS_URL (cache service v2) not set'
      })
    )
    expect(plan.warnings.join()).toMatch(
      /ACTIONS_RESULTS_URL \(cache service v2\) not set/
    )
  })

  it.each(['auto', 'registry', 'gha', 'local'] as const)(
    'cache writes off (%s): the cache is read from the same names and never written',
    (choice) => {
      const writing = planCache(input({ choice }))
      const plan = planCache(input({ choice, write: false }))
      expect(plan.backend).toBe(writing.backend)
      expect(plan.cacheFrom).toEqual(writing.cacheFrom)
      expect(writing.cacheTo.length).toBe(1)
      expect(plan.cacheTo).toEqual([])
    }
  )

  it('cache writes off on the classic store: no inline cache either', () => {
    const plan = planCache(
      input({
        choice: 'auto',
        write: false,
        exporters: cacheExporters({
          name: 'd',
          driver: 'docker',
          containerdStore: false
        })
      })
    )
    expect(plan.backend).toBe('inline')
    expect(plan.cacheTo).toEqual([])
  })
})

describe('who may write shared caches (input cache-write)', () => {
  const repo = { full_name: 'acme/monolith', default_branch: 'main' }
  const pr = (headRepo: string | null) => ({
    repository: repo,
    pull_request: {
      number: 42,
      base: { ref: 'release/1.0' },
      head: { ref: 'main', repo: headRepo ? { full_name: headRepo } : null }
    }
  })

  it.each([
    ['push', {}, 'main', true],
    ['workflow_dispatch', {}, 'release/1.0', true],
    ['schedule', {}, 'main', true],
    ['merge_group', {}, 'gh-readonly-queue/main/pr-1', true]
  ])('%s writes under its own ref', (eventName, payload, refName, write) => {
    const decision = decideCacheWrite({
      setting: 'auto',
      eventName,
      payload: { repository: repo, ...payload },
      refName
    })
    expect(decision.write).toBe(write)
    expect(decision.cacheBranch).toBe(refName)
  })

  it.each([
    ['pull_request_target', pr('evil/monolith'), /anyone can name/],
    ['pull_request', pr('evil/monolith'), /from a fork/],
    ['pull_request', pr(null), /from a fork/],
    ['pull_request', pr('acme/monolith'), /not reviewed yet/],
    ['pull_request_review', pr('evil/monolith'), /from a fork/]
  ])(
    '%s reads the base branch caches and writes none',
    (eventName, payload, why) => {
      const decision = decideCacheWrite({
        setting: 'auto',
        eventName,
        payload,
        // What the runner sets for these events: the merge ref, base ref.
        refName: '42/merge',
        baseRef: 'release/1.0'
      })
      expect(decision).toMatchObject({
        write: false,
        cacheBranch: 'release/1.0',
        pullRequest: 42
      })
      expect(decision.reason).toMatch(why)
    }
  )

  it.each(['issue_comment', 'workflow_run', 'discussion', ''])(
    '%s (or an unknown event) writes nothing',
    (eventName) => {
      const decision = decideCacheWrite({
        setting: 'auto',
        eventName,
        payload: { repository: repo },
        refName: 'main'
      })
      expect(decision.write).toBe(false)
      expect(decision.cacheBranch).toBe('main')
    }
  )

  it('true and false override the rule; the names still come from the base branch', () => {
    const opened = decideCacheWrite({
      setting: 'true',
      eventName: 'pull_request_target',
      payload: pr('evil/monolith'),
      refName: 'main',
      baseRef: 'release/1.0'
    })
    expect(opened).toMatchObject({ write: true, cacheBranch: 'release/1.0' })
    expect(
      decideCacheWrite({
        setting: 'false',
        eventName: 'push',
        payload: {},
        refName: 'main'
      })
    ).toMatchObject({ write: false, reason: 'input "cache-write" is false' })
  })
})
