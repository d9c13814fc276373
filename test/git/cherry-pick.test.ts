import { describe, expect, it } from '@jest/globals'
import {
  cherryPick,
  cherryPickedSources,
  isAlreadyPicked
} from '../../src/git/cherry-pick.js'
import type { CommandResult } from '../../src/common/command-runner.js'
import { Git } from '../../src/git/git.js'
import { parseLog } from '../../src/git/partial-fetch.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

/** A git whose answers are scripted by the first arguments of each call. */
function scriptedGit(
  answer: (args: readonly string[]) => Partial<CommandResult>
): { git: Git; calls: string[][] } {
  const calls: string[][] = []
  const git = new Git('/repo', async (_command, args) => {
    calls.push([...args])
    return { exitCode: 0, stdout: '', stderr: '', ...answer(args) }
  })
  return { git, calls }
}

describe('cherry-pick trailers', () => {
  it('finds full and abbreviated sources in messages', () => {
    const sources = cherryPickedSources([
      `Fix\n\n(cherry picked from commit ${A})`,
      'Other\n\n(cherry picked from commit bbbbbbb)',
      'No trailer here'
    ])
    expect([...sources]).toEqual([A, 'bbbbbbb'])
    expect(isAlreadyPicked(A, sources)).toBe(true)
    expect(isAlreadyPicked(B, sources)).toBe(true)
    expect(isAlreadyPicked('c'.repeat(40), sources)).toBe(false)
  })
})

describe('cherryPick', () => {
  it('always passes -x, adds -m for a mainline pick, and reports new SHAs', async () => {
    const { git, calls } = scriptedGit((args) =>
      args[0] === 'rev-parse' ? { stdout: 'new-sha\n' } : {}
    )
    const outcome = await cherryPick(git, [A], { mainline: 1 })
    expect(calls[0]).toEqual([
      'cherry-pick',
      '-x',
      '-m',
      '1',
      '--end-of-options',
      A
    ])
    expect(outcome).toEqual({
      status: 'picked',
      picked: [{ source: A, sha: 'new-sha' }],
      empty: []
    })
  })

  it('stops at the first conflict with its files and the commits not tried', async () => {
    const { git } = scriptedGit((args) => {
      if (args[0] === 'cherry-pick' && args.includes(A)) {
        return {
          exitCode: 1,
          stderr: 'CONFLICT (content): Merge conflict in app/settings.py'
        }
      }
      if (args[0] === 'diff')
        return { stdout: 'app/settings.py\0app/urls.py\0' }
      return {}
    })
    const outcome = await cherryPick(git, [A, B])
    expect(outcome).toMatchObject({
      status: 'conflict',
      failed: A,
      remaining: [B],
      files: ['app/settings.py', 'app/urls.py']
    })
  })

  it('skips a commit whose change is already there (empty pick)', async () => {
    const { git, calls } = scriptedGit((args) => {
      if (args[0] === 'cherry-pick' && args.includes(A)) {
        return {
          exitCode: 1,
          stderr:
            'The previous cherry-pick is now empty, possibly due to conflict resolution.'
        }
      }
      if (args[0] === 'rev-parse') return { stdout: 'picked-b\n' }
      return {}
    })
    const outcome = await cherryPick(git, [A, B])
    expect(outcome).toEqual({
      status: 'picked',
      picked: [{ source: B, sha: 'picked-b' }],
      empty: [A]
    })
    expect(calls).toContainEqual(['cherry-pick', '--skip'])
  })
})

describe('parseLog', () => {
  it('reads SHA, parents and message records', () => {
    expect(
      parseLog(
        `${A}\0${B} ${A}\0Merge pull request #1\n\nbody\n\x1e\n${B}\0\0Root\n\x1e`
      )
    ).toEqual([
      { sha: A, parents: [B, A], message: 'Merge pull request #1\n\nbody' },
      { sha: B, parents: [], message: 'Root' }
    ])
  })
})
