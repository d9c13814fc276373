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

  it('uses the early fetch when it brought every target', async () => {
    const repo = repository()
    repo.prefetch(
      Promise.resolve({ ...PLAN, branches: ['release/1.2', 'release/1.1'] })
    )
    await repo.ensure(PLAN)
    expect(fetched()).toEqual([
      [
        'fetch',
        'origin',
        SHA,
        '+refs/heads/release/1.2:refs/remotes/origin/release/1.2',
        '+refs/heads/release/1.1:refs/remotes/origin/release/1.1'
      ]
    ])
  })

  it('fetches again when the early fetch missed a target or was not started', async () => {
    const missed = repository()
    missed.prefetch(Promise.resolve({ ...PLAN, branches: ['release/1.1'] }))
    await missed.ensure(PLAN)
    const none = repository()
    none.prefetch(Promise.resolve(undefined))
    await none.ensure(PLAN)
    expect(fetched().map((args) => args.at(-1))).toEqual([
      '+refs/heads/release/1.1:refs/remotes/origin/release/1.1',
      '+refs/heads/release/1.2:refs/remotes/origin/release/1.2',
      '+refs/heads/release/1.2:refs/remotes/origin/release/1.2'
    ])
  })

  it('fetches again after a failed early fetch', async () => {
    failFirstFetch = true
    const repo = repository()
    repo.prefetch(Promise.resolve(PLAN))
    await repo.ensure(PLAN)
    await repo.settle()
    expect(fetches).toHaveLength(2)
  })

  it('reports a failed fetch of the plan itself', async () => {
    failFirstFetch = true
    const repo = repository()
    await expect(repo.ensure(PLAN)).rejects.toThrow(/remote hung up/)
  })
})
