import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Git } from '../../src/git/git.js'
import {
  FetchPlan,
  PickRepository
} from '../../src/cherry-pick-to-release/pick-repository.js'

const SHA = 'a'.repeat(40)
const PLAN: FetchPlan = {
  sha: SHA,
  commitDepth: 3,
  branches: ['release/1.2'],
  branchDepth: 200
}
const REMOTE = {
  url: 'file:///srv/repo.git',
  committer: { name: 'bot', email: 'bot@example.com' }
}

describe('PickRepository', () => {
  let dir: string
  let fetches: string[][]
  let failFirstFetch: boolean

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pick-repository-'))
    fetches = []
    failFirstFetch = false
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  function repository(): PickRepository {
    const git = new Git(dir, async (_command, args) => {
      if (args[0] !== 'fetch') return { exitCode: 0, stdout: '', stderr: '' }
      fetches.push([...args])
      if (failFirstFetch && fetches.length === 1) {
        return { exitCode: 128, stdout: '', stderr: 'fatal: remote hung up' }
      }
      return { exitCode: 0, stdout: '', stderr: '' }
    })
    return new PickRepository(git, REMOTE)
  }

  const fetched = (): string[][] =>
    fetches.map((args) => args.filter((arg) => !arg.startsWith('--')))

  it('makes and fetches nothing until a pick needs git', async () => {
    const calls: string[] = []
    const git = new Git(dir, async (_command, args) => {
      calls.push(args[0])
      return { exitCode: 0, stdout: '', stderr: '' }
    })
    new PickRepository(git, REMOTE)
    await Promise.resolve()
    expect(calls).toEqual([])
  })

  it('fetches once when a later plan is covered, again when it is not', async () => {
    const repo = repository()
    await repo.ensure({ ...PLAN, branches: ['release/1.2', 'release/1.1'] })
    await repo.ensure(PLAN)
    await repo.ensure({ ...PLAN, branches: ['release/1.0'] })
    expect(fetched().map((args) => args.slice(3))).toEqual([
      [
        '+refs/heads/release/1.2:refs/remotes/origin/release/1.2',
        '+refs/heads/release/1.1:refs/remotes/origin/release/1.1'
      ],
      ['+refs/heads/release/1.0:refs/remotes/origin/release/1.0']
    ])
  })

  it('fetches again after a failed fetch', async () => {
    failFirstFetch = true
    const repo = repository()
    await expect(repo.ensure(PLAN)).rejects.toThrow(/remote hung up/)
    await repo.ensure(PLAN)
    expect(fetches).toHaveLength(2)
  })
})
