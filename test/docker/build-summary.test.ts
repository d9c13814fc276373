import { describe, expect, it } from '@jest/globals'
import {
  redactCacheSpec,
  renderSummary,
  type BuildSummary
} from '../../src/docker/build-summary.js'

const summary: BuildSummary = {
  image: 'localhost:5000/monolith@sha256:abc',
  digest: 'sha256:abc',
  tags: ['localhost:5000/monolith:main'],
  durationSeconds: 75,
  backend: 'gha',
  cacheFrom: [
    'type=gha,url=http://127.0.0.1:1/,token=secret.jwt.value,scope=monolith-main'
  ],
  cacheExport: 'written',
  report: {
    steps: [
      {
        name: '[deps 2/2] RUN apt-get install | tee',
        cached: true,
        logTail: []
      },
      {
        name: '[app 2/2] COPY app/ /srv/',
        cached: false,
        durationSeconds: 1.25,
        logTail: []
      }
    ],
    totalSteps: 2,
    cachedSteps: 1,
    hitRatio: 0.5,
    firstMiss: { name: '[app 2/2] COPY app/ /srv/', cached: false, logTail: [] }
  },
  mounts: [
    {
      ids: ['apt'],
      key: 'buildkit-mounts-x-1',
      files: ['requirements.apt'],
      restore: 'restored buildkit-mounts-x-0',
      save: 'saved'
    },
    {
      ids: ['npm'],
      key: 'buildkit-mounts-y-1',
      files: ['package.json', 'package-lock.json'],
      restore: 'skipped: manifests unchanged',
      save: 'skipped: the cache already has this key'
    }
  ],
  packages: {
    compareTo: 'localhost:5000/monolith:prod',
    changes: [
      {
        kind: 'os',
        name: 'libpq5',
        change: 'changed',
        before: '9.1',
        after: '9.6'
      }
    ],
    blocked: []
  },
  warnings: ['registry down']
}
summary.packages!.blocked.push(summary.packages!.changes[0])

describe('renderSummary', () => {
  const text = renderSummary(summary)
  it('shows the totals, the first miss and every step', () => {
    expect(text).toContain('| 1/2 (50%) |')
    expect(text).toContain('1m15s')
    expect(text).toContain(
      'First step that missed the cache: `[app 2/2] COPY app/ /srv/`'
    )
    expect(text).toContain(
      '| 1 | [deps 2/2] RUN apt-get install \\| tee | CACHED |  |'
    )
    expect(text).toContain('| 2 | [app 2/2] COPY app/ /srv/ | ran | 1.3s |')
  })
  it('shows cache mounts, package changes and warnings', () => {
    expect(text).toContain(
      '| apt | buildkit-mounts-x-1 | restored buildkit-mounts-x-0 | saved | `requirements.apt` |'
    )
    expect(text).toContain(
      '| npm | buildkit-mounts-y-1 | skipped: manifests unchanged | skipped: the cache already has this key | `package.json`, `package-lock.json` |'
    )
    expect(text).toContain('| os | libpq5 | changed | 9.1 | 9.6 | yes |')
    expect(text).toContain('> registry down')
  })
  it('never shows a cache token', () => {
    expect(text).not.toContain('secret.jwt.value')
    expect(redactCacheSpec('type=gha,token=abc,scope=x')).toBe(
      'type=gha,token=***,scope=x'
    )
  })
  it('says so when every step was cached', () => {
    const all = renderSummary({
      ...summary,
      report: { ...summary.report, firstMiss: undefined },
      packages: undefined,
      mounts: undefined
    })
    expect(all).toContain('Every step was cached.')
    expect(all).not.toContain('Package changes')
  })
})
