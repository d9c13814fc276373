import { describe, expect, it } from '@jest/globals'
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

/** Scripted git: `push` answers from a queue, `log` with the target's messages. */
function fakeGit(
  pushes: Partial<CommandResult>[],
  history = 'Unrelated\x1e'
): { git: Git; calls: string[][] } {
  const calls: string[][] = []
  const git = new Git('/repo', async (_command, args) => {
    calls.push([...args])
    if (args[0] === 'push') {
      return { exitCode: 0, stdout: '', stderr: '', ...pushes.shift() }
    }
    if (args[0] === 'log') return { exitCode: 0, stdout: history, stderr: '' }
    if (args[0] === 'rev-parse') {
      return { exitCode: 0, stdout: 'new-sha\n', stderr: '' }
    }
    return { exitCode: 0, stdout: '', stderr: '' }
  })
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
    expect(
      calls.filter((args) => args[0] === 'cherry-pick' && args[1] === '-x')
    ).toHaveLength(2)
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
      `Fix\n\n(cherry picked from commit ${SOURCE})\x1e`
    )
    const outcome = await landCommits(git, request, async () => {})
    expect(outcome).toEqual({ status: 'skipped', alreadyPicked: [SOURCE] })
    expect(calls.some((args) => args[0] === 'push')).toBe(false)
  })
})
