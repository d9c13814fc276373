import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  jest
} from '@jest/globals'
import { chmod, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ActionResult, runAction } from '../support/runner-harness.js'
import {
  branchLog,
  commitToBranch,
  createGitFixture,
  fileAt,
  git,
  GitFixture,
  mergePullRequest,
  openPullRequest,
  removeGitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import { ensureBundle } from '../support/bundle.js'

const root = new URL('../..', import.meta.url).pathname
const bundle = join(root, 'dist/cherry-pick-to-release/index.js')

// Each case runs the bundle one to three times against real git.
jest.setTimeout(60_000)

let standIn: GitHubStandIn
let fx: GitFixture

beforeAll(async () => {
  ensureBundle('cherry-pick-to-release')
  standIn = await GitHubStandIn.start()
})
afterAll(async () => standIn.close())
beforeEach(async () => {
  fx = await createGitFixture(standIn)
})
afterEach(async () => removeGitFixture(fx))

async function pick(
  eventName: string,
  event: unknown,
  inputs: Record<string, string> = {}
): Promise<ActionResult> {
  const result = await runAction({
    bundle,
    eventName,
    event,
    inputs: { token: 'ghs_github_token', 'repository-url': fx.url, ...inputs },
    env: { GITHUB_API_URL: standIn.url, GITHUB_REPOSITORY: fx.fullName },
    timeoutMs: 60_000
  })
  if (process.env.CHERRY_PICK_DEBUG) console.log(result.stdout, result.stderr)
  return result
}

async function closedEvent(number: number): Promise<unknown> {
  return standIn.pullRequestEvent(fx.fullName, number, 'closed')
}

const trailer = (sha: string): string => `(cherry picked from commit ${sha})`

/** The git-data writes the stand-in saw since `from`: a pick through the API. */
function gitDataWrites(from: number): string[] {
  return standIn.log
    .slice(from)
    .filter(
      (entry) =>
        entry.method !== 'GET' && /\/git\/(trees|commits|refs)/.test(entry.path)
    )
    .map(
      (entry) =>
        `${entry.method} ${entry.path.replace(/^\/repos\/[^/]+\/[^/]+/, '')}`
    )
}

async function releaseTip(branch = 'release/1.10'): Promise<string> {
  return git(fx.bare, 'rev-parse', `refs/heads/${branch}`)
}

describe('cherry-pick-to-release end to end', () => {
  it('picks a squash-merged PR onto the newest release branch and reports it', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Fix order total',
      labels: ['cherry-pick'],
      commits: [
        {
          file: 'app/orders.py',
          content: 'TOTAL = 0\n',
          message: 'wip'
        },
        {
          file: 'app/views.py',
          content: 'def index():\n    return "hi"\n',
          message: 'more wip'
        }
      ]
    })
    const before = await releaseTip()
    const from = standIn.log.length
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )

    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('picked')
    // Clean on the path level: no clone, one tree, one commit, one ref update.
    expect(result.stdout).toContain('release/1.10: picked through the API')
    expect(gitDataWrites(from)).toEqual([
      'POST /git/trees',
      'POST /git/commits',
      'PATCH /git/refs/heads/release/1.10'
    ])
    // release/1.10 is newer than release/1.9 although it sorts before it as text.
    expect(result.outputs['target-branch']).toBe('release/1.10')
    const commits = JSON.parse(result.outputs.commits) as string[]
    const tip = await releaseTip()
    expect(commits).toEqual([tip])
    const [top, parent] = await branchLog(fx, 'release/1.10', 2)
    expect(top).toContain(trailer(pr.mergeCommitSha ?? 'none'))
    expect(top).toContain('Fix order total')
    expect(parent.startsWith(before)).toBe(true)
    expect(await fileAt(fx, 'release/1.10', 'app/views.py')).toContain('"hi"')
    // The picked commit keeps its author; the committer is the bot.
    expect(await git(fx.bare, 'log', '-1', '--format=%an|%cn', tip)).toBe(
      'Dev Eloper|github-actions[bot]'
    )
    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('`release/1.10`')
    expect(comments[0].body).toContain(tip)
    expect(standIn.pull(fx.fullName, pr.number).labels).toContain(
      'cherry-picked'
    )
    // Tokens go only to the API; the stand-in saw the token as a bearer.
    const apiCall = standIn.log.find((entry) => entry.path.includes('/pulls/'))
    expect(apiCall?.authorization).toBe('token ghs_github_token')
    expect(result.summary).toContain('squash')
  })

  it('picks the three commits of a rebase-merged PR as they landed, in order', async () => {
    const pr = await mergePullRequest(fx, 'rebase', {
      title: 'Three step fix',
      labels: ['cherry-pick'],
      commits: [1, 2, 3].map((step) => ({
        file: `app/step${step}.py`,
        content: `STEP = ${step}\n`,
        message: `Step ${step} of the fix`
      }))
    })
    const landed = (
      await git(
        fx.bare,
        'rev-list',
        '--first-parent',
        '--max-count=3',
        'refs/heads/main'
      )
    )
      .split('\n')
      .reverse()
    const result = await pick('pull_request', await closedEvent(pr.number), {
      'push-token': 'ghs_app_token',
      'dispatch-workflow': 'deploy-staging.yml'
    })

    expect(result.outputs.result).toBe('picked')
    const log = (await branchLog(fx, 'release/1.10', 3)).reverse()
    expect(log.map((entry) => entry.split('\x00')[1]?.split('\n')[0])).toEqual([
      'Step 1 of the fix',
      'Step 2 of the fix',
      'Step 3 of the fix'
    ])
    landed.forEach((sha, index) => expect(log[index]).toContain(trailer(sha)))
    expect(JSON.parse(result.outputs.commits)).toHaveLength(3)
    // A push token starts workflows by itself: no dispatch.
    expect(standIn.dispatches(fx.fullName)).toEqual([])
  })

  it('picks the own commits of a merge-commit PR, or the merge with -m 1', async () => {
    const pr = await mergePullRequest(fx, 'merge', {
      title: 'Merge-commit fix',
      labels: ['cherry-pick'],
      commits: [
        { file: 'app/a.py', content: 'A = 1\n', message: 'Add a' },
        { file: 'app/b.py', content: 'B = 1\n', message: 'Add b' }
      ]
    })
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )
    expect(result.outputs.result).toBe('picked')
    const prCommits = (
      await git(fx.bare, 'rev-list', '--reverse', pr.headSha, `^${pr.baseSha}`)
    ).split('\n')
    const log = (await branchLog(fx, 'release/1.10', 2)).reverse()
    prCommits.forEach((sha, index) =>
      expect(log[index]).toContain(trailer(sha))
    )

    const mainline = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        'merge-commit-strategy': 'mainline',
        label: 'cherry-pick',
        'release-branch-pattern': 'release/1.9'
      }
    )
    expect(mainline.outputs.result).toBe('picked')
    const [top] = await branchLog(fx, 'release/1.9', 1)
    expect(top).toContain(trailer(pr.mergeCommitSha ?? 'none'))
    expect(await fileAt(fx, 'release/1.9', 'app/b.py')).toBe('B = 1')
  })

  it('acts on a label added after merge, only on that label, onto its explicit branch', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Late label',
      commits: [{ file: 'app/late.py', content: 'LATE = 1\n', message: 'late' }]
    })
    const before19 = await releaseTip('release/1.9')
    const before110 = await releaseTip()
    const other = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'documentation' }
      })
    )
    expect(other.outputs.result).toBe('skipped')
    expect(await releaseTip('release/1.9')).toBe(before19)

    standIn.pull(fx.fullName, pr.number).labels.push('cherry-pick:release/1.9')
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'cherry-pick:release/1.9' }
      })
    )
    expect(result.outputs.result).toBe('picked')
    expect(result.outputs['target-branch']).toBe('release/1.9')
    expect(await releaseTip('release/1.9')).not.toBe(before19)
    expect(await releaseTip()).toBe(before110)
  })

  it('picks with git, merging both sides, when the release branch changed the same file', async () => {
    const limits = (edit: (lines: string[]) => void = () => {}): string => {
      const lines = Array.from({ length: 10 }, (_, i) => `LIMIT_${i} = ${i}`)
      edit(lines)
      return `${lines.join('\n')}\n`
    }
    for (const branch of ['main', 'release/1.10']) {
      await commitToBranch(fx, branch, {
        file: 'app/limits.py',
        content: limits(),
        message: 'Add limits'
      })
    }
    await commitToBranch(fx, 'release/1.10', {
      file: 'app/limits.py',
      content: limits((lines) => (lines[0] = 'LIMIT_0 = 100')),
      message: 'Raise the first limit on the release'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Raise the last limit',
      labels: ['cherry-pick'],
      commits: [
        {
          file: 'app/limits.py',
          content: limits((lines) => (lines[9] = 'LIMIT_9 = 900')),
          message: 'limit'
        }
      ]
    })
    const from = standIn.log.length
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )

    expect(result.outputs.result).toBe('picked')
    expect(result.stdout).toContain(
      'release/1.10: picking with git, as app/limits.py was changed on the target too'
    )
    const merged = await fileAt(fx, 'release/1.10', 'app/limits.py')
    expect(merged).toContain('LIMIT_0 = 100')
    expect(merged).toContain('LIMIT_9 = 900')
    expect(gitDataWrites(from)).toEqual([])
  })

  it('sends a conflict back to the author with files and commands, pushing nothing', async () => {
    await commitToBranch(fx, 'release/1.10', {
      file: 'app/settings.py',
      content: 'DEBUG = False\nTIMEOUT = 60\n',
      message: 'Raise timeout on the release'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Tune timeout',
      labels: ['cherry-pick'],
      author: 'alice',
      commits: [
        {
          file: 'app/settings.py',
          content: 'DEBUG = False\nTIMEOUT = 90\n',
          message: 'timeout'
        }
      ]
    })
    const before = await releaseTip()
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )

    // A conflict is a result for the author, not a red job.
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('conflict')
    expect(await releaseTip()).toBe(before)
    const [comment] = standIn.comments(fx.fullName, pr.number)
    expect(comment.body).toContain('@alice')
    expect(comment.body).toContain('`app/settings.py`')
    expect(comment.body).toContain(`git cherry-pick -x ${pr.mergeCommitSha}`)
    expect(comment.body).toContain("git switch --create 'cherry-pick/")
    expect(standIn.pull(fx.fullName, pr.number).labels).toContain(
      'cherry-pick-conflict'
    )
    expect(standIn.pulls(fx.fullName)).toHaveLength(1)
  })

  it('with on-conflict: draft-pr, commits the markers on a branch and opens a draft', async () => {
    await commitToBranch(fx, 'release/1.10', {
      file: 'app/settings.py',
      content: 'DEBUG = False\nTIMEOUT = 60\n',
      message: 'Raise timeout on the release'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Tune timeout',
      labels: ['cherry-pick'],
      commits: [
        {
          file: 'app/settings.py',
          content: 'DEBUG = False\nTIMEOUT = 90\n',
          message: 'timeout'
        }
      ]
    })
    const before = await releaseTip()
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        'on-conflict': 'draft-pr'
      }
    )
    expect(result.outputs.result).toBe('conflict')
    expect(await releaseTip()).toBe(before)
    const draft = standIn.pull(
      fx.fullName,
      Number(result.outputs['pull-request'])
    )
    expect(draft.draft).toBe(true)
    expect(draft.baseRef).toBe('release/1.10')
    expect(draft.assignees).toEqual(['dev-eloper'])
    const content = await fileAt(fx, draft.headRef, 'app/settings.py')
    expect(content).toContain('<<<<<<<')
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      result.outputs['pull-request-url']
    )
  })

  it('lands two picks that race to push the same release branch', async () => {
    const first = await mergePullRequest(fx, 'squash', {
      title: 'First fix',
      labels: ['cherry-pick'],
      commits: [{ file: 'app/first.py', content: 'A = 1\n', message: 'first' }]
    })
    const second = await mergePullRequest(fx, 'squash', {
      title: 'Second fix',
      labels: ['cherry-pick'],
      commits: [
        { file: 'app/second.py', content: 'B = 1\n', message: 'second' }
      ]
    })
    // Holds every push in receive-pack for 2 s, so both pushes start from
    // the same old tip and one of them must lose and retry.
    const hook = join(fx.bare, 'hooks', 'pre-receive')
    await writeFile(hook, '#!/bin/sh\ncat >/dev/null\nsleep 2\n')
    await chmod(hook, 0o755)

    const [a, b] = await Promise.all([
      pick('pull_request_target', await closedEvent(first.number)),
      pick('pull_request_target', await closedEvent(second.number))
    ])
    await rm(hook)
    expect([a.outputs.result, b.outputs.result]).toEqual(['picked', 'picked'])
    const log = (await branchLog(fx, 'release/1.10', 2)).join('\n')
    expect(log).toContain(trailer(first.mergeCommitSha ?? 'none'))
    expect(log).toContain(trailer(second.mergeCommitSha ?? 'none'))
    const retried = [a, b].filter((r) =>
      /after [2-9] push attempt/.test(r.stdout)
    )
    expect(retried).toHaveLength(1)
  })

  it('does not pick twice when labelled again', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Once only',
      labels: ['cherry-pick'],
      commits: [{ file: 'app/once.py', content: 'ONCE = 1\n', message: 'once' }]
    })
    const first = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )
    expect(first.outputs.result).toBe('picked')
    const tip = await releaseTip()
    const again = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'cherry-pick' }
      })
    )
    expect(again.exitCode).toBe(0)
    expect(again.outputs.result).toBe('skipped')
    expect(await releaseTip()).toBe(tip)
    const log = (await branchLog(fx, 'release/1.10', 10)).join('\n')
    expect(log.split(trailer(pr.mergeCommitSha ?? 'none'))).toHaveLength(2)
  })

  it('in mode pull-request opens a PR into the release branch, assigned to the author', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Via a PR',
      labels: ['cherry-pick'],
      author: 'bob',
      commits: [{ file: 'app/pr.py', content: 'PR = 1\n', message: 'pr' }]
    })
    const before = await releaseTip()
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        mode: 'pull-request',
        'pr-labels': 'release, needs-qa',
        'pr-body-template': 'Pick of #{number} by @{author}\n{commits}'
      }
    )
    expect(result.outputs.result).toBe('picked')
    expect(await releaseTip()).toBe(before)
    const opened = standIn.pull(
      fx.fullName,
      Number(result.outputs['pull-request'])
    )
    expect(opened.title).toBe('[release/1.10] Via a PR')
    expect(opened.headRef).toBe(`cherry-pick/${pr.number}-to-release/1.10`)
    expect(opened.baseRef).toBe('release/1.10')
    expect(opened.body).toContain(`Pick of #${pr.number} by @bob`)
    expect(opened.labels).toEqual(['release', 'needs-qa'])
    expect(opened.assignees).toEqual(['bob'])
    const [top] = await branchLog(fx, opened.headRef, 1)
    expect(top).toContain(trailer(pr.mergeCommitSha ?? 'none'))

    const again = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        mode: 'pull-request'
      }
    )
    expect(again.outputs.result).toBe('skipped')
    expect(again.outputs['pull-request']).toBe(String(opened.number))
  })

  it('with only GITHUB_TOKEN, dispatches the staging workflow on the release branch', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Deploy me',
      labels: ['cherry-pick'],
      commits: [
        { file: 'app/deploy.py', content: 'D = 1\n', message: 'deploy' }
      ]
    })
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        'dispatch-workflow': 'deploy-staging.yml'
      }
    )
    expect(result.outputs.result).toBe('picked')
    expect(standIn.dispatches(fx.fullName)).toEqual([
      { workflow: 'deploy-staging.yml', ref: 'release/1.10', inputs: {} }
    ])
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      'deploy-staging.yml'
    )
  })

  it('explains a push refused for a workflow file without the workflows permission', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Touch CI',
      labels: ['cherry-pick'],
      commits: [
        {
          file: '.github/workflows/ci.yml',
          content: 'on: push\n',
          message: 'ci'
        }
      ]
    })
    const hook = join(fx.bare, 'hooks', 'pre-receive')
    await writeFile(
      hook,
      "#!/bin/sh\necho 'refusing to allow a GitHub App to create or update workflow `.github/workflows/ci.yml` without `workflows` permission' >&2\nexit 1\n"
    )
    await chmod(hook, 0o755)
    const before = await releaseTip()
    const result = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )
    expect(result.outputs.result).toBe('failed')
    expect(result.exitCode).not.toBe(0)
    expect(await releaseTip()).toBe(before)
    const [comment] = standIn.comments(fx.fullName, pr.number)
    expect(comment.body).toContain('`workflows` permission')
  })
})

