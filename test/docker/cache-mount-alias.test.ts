import { describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  ALIAS_FILE,
  ALIAS_MIN_BYTES,
  decideAlias,
  listFiles,
  newBytes,
  readAlias,
  writeAlias,
  type FileSizes
} from '../../src/docker/cache-mount-alias.js'

const MB = 1024 * 1024
const sizes = (entries: [string, number][]): FileSizes => new Map(entries)

describe('cache-mount aliases', () => {
  it('lists files by relative path, folders left out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alias-'))
    await mkdir(join(dir, 'archives/partial'), { recursive: true })
    await writeFile(join(dir, 'archives/libpq5.deb'), 'x'.repeat(10))
    await writeFile(join(dir, 'lock'), '')
    expect(await listFiles(dir)).toEqual(
      sizes([
        ['archives/libpq5.deb', 10],
        ['lock', 0]
      ])
    )
    expect(await listFiles(join(dir, 'missing'))).toEqual(new Map())
  })

  it('counts new files and files whose size changed as new bytes', () => {
    const before = sizes([
      ['a.deb', 100],
      ['b.deb', 200],
      ['gone.deb', 300]
    ])
    const after = sizes([
      ['a.deb', 100],
      ['b.deb', 250],
      ['c.deb', 40]
    ])
    expect(newBytes(before, after)).toBe(290)
  })

  it('aliases a big mount with a few new files, not a small one or a changed one', () => {
    const big = sizes([['archives.deb', 400 * MB]])
    const bigPlus = sizes([
      ['archives.deb', 400 * MB],
      ['markdown.deb', 0.2 * MB]
    ])
    expect(decideAlias(big, bigPlus)).toMatchObject({
      alias: true,
      newBytes: 0.2 * MB
    })
    // A quarter new: worth a full save.
    const churned = sizes([
      ['archives.deb', 300 * MB],
      ['other.deb', 100 * MB]
    ])
    expect(decideAlias(big, churned).alias).toBe(false)
    // Below the size floor a full save is cheap anyway.
    const small = sizes([['ccache', ALIAS_MIN_BYTES - 1]])
    expect(decideAlias(small, small).alias).toBe(false)
  })

  it('writes an alias that reads back, and reads nothing from a real folder', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'alias-')), 'apt-archives')
    await mkdir(dir)
    await writeFile(join(dir, 'libpq5.deb'), 'deb')
    expect(await readAlias(dir)).toBeUndefined()
    await writeAlias(dir, 'buildkit-mounts-monolith-linux-x64-aa-bb')
    expect(await listFiles(dir)).toEqual(sizes([[ALIAS_FILE, 51]]))
    expect(await readAlias(dir)).toBe(
      'buildkit-mounts-monolith-linux-x64-aa-bb'
    )
    // A real mount that happens to hold a file of that name is not an alias.
    await writeFile(join(dir, 'libpq5.deb'), 'deb')
    expect(await readAlias(dir)).toBeUndefined()
    // Nor is an unreadable marker.
    await writeAlias(dir, 'k')
    await writeFile(join(dir, ALIAS_FILE), 'not json')
    expect(await readAlias(dir)).toBeUndefined()
  })
})
