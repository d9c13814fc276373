import { describe, expect, it } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CommandResult } from '../../src/common/command-runner.js'
import { Git } from '../../src/git/git.js'
import { landCommits, LandRequest } from '../../src/git/land-commits.js'

const SOURCE = 'f'.repeat(40)

const request: LandRequest = {
  target: 'release/1.2',
  shas: [SOURCE],
  historyDepth: 50,
  attempts: 3,
  pushTo: 'release/1.2',
  force: false,
  onConflict: 'abort'
}

const TIP = 'a'.repeat(40)
const PARENT = 'b'.repeat(40)

/**
 * Scripted git: `push` answers from a queue, `log` with the target's tip and
 * messages, and the plumbing of a clean pick (see cherry-pick.test.ts for
 * the pick itself with real git).
 */
function fakeGit(
  pushes: Partial<CommandResult>[],
  message = 'Unrelated'
): { git: Git; calls: string[][] } {
  const calls: string[][] = []
  const git = new Git(
    mkdtempSync(join(tmpdir(), 'land-commits-')),
    async (_command, args) => {
      calls.push([...args])
      const answer = (stdout: string): CommandResult => ({
        exitCode: 0,
        stdout,
        stderr: ''
      })
      if (args[0] === 'push') return { ...answer(''), ...pushes.shift() }
      if (args[0] === 'log') {
        return answer(`\x01${TIP}\x00tip-tree\x00${message}\n`)
      }
      if (args[0] === 'show') {
        return answer(
          `\x01${SOURCE}\x00${PARENT}\x00Dev\x00dev@example.com\x001700000000 +0000\x00Fix\n`
        )
      }
      if (args.includes('merge-tree')) return answer('merged-tree\n')
      if (args[0] === 'commit-tree') return answer('new-sha\n')
      return answer('')
    }
  )
  return { git, calls }
}

describe('landCommits', () => {
  it('refetches and picks again when the push loses a race', async () => {
    const { git, calls } = fakeGit([
      {
        exitCode: 1,
        stderr: ' ! [rejected] HEAD -> release/1.2 (fetch first)'
      },
      {}
    ])
    const slept: number[] = []
    const outcome = await landCommits(git, request, async (ms) => {
      slept.push(ms)
    })
    expect(outcome).toMatchObject({ status: 'pushed', attempts: 2 })
    expect(slept).toHaveLength(1)
    const fetches = calls.filter((args) => args[0] === 'fetch')
    expect(fetches).toHaveLength(2)
    expect(fetches[0]).toContain('--filter=blob:none')
    expect(fetches[0]).toContain('--depth=50')
    expect(calls.filter((args) => args.includes('merge-tree'))).toHaveLength(2)
    expect(calls.filter((args) => args[0] === 'push').at(-1)).toContain(
      'new-sha:refs/heads/release/1.2'
    )
  })

  it('gives up after the last attempt and says why', async () => {
    const race = { exitCode: 1, stderr: '(non-fast-forward)' }
    const { git } = fakeGit([race, race, race])
    const outcome = await landCommits(git, request, async () => {})
    expect(outcome).toMatchObject({
      status: 'push-failed',
      reason: 'race',
      attempts: 3
    })
  })

  it('does not retry a refusal that is not a race', async () => {
    const { git } = fakeGit([
      { exitCode: 1, stderr: 'GH006: Protected branch update failed' }
    ])
    const outcome = await landCommits(git, request, async () => {})
    expect(outcome).toMatchObject({
      status: 'push-failed',
      reason: 'rejected',
      attempts: 1
    })
  })

  it('skips without picking when a -x trailer already names the source', async () => {
    const { git, calls } = fakeGit(
      [],
      `Fix\n\n(cherry picked from commit ${SOURCE})`
    )
    const outcome = await landCommits(git, request, async () => {})
    expect(outcome).toEqual({ status: 'skipped', alreadyPicked: [SOURCE] })
    expect(calls.some((args) => args[0] === 'push')).toBe(false)
  })
})
