import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  isBuildStep,
  JsonObjectStream,
  parseRawJson,
  ProgressTracker
} from '../../src/docker/rawjson-progress.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

const b64 = (text: string): string => Buffer.from(text).toString('base64')

describe('JsonObjectStream', () => {
  it('splits pretty-printed objects fed in arbitrary chunks, braces in strings included', () => {
    const objects: unknown[] = []
    const text: string[] = []
    const stream = new JsonObjectStream(
      (o) => objects.push(o),
      (t) => text.push(t)
    )
    const input = '{\n  "a": "x{y}\\"z"\n}\n{"b": {"c": [1, 2]}}\nERROR: boom\n'
    for (const char of input) stream.push(char)
    stream.end()
    expect(objects).toEqual([{ a: 'x{y}"z' }, { b: { c: [1, 2] } }])
    expect(text).toEqual(['ERROR: boom'])
  })
})

describe('isBuildStep', () => {
  it('keeps Dockerfile steps and drops internal vertexes and FROM', () => {
    expect(isBuildStep('[app 3/4] COPY app/ /srv/app/')).toBe(true)
    expect(isBuildStep('[2/5] RUN make')).toBe(true)
    expect(isBuildStep('[internal] load build context')).toBe(false)
    expect(isBuildStep('[base 1/3] FROM localhost:5000/debian:bookworm')).toBe(
      false
    )
    expect(isBuildStep('exporting to image')).toBe(false)
  })
})

describe('ProgressTracker', () => {
  it('merges repeated vertexes by digest and reassembles log lines across chunks', () => {
    const lines: string[] = []
    const tracker = new ProgressTracker((v, line) =>
      lines.push(`${v.index}:${line}`)
    )
    tracker.apply({ vertexes: [{ digest: 'a', name: '[s 1/2] RUN one' }] })
    tracker.apply({
      vertexes: [
        {
          digest: 'a',
          name: '[s 1/2] RUN one',
          started: '2024-01-01T00:00:00Z'
        }
      ],
      logs: [{ vertex: 'a', data: b64('hel') }]
    })
    tracker.apply({
      vertexes: [
        {
          digest: 'a',
          started: '2024-01-01T00:00:00Z',
          completed: '2024-01-01T00:00:02.5Z'
        },
        { digest: 'b', name: '[s 2/2] RUN two', cached: true }
      ],
      logs: [{ vertex: 'a', data: b64('lo\nworld\n') }]
    })
    const report = tracker.report(['s'])
    expect(lines).toEqual(['1:hello', '1:world'])
    expect(report.totalSteps).toBe(2)
    expect(report.cachedSteps).toBe(1)
    expect(report.hitRatio).toBe(0.5)
    expect(report.firstMiss?.name).toBe('[s 1/2] RUN one')
    expect(report.steps[0].durationSeconds).toBe(2.5)
  })

  it('orders steps as the Dockerfile declares its stages', () => {
    const tracker = new ProgressTracker()
    tracker.apply({
      vertexes: [
        {
          digest: '1',
          name: '[app 2/2] COPY app/ /srv/',
          completed: '2024-01-01T00:00:01Z'
        },
        { digest: '2', name: '[deps 2/2] RUN install', cached: true },
        { digest: '3', name: '[app 1/2] WORKDIR /srv', cached: true }
      ]
    })
    const report = tracker.report(['deps', 'app'])
    expect(report.steps.map((s) => s.name)).toEqual([
      '[deps 2/2] RUN install',
      '[app 1/2] WORKDIR /srv',
      '[app 2/2] COPY app/ /srv/'
    ])
    expect(report.firstMiss?.name).toBe('[app 2/2] COPY app/ /srv/')
  })
})

describe('parseRawJson on real buildx 0.13 output', () => {
  it('finds the failing step, its log and buildx error line', () => {
    const { tracker, text } = parseRawJson(fixture('rawjson-failed.txt'))
    const report = tracker.report(['base', 'final'])
    expect(report.failed?.name).toBe('[final 2/2] RUN echo building; exit 3')
    expect(report.failed?.error).toContain('exit code: 3')
    expect(report.failed?.logTail).toContain('building')
    expect(text.some((t) => t.startsWith('ERROR: failed to solve'))).toBe(true)
  })

  it('reports a rerun of a built stage as fully cached', () => {
    const { tracker } = parseRawJson(fixture('rawjson-cached.txt'))
    const report = tracker.report(['base', 'final'])
    expect(report.totalSteps).toBe(1)
    expect(report.cachedSteps).toBe(1)
    expect(report.firstMiss).toBeUndefined()
  })
})

describe('cacheExportError', () => {
  const reportOf = (name: string) =>
    parseRawJson(fixture(name)).tracker.report()

  it('is the error BuildKit leaves on the cache exporter when ignore-error=true let the build succeed (buildx 0.29)', () => {
    // --cache-to type=registry,ref=127.0.0.1:5999/nope:cache,ignore-error=true
    // with nothing listening there; the image was pushed and buildx exited 0.
    const report = reportOf('rawjson-cache-export-ignored.txt')
    expect(report.cacheExportError).toMatch(
      /^error writing layer blob: .*127\.0\.0\.1:5999.*connection refused$/
    )
  })

  it('is found past an earlier cache import error, and only on a cache exporter', () => {
    const tracker = new ProgressTracker()
    const at = '2026-12-02T02:29:54Z'
    tracker.apply({
      vertexes: [
        {
          digest: 'sha256:import',
          name: 'importing cache manifest from gha:123',
          started: at,
          completed: at,
          error: 'cache service unavailable'
        },
        {
          digest: 'sha256:export',
          name: 'exporting to GitHub Actions Cache',
          started: at,
          completed: at,
          error: 'cache service unavailable (export)'
        }
      ]
    })
    expect(tracker.report().cacheExportError).toBe(
      'cache service unavailable (export)'
    )
    expect(reportOf('rawjson-failed.txt').cacheExportError).toBeUndefined()
    expect(reportOf('rawjson-cached.txt').cacheExportError).toBeUndefined()
  })
})
