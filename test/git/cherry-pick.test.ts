import { describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { actionsCommandRunner } from '../../src/common/command-runner.js'
import {
  cherryPick,
  cherryPickedSources,
  commitConflict,
  isAlreadyPicked,
  PickBase,
  pickMessage
} from '../../src/git/cherry-pick.js'
import { Git } from '../../src/git/git.js'
import { parseLog } from '../../src/git/partial-fetch.js'

const exec = promisify(execFile)

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

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

/** A bare repository like the action's, built from a working clone. */
async function repository(): Promise<{
  work: string
  git: Git
  sh: (...args: string[]) => Promise<string>
}> {
  const root = await mkdtemp(join(tmpdir(), 'cherry-pick-unit-'))
  const work = join(root, 'work')
  const sh = async (...args: string[]): Promise<string> =>
    (
      await exec('git', args, {
        cwd: work,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Dev',
          GIT_AUTHOR_EMAIL: 'dev@example.com',
          GIT_AUTHOR_DATE: '1700000000 +0100',
          GIT_COMMITTER_NAME: 'Dev',
          GIT_COMMITTER_EMAIL: 'dev@example.com'
        }
      })
    ).stdout.trim()
  await exec('git', ['init', '--quiet', '--initial-branch=main', work])
  await writeFile(join(work, 'settings.py'), 'A = 1\nB = 1\nC = 1\n')
  await sh('add', '.')
  await sh('commit', '--quiet', '-m', 'Base')
  await sh('branch', 'release/1.0')
  return {
    work,
    sh,
    git: new Git(join(work, '.git'), actionsCommandRunner, {
      GIT_COMMITTER_NAME: 'Bot',
      GIT_COMMITTER_EMAIL: 'bot@example.com'
    })
  }
}

async function commitFile(
  repo: Awaited<ReturnType<typeof repository>>,
  branch: string,
  file: string,
  content: string,
  message: string
): Promise<string> {
  await repo.sh('checkout', '--quiet', branch)
  await writeFile(join(repo.work, file), content)
  await repo.sh('add', '.')
  await repo.sh('commit', '--quiet', '-m', message)
  return repo.sh('rev-parse', 'HEAD')
}

async function base(
  repo: Awaited<ReturnType<typeof repository>>,
  branch: string
): Promise<PickBase> {
  const sha = await repo.sh('rev-parse', branch)
  return { branch, sha, tree: await repo.sh('rev-parse', `${sha}^{tree}`) }
}

describe('cherryPick (merge-tree and commit-tree, real git)', () => {
  it('picks onto the branch as cherry-pick -x would: author, trailer, parent, content', async () => {
    const repo = await repository()
    const fix = await commitFile(
      repo,
      'main',
      'settings.py',
      'A = 1\nB = 2\nC = 1\n',
      'Raise B'
    )
    await commitFile(repo, 'release/1.0', 'other.py', 'X = 1\n', 'Other')
    const onto = await base(repo, 'release/1.0')
    const outcome = await cherryPick(repo.git, onto, [fix])
    expect(outcome.status).toBe('picked')
    if (outcome.status !== 'picked') return
    const [picked] = outcome.picked
    expect(picked.source).toBe(fix)
    expect(outcome.head).toBe(picked.sha)
    expect(
      await repo.sh(
        'log',
        '-1',
        '--format=%P|%an|%ae|%ad|%cn|%B',
        '--date=raw',
        picked.sha
      )
    ).toBe(
      `${onto.sha}|Dev|dev@example.com|1700000000 +0100|Bot|Raise B\n\n(cherry picked from commit ${fix})`
    )
    expect(await repo.sh('show', `${picked.sha}:settings.py`)).toBe(
      'A = 1\nB = 2\nC = 1'
    )
    expect(await repo.sh('show', `${picked.sha}:other.py`)).toBe('X = 1')
  })

  it("stops at the first conflict with its files, git's words and a tree with markers", async () => {
    const repo = await repository()
    const first = await commitFile(
      repo,
      'main',
      'settings.py',
      'A = 1\nB = 2\nC = 1\n',
      'Raise B'
    )
    const second = await commitFile(repo, 'main', 'new.py', 'N = 1\n', 'New')
    await commitFile(
      repo,
      'release/1.0',
      'settings.py',
      'A = 1\nB = 3\nC = 1\n',
      'B on the release'
    )
    const onto = await base(repo, 'release/1.0')
    const outcome = await cherryPick(repo.git, onto, [first, second])
    expect(outcome).toMatchObject({
      status: 'conflict',
      failed: first,
      remaining: [second],
      files: ['settings.py'],
      head: onto.sha
    })
    if (outcome.status !== 'conflict') return
    expect(outcome.message).toContain(
      'CONFLICT (content): Merge conflict in settings.py'
    )
    const marked = await repo.sh(
      'cat-file',
      'blob',
      `${outcome.conflictTree}:settings.py`
    )
    expect(marked).toContain('<<<<<<< refs/heads/release/1.0')
    expect(marked).toContain(`>>>>>>> ${first}`)
    const draft = await commitConflict(repo.git, outcome, 'CONFLICT')
    expect(await repo.sh('log', '-1', '--format=%P', draft)).toBe(onto.sha)
  })

  it('skips a commit whose change is already there (empty pick) and picks the next', async () => {
    const repo = await repository()
    const fix = await commitFile(
      repo,
      'main',
      'settings.py',
      'A = 1\nB = 2\nC = 1\n',
      'Raise B'
    )
    const next = await commitFile(repo, 'main', 'new.py', 'N = 1\n', 'New')
    await commitFile(
      repo,
      'release/1.0',
      'settings.py',
      'A = 1\nB = 2\nC = 1\n',
      'Same change, other SHA'
    )
    const onto = await base(repo, 'release/1.0')
    const outcome = await cherryPick(repo.git, onto, [fix, next])
    expect(outcome).toMatchObject({ status: 'picked', empty: [fix] })
    expect(outcome.picked.map((p) => p.source)).toEqual([next])
  })

  it('picks a merge commit against its first parent with a mainline', async () => {
    const repo = await repository()
    await repo.sh('checkout', '--quiet', '-b', 'feature', 'main')
    await commitFile(repo, 'feature', 'feature.py', 'F = 1\n', 'Feature')
    await commitFile(repo, 'main', 'main.py', 'M = 1\n', 'Main moves')
    await repo.sh(
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      'Merge feature',
      'feature'
    )
    const merge = await repo.sh('rev-parse', 'HEAD')
    const onto = await base(repo, 'release/1.0')
    await expect(cherryPick(repo.git, onto, [merge])).rejects.toThrow(
      'merge commit'
    )
    const outcome = await cherryPick(repo.git, onto, [merge], { mainline: 1 })
    expect(outcome.status).toBe('picked')
    const tree = await repo.sh('ls-tree', '--name-only', outcome.head)
    expect(tree.split('\n')).toEqual(['feature.py', 'settings.py'])
  })
})

describe('pickMessage', () => {
  it('adds the trailer after a blank line, or inside a trailer block', () => {
    expect(pickMessage('Fix\n\nBody', A)).toBe(
      `Fix\n\nBody\n\n(cherry picked from commit ${A})`
    )
    expect(pickMessage('Fix\n\nSigned-off-by: Dev <d@x>\n', A)).toBe(
      `Fix\n\nSigned-off-by: Dev <d@x>\n(cherry picked from commit ${A})`
    )
    expect(pickMessage('Subject only', A)).toBe(
      `Subject only\n\n(cherry picked from commit ${A})`
    )
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
