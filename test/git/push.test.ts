import { describe, expect, it } from '@jest/globals'
import { classifyPushFailure, pushCommit } from '../../src/git/push.js'
import { Git } from '../../src/git/git.js'

const SHA = 'c'.repeat(40)

describe('classifyPushFailure', () => {
  it.each([
    [' ! [rejected]        HEAD -> release/1.2 (fetch first)', 'race'],
    [' ! [rejected]        HEAD -> release/1.2 (non-fast-forward)', 'race'],
    [
      "! HEAD:refs/heads/release/1.2 [remote rejected] (cannot lock ref 'refs/heads/release/1.2': is at 1 but expected 2)",
      'race'
    ],
    [
      'remote: refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission',
      'workflow-permission'
    ],
    [
      'refusing to allow an OAuth App to create or update workflow `.github/workflows/x.yml` without `workflow` scope',
      'workflow-permission'
    ],
    ['remote: error: GH006: Protected branch update failed', 'rejected'],
    ['fatal: Authentication failed', 'rejected']
  ])('reads %p as %s', (stderr, reason) => {
    expect(classifyPushFailure(stderr)).toBe(reason)
  })
})

describe('pushCommit', () => {
  it('pushes the commit to the branch, forced only when asked', async () => {
    const calls: string[][] = []
    const git = new Git('/repo', async (_command, args) => {
      calls.push([...args])
      return { exitCode: 0, stdout: '', stderr: '' }
    })
    expect(await pushCommit(git, SHA, 'release/1.2')).toEqual({
      status: 'pushed'
    })
    await pushCommit(git, SHA, 'cherry-pick/7-to-release/1.2', { force: true })
    expect(calls).toEqual([
      [
        'push',
        '--porcelain',
        '--end-of-options',
        'origin',
        `${SHA}:refs/heads/release/1.2`
      ],
      [
        'push',
        '--porcelain',
        '--end-of-options',
        'origin',
        `+${SHA}:refs/heads/cherry-pick/7-to-release/1.2`
      ]
    ])
  })

  it('returns a refusal as a value with its reason', async () => {
    const git = new Git('/repo', async () => ({
      exitCode: 1,
      stdout: '',
      stderr: ' ! [rejected] HEAD -> release/1.2 (fetch first)'
    }))
    expect(await pushCommit(git, SHA, 'release/1.2')).toMatchObject({
      status: 'failed',
      reason: 'race'
    })
  })
})
