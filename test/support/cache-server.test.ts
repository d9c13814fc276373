import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as cache from '@actions/cache'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCacheServer, type CacheServer } from './cache-server.js'

// The real @actions/cache, pointed at the stand-in through the variables the
// runner sets; nothing in the library is mocked.
let server: CacheServer
let work: string
const startDir = process.cwd()
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  server = await startCacheServer()
  for (const [key, value] of Object.entries(server.env())) {
    saved[key] = process.env[key]
    process.env[key] = value
  }
  work = await mkdtemp(join(tmpdir(), 'ert-cache-test-'))
  process.chdir(work)
})

afterAll(async () => {
  // Jest runs later files in this same process: leave it where it was.
  process.chdir(startDir)
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  await server.close()
  await rm(work, { recursive: true, force: true })
})

async function writeTree(dir: string, marker: string): Promise<void> {
  await mkdir(join(dir, 'nested'), { recursive: true })
  await writeFile(join(dir, 'a.txt'), `a-${marker}`)
  // Larger than one upload chunk would be in a real run, to cover offsets.
  await writeFile(
    join(dir, 'nested', 'b.bin'),
    Buffer.alloc(3 * 1024 * 1024, marker)
  )
}

describe('local Actions cache service', () => {
  it('round-trips a directory through @actions/cache', async () => {
    const dir = join(work, 'pip-cache')
    await writeTree(dir, 'x')
    const id = await cache.saveCache([dir], 'pip-linux-abc123')
    expect(id).toBeGreaterThan(0)
    expect(server.entries().map((e) => e.key)).toEqual(['pip-linux-abc123'])

    await rm(dir, { recursive: true, force: true })
    const hit = await cache.restoreCache([dir], 'pip-linux-abc123')
    expect(hit).toBe('pip-linux-abc123')
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a-x')
    expect((await readFile(join(dir, 'nested', 'b.bin'))).length).toBe(
      3 * 1024 * 1024
    )
  })

  it('falls back to the newest entry matching a restore-key prefix', async () => {
    const dir = join(work, 'npm-cache')
    await writeTree(dir, 'old')
    await cache.saveCache([dir], 'npm-linux-1111')
    await writeTree(dir, 'new')
    await cache.saveCache([dir], 'npm-linux-2222')
    await rm(dir, { recursive: true, force: true })

    const hit = await cache.restoreCache([dir], 'npm-linux-9999', [
      'npm-linux-'
    ])
    expect(hit).toBe('npm-linux-2222')
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a-new')
  })

  it('misses when neither the key nor a prefix matches', async () => {
    const dir = join(work, 'nothing')
    expect(await cache.restoreCache([dir], 'apt-1', ['apt-'])).toBeUndefined()
  })

  it('does not match an entry saved for other paths (version differs)', async () => {
    const dir = join(work, 'pip-cache')
    expect(
      await cache.restoreCache([join(work, 'elsewhere')], 'pip-linux-abc123')
    ).toBeUndefined()
    expect(await cache.restoreCache([dir], 'pip-linux-abc123')).toBe(
      'pip-linux-abc123'
    )
  })

  it('refuses a second reservation of the same key', async () => {
    const dir = join(work, 'pip-cache')
    const before = server.entries().length
    // @actions/cache reports the refusal as a warning and returns -1.
    expect(await cache.saveCache([dir], 'pip-linux-abc123')).toBe(-1)
    expect(server.entries().length).toBe(before)
  })

  it('answers 503 when switched down, which the library survives', async () => {
    server.options.down = true
    try {
      const dir = join(work, 'pip-cache')
      await expect(
        cache.restoreCache([dir], 'pip-linux-abc123')
      ).resolves.toBeUndefined()
    } finally {
      server.options.down = false
    }
  }, 60_000)
})
