import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as cache from '@actions/cache'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startCacheServiceV2,
  WRITE_DENIED,
  type CacheServiceV2
} from './cache-service-v2.js'

// The real @actions/cache on its v2 path (ACTIONS_CACHE_SERVICE_V2 and
// ACTIONS_RESULTS_URL, as runners set them), against the Twirp stand-in and
// a real Azurite: nothing in the library is mocked.
let service: CacheServiceV2
let work: string
const startDir = process.cwd()
const saved: Record<string, string | undefined> = {}

function setEnv(values: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in saved)) saved[key] = process.env[key]
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
}

/** What the library printed as workflow commands while `body` ran. */
async function captureStdout(body: () => Promise<unknown>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout)
  let text = ''
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    text += chunk.toString()
    return true
  }) as typeof process.stdout.write
  try {
    await body()
  } finally {
    process.stdout.write = write
  }
  return text
}

beforeAll(async () => {
  service = await startCacheServiceV2()
  setEnv({ ...service.env(), ACTIONS_CACHE_MODE: undefined })
  work = await mkdtemp(join(tmpdir(), 'ert-cache-v2-test-'))
  process.chdir(work)
}, 60_000)

afterAll(async () => {
  process.chdir(startDir)
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  await service?.close()
  await rm(work, { recursive: true, force: true })
})

async function writeTree(dir: string, marker: string): Promise<void> {
  await mkdir(join(dir, 'nested'), { recursive: true })
  await writeFile(join(dir, 'a.txt'), `a-${marker}`)
  await writeFile(
    join(dir, 'nested', 'b.bin'),
    Buffer.alloc(3 * 1024 * 1024, marker)
  )
}

describe('local Actions cache service v2 (Twirp + Azurite)', () => {
  it('is what @actions/cache picks when the runner says v2', () => {
    expect(cache.isFeatureAvailable()).toBe(true)
  })

  it('round-trips a directory, the bytes stored as a blob in Azurite', async () => {
    const dir = join(work, 'pip-cache')
    await writeTree(dir, 'x')
    const id = await cache.saveCache([dir], 'pip-linux-abc123')
    expect(id).toBeGreaterThan(0)
    const [entry] = service.entries()
    expect(entry).toMatchObject({ key: 'pip-linux-abc123', committed: true })
    const blobs = await service.blobs()
    expect(blobs).toEqual([{ name: entry.blob, size: entry.size }])
    expect(entry.size).toBeGreaterThan(0)
    expect(service.requests.map((r) => r.method)).toEqual([
      'CreateCacheEntry',
      'FinalizeCacheEntryUpload'
    ])

    await rm(dir, { recursive: true, force: true })
    expect(await cache.restoreCache([dir], 'pip-linux-abc123')).toBe(
      'pip-linux-abc123'
    )
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a-x')
    expect((await readFile(join(dir, 'nested', 'b.bin'))).length).toBe(
      3 * 1024 * 1024
    )
  }, 60_000)

  it('falls back to the newest entry matching a restore key', async () => {
    const dir = join(work, 'npm-cache')
    await writeTree(dir, 'old')
    await cache.saveCache([dir], 'npm-linux-1111')
    await writeTree(dir, 'new')
    await cache.saveCache([dir], 'npm-linux-2222')
    await rm(dir, { recursive: true, force: true })
    expect(
      await cache.restoreCache([dir], 'npm-linux-9999', ['npm-linux-'])
    ).toBe('npm-linux-2222')
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a-new')
    expect(
      await cache.restoreCache([join(work, 'none')], 'apt-1', ['apt-'])
    ).toBeUndefined()
  }, 60_000)

  it('refuses a second entry under the same key and version', async () => {
    const before = service.entries().length
    expect(
      await cache.saveCache([join(work, 'pip-cache')], 'pip-linux-abc123')
    ).toBe(-1)
    expect(service.entries().length).toBe(before)
  }, 60_000)

  it('a write-denied token reaches @actions/cache as CacheWriteDeniedError, a warning', async () => {
    service.options.writeDenied = true
    try {
      const dir = join(work, 'denied')
      await writeTree(dir, 'd')
      let id = 0
      const out = await captureStdout(async () => {
        id = await cache.saveCache([dir], 'denied-1')
      })
      expect(id).toBe(-1)
      expect(out).toMatch(
        new RegExp(
          `::warning::Failed to save: Unable to reserve cache with key denied-1. More details: ${WRITE_DENIED}`
        )
      )
    } finally {
      service.options.writeDenied = false
    }
  }, 60_000)

  it('ACTIONS_CACHE_MODE=read: restores, never calls the service to save', async () => {
    setEnv({ ACTIONS_CACHE_MODE: 'read' })
    try {
      const calls = service.requests.length
      const dir = join(work, 'pip-cache')
      expect(await cache.saveCache([dir], 'read-only-1')).toBe(-1)
      expect(service.requests.length).toBe(calls)
      expect(await cache.restoreCache([dir], 'pip-linux-abc123')).toBe(
        'pip-linux-abc123'
      )
    } finally {
      setEnv({ ACTIONS_CACHE_MODE: undefined })
    }
  }, 60_000)
})