describe('cherry-pick-to-release triggers and bad input', () => {
  it('picks on /cherry-pick from a writer and refuses a reader', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'By comment',
      commits: [{ file: 'app/c.py', content: 'C = 1\n', message: 'c' }]
    })
    standIn.setPermission(fx.fullName, 'maintainer', 'maintain')
    const before = await releaseTip('release/1.9')
    const denied = await pick(
      'issue_comment',
      standIn.issueCommentEvent(
        fx.fullName,
        pr.number,
        '/cherry-pick release/1.9',
        'visitor'
      )
    )
    expect(denied.outputs.result).toBe('failed')
    expect(denied.exitCode).not.toBe(0)
    expect(await releaseTip('release/1.9')).toBe(before)
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      '@visitor'
    )

    const allowed = await pick(
      'issue_comment',
      standIn.issueCommentEvent(
        fx.fullName,
        pr.number,
        '/cherry-pick release/1.9',
        'maintainer'
      )
    )
    expect(allowed.outputs.result).toBe('picked')
    expect(allowed.outputs['target-branch']).toBe('release/1.9')
  })

  it('tells an open labelled PR that the pick happens at merge', async () => {
    const pr = await openPullRequest(fx, {
      title: 'Not yet',
      labels: ['cherry-pick'],
      commits: [{ file: 'app/n.py', content: 'N = 1\n', message: 'n' }]
    })
    const before = await releaseTip()
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'cherry-pick' }
      })
    )
    expect(result.outputs.result).toBe('skipped')
    expect(await releaseTip()).toBe(before)
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      'when it is merged'
    )
  })

  it('fails clearly on a missing labelled branch, no matching release branch, or another event', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Bad target',
      labels: ['cherry-pick:release/9.9'],
      commits: [{ file: 'app/x.py', content: 'X = 1\n', message: 'x' }]
    })
    const missing = await pick(
      'pull_request_target',
      await closedEvent(pr.number)
    )
    expect(missing.outputs.result).toBe('failed')
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      '`release/9.9`'
    )

    standIn.pull(fx.fullName, pr.number).labels = []
    standIn.addLabel(fx.fullName, pr.number, 'cherry-pick', 'octocat')
    const none = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        'release-branch-pattern': 'hotfix/*'
      }
    )
    expect(none.outputs.result).toBe('failed')
    expect(none.stdout).toContain('hotfix/*')

    const push = await pick('push', { ref: 'refs/heads/main' })
    expect(push.exitCode).not.toBe(0)
    expect(push.stdout).toContain('not "push"')

    const badMode = await pick(
      'pull_request_target',
      await closedEvent(pr.number),
      {
        mode: 'fast'
      }
    )
    expect(badMode.exitCode).not.toBe(0)
    expect(badMode.stdout).toContain('Input "mode" has "fast"')
    const log = await branchLog(fx, 'release/1.10', 5)
    expect(log.join('\n')).not.toContain('cherry picked')
  })
})
