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
import { writeFile } from 'node:fs/promises'
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
  removeGitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import { ensureBundle } from '../support/bundle.js'

// Issue #18: several targets per request, the PR's context carried over,
// auto-merge, conflicts nobody can miss, merges inside a PR, the hotfix
// lane. The built bundle runs with real git against the GitHub stand-in.

const root = new URL('../..', import.meta.url).pathname
const bundle = join(root, 'dist/cherry-pick-to-release/index.js')

jest.setTimeout(90_000)

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
    timeoutMs: 80_000
  })
  if (process.env.CHERRY_PICK_DEBUG) console.log(result.stdout, result.stderr)
  return result
}

const trailer = (sha: string): string => `(cherry picked from commit ${sha})`

interface TargetResult {
  target: string
  result: string
  commits: string[]
  'pull-request': number | null
}

function results(result: ActionResult): TargetResult[] {
  return JSON.parse(result.outputs.results) as TargetResult[]
}

describe('cherry-pick-to-release: several targets in one request', () => {
  it('picks two labelled targets, one clean and one conflicting, with per-target results and one comment', async () => {
    await commitToBranch(fx, 'release/1.9', {
      file: 'app/settings.py',
      content: 'DEBUG = False\nTIMEOUT = 60\n',
      message: 'Raise timeout on 1.9'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Tune timeout',
      labels: ['cherry-pick', 'cherry-pick:release/1.9'],
      author: 'alice',
      commits: [
        {
          file: 'app/settings.py',
          content: 'DEBUG = False\nTIMEOUT = 90\n',
          message: 'timeout'
        }
      ]
    })
    const before19 = await git(fx.bare, 'rev-parse', 'refs/heads/release/1.9')
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed')
    )

    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('conflict')
    const byTarget = Object.fromEntries(
      results(result).map((entry) => [entry.target, entry])
    )
    expect(byTarget['release/1.10'].result).toBe('picked')
    expect(byTarget['release/1.9'].result).toBe('conflict')
    const [top] = await branchLog(fx, 'release/1.10', 1)
    expect(top.startsWith(byTarget['release/1.10'].commits[0])).toBe(true)
    expect(top).toContain(trailer(pr.mergeCommitSha ?? 'none'))
    expect(await git(fx.bare, 'rev-parse', 'refs/heads/release/1.9')).toBe(
      before19
    )

    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(1)
    const body = comments[0].body
    expect(body).toContain('`release/1.10`: picked')
    expect(body).toContain('`release/1.9`: conflict')
    expect(body).toContain(
      'CONFLICT (content): Merge conflict in app/settings.py'
    )
    expect(body).toContain(`git cherry-pick -x ${pr.mergeCommitSha}`)
    expect(body).toContain("git fetch origin 'release/1.9'")

    // Seen without opening the PR: an error annotation and the job summary.
    const annotation = result.annotations.find((a) => a.level === 'error')
    expect(annotation?.message).toContain('app/settings.py')
    expect(annotation?.message).toContain(pr.mergeCommitSha ?? 'none')
    expect(result.summary).toContain('Conflict on `release/1.9`')
    expect(result.summary).toContain(
      `First conflicting commit: \`${pr.mergeCommitSha}\``
    )
  })

  it('picks every branch named by /cherry-pick a b', async () => {
    standIn.setPermission(fx.fullName, 'maintainer', 'maintain')
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Both releases',
      commits: [{ file: 'app/both.py', content: 'BOTH = 1\n', message: 'b' }]
    })
    const result = await pick(
      'issue_comment',
      standIn.issueCommentEvent(
        fx.fullName,
        pr.number,
        '/cherry-pick release/1.9 release/1.10',
        'maintainer'
      )
    )
    expect(result.outputs.result).toBe('picked')
    expect(
      results(result).map((entry) => [entry.target, entry.result])
    ).toEqual([
      ['release/1.9', 'picked'],
      ['release/1.10', 'picked']
    ])
    for (const branch of ['release/1.9', 'release/1.10']) {
      expect(await fileAt(fx, branch, 'app/both.py')).toBe('BOTH = 1')
    }
    expect(standIn.comments(fx.fullName, pr.number)).toHaveLength(1)
  })
})

describe('cherry-pick-to-release: the picked pull request', () => {
  it('carries labels matching a pattern, milestone, assignees and reviewers, and turns on auto-merge', async () => {
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Context',
      labels: ['cherry-pick', 'area/api', 'bug'],
      author: 'bob',
      commits: [{ file: 'app/ctx.py', content: 'CTX = 1\n', message: 'ctx' }]
    })
    pr.milestone = 4
    pr.assignees = ['carol']
    pr.requestedReviewers = ['dave']
    pr.requestedTeams = ['release-team']
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      {
        mode: 'pull-request',
        'copy-labels-pattern': '^area/',
        'copy-milestone': 'true',
        'copy-assignees': 'true',
        'copy-requested-reviewers': 'true',
        'auto-merge': 'squash'
      }
    )
    expect(result.outputs.result).toBe('picked')
    const opened = standIn.pull(
      fx.fullName,
      Number(result.outputs['pull-request'])
    )
    expect(opened.labels).toEqual(['area/api'])
    expect(opened.milestone).toBe(4)
    expect(opened.assignees.sort()).toEqual(['bob', 'carol'])
    expect(opened.requestedReviewers?.sort()).toEqual(['bob', 'dave'])
    expect(opened.requestedTeams).toEqual(['release-team'])
    expect(opened.autoMergeMethod).toBe('SQUASH')
    expect(standIn.log.some((entry) => entry.path === '/graphql')).toBe(true)
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      'auto-merge (squash) enabled'
    )
  })

  it('warns, and still succeeds, when the repository does not allow auto-merge', async () => {
    standIn.setAllowAutoMerge(fx.fullName, false)
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'No auto-merge here',
      labels: ['cherry-pick'],
      commits: [{ file: 'app/am.py', content: 'AM = 1\n', message: 'am' }]
    })
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      { mode: 'pull-request', 'auto-merge': 'merge' }
    )
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('picked')
    const warning = result.annotations.find(
      (a) => a.level === 'warning' && a.message.includes('Auto-merge')
    )
    expect(warning?.message).toContain(
      'Auto merge is not allowed for this repository'
    )
    const opened = standIn.pull(
      fx.fullName,
      Number(result.outputs['pull-request'])
    )
    expect(opened.autoMergeMethod).toBeUndefined()
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      'Auto-merge could not be turned on'
    )
  })
})

/** A PR whose branch merged main in between its own two commits. */
async function mergeWithMainInside(): Promise<{
  number: number
  own: string[]
  inner: string
}> {
  const { work } = fx
  const number = standIn.nextNumber(fx.fullName)
  await git(work, 'fetch', '--quiet', 'origin')
  await git(work, 'checkout', '--quiet', '-B', 'main', 'origin/main')
  await git(work, 'checkout', '--quiet', '-B', `feature/${number}`)
  await writeFile(join(work, 'app/one.py'), 'ONE = 1\n')
  await git(work, 'add', 'app/one.py')
  await git(work, 'commit', '--quiet', '-m', 'First half')
  const first = await git(work, 'rev-parse', 'HEAD')
  await git(work, 'checkout', '--quiet', 'main')
  await writeFile(join(work, 'app/mainline.py'), 'MAIN = 1\n')
  await git(work, 'add', 'app/mainline.py')
  await git(work, 'commit', '--quiet', '-m', 'Meanwhile on main')
  const mainTip = await git(work, 'rev-parse', 'HEAD')
  await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main')
  await git(work, 'checkout', '--quiet', `feature/${number}`)
  await git(work, 'merge', '--quiet', '--no-ff', '-m', 'Merge main', 'main')
  const inner = await git(work, 'rev-parse', 'HEAD')
  await writeFile(join(work, 'app/two.py'), 'TWO = 2\n')
  await git(work, 'add', 'app/two.py')
  await git(work, 'commit', '--quiet', '-m', 'Second half')
  const head = await git(work, 'rev-parse', 'HEAD')
  await git(work, 'push', '--quiet', 'origin', `HEAD:refs/pull/${number}/head`)
  await git(work, 'checkout', '--quiet', 'main')
  await git(work, 'merge', '--quiet', '--no-ff', '-m', `Merge #${number}`, head)
  await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main')
  const mergeCommitSha = await git(work, 'rev-parse', 'HEAD')
  standIn.addPullRequest(fx.fullName, {
    number,
    title: 'Two halves',
    body: '',
    author: 'erin',
    state: 'closed',
    merged: true,
    mergeCommitSha,
    baseRef: 'main',
    // GitHub lists base..head against the current base: main's own commit
    // is not one of the PR's.
    baseSha: mainTip,
    headRef: `feature/${number}`,
    headSha: head,
    labels: ['cherry-pick', 'cherry-pick:release/1.9']
  })
  return { number, own: [first, head], inner }
}

describe('cherry-pick-to-release: merge commits inside a pull request', () => {
  it('leaves a merge of main out with a note, or picks it with -m 1 when asked', async () => {
    const pr = await mergeWithMainInside()
    const skipped = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      { 'release-branch-pattern': 'release/1.10' }
    )
    // release/1.9 is outside this pattern: refused; release/1.10 is picked.
    const entries = results(skipped)
    expect(entries.find((e) => e.target === 'release/1.10')?.result).toBe(
      'picked'
    )
    const log = (await branchLog(fx, 'release/1.10', 3)).join('\n')
    for (const sha of pr.own) expect(log).toContain(trailer(sha))
    expect(log).not.toContain(trailer(pr.inner))
    await expect(
      fileAt(fx, 'release/1.10', 'app/mainline.py')
    ).rejects.toThrow()
    const note = standIn.comments(fx.fullName, pr.number)[0].body
    expect(note).toContain(
      'Merge commits inside the pull request were left out'
    )
    expect(note).toContain(pr.inner.slice(0, 12))

    const picked = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'cherry-pick:release/1.9' }
      }),
      { 'merge-commits-in-pr': 'pick' }
    )
    expect(picked.outputs.result).toBe('picked')
    const log19 = (await branchLog(fx, 'release/1.9', 3)).join('\n')
    expect(log19).toContain(trailer(pr.inner))
    expect(await fileAt(fx, 'release/1.9', 'app/mainline.py')).toBe('MAIN = 1')
  })
})

describe('cherry-pick-to-release: the hotfix lane', () => {
  it('dispatches staging for a hotfix pick, waits for that run, and posts the production link', async () => {
    standIn.scriptDispatchedRuns(fx.fullName, 'staging.yml', {
      polls: 2,
      conclusion: 'success'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Stop the bleeding',
      labels: ['cherry-pick', 'hotfix'],
      commits: [{ file: 'app/hot.py', content: 'HOT = 1\n', message: 'hot' }]
    })
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      { 'dispatch-workflow': 'staging.yml', 'staging-poll-interval': '1s' }
    )
    expect(result.outputs.result).toBe('picked')
    const dispatches = standIn.dispatches(fx.fullName)
    // Once, by the hotfix lane, on the current release branch.
    expect(dispatches).toHaveLength(1)
    expect(dispatches[0]).toMatchObject({
      workflow: 'staging.yml',
      ref: 'release/1.10'
    })
    const runId = dispatches[0].runId
    expect(result.outputs['staging-run-id']).toBe(String(runId))
    expect(result.outputs['staging-result']).toBe('healthy')
    // The run was followed until it completed (queued, in progress, done).
    const reads = standIn.log.filter(
      (entry) => entry.path === `/repos/${fx.fullName}/actions/runs/${runId}`
    )
    expect(reads).toHaveLength(3)
    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(2)
    expect(comments[1].body).toContain(
      'https://github.com/acme/monolith/actions/workflows/production.yml'
    )
    expect(comments[1].body).toContain(`staging-run-id=${runId}`)
  })

  it('says so, and posts no production link, when staging fails', async () => {
    standIn.scriptDispatchedRuns(fx.fullName, 'staging.yml', {
      polls: 1,
      conclusion: 'failure'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Hot but broken',
      labels: ['cherry-pick', 'hotfix'],
      commits: [{ file: 'app/hb.py', content: 'HB = 1\n', message: 'hb' }]
    })
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      { 'dispatch-workflow': 'staging.yml', 'staging-poll-interval': '1s' }
    )
    expect(result.outputs['staging-result']).toBe('unhealthy')
    const [, hotfix] = standIn.comments(fx.fullName, pr.number)
    expect(hotfix.body).toContain('failure')
    expect(hotfix.body).not.toContain('production.yml')
  })

  it('in mode pull-request carries the label to the picked PR, whose merge dispatches staging', async () => {
    standIn.scriptDispatchedRuns(fx.fullName, 'staging.yml', {
      polls: 1,
      conclusion: 'success'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Hot, but reviewed',
      labels: ['cherry-pick', 'cherry-pick:release/1.9', 'hotfix'],
      commits: [{ file: 'app/hr.py', content: 'HR = 1\n', message: 'hr' }]
    })
    const inputs = {
      mode: 'pull-request',
      'dispatch-workflow': 'staging.yml',
      'staging-poll-interval': '1s'
    }
    const picked = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed'),
      inputs
    )
    expect(picked.outputs.result).toBe('picked')
    // Nothing reaches staging before the picked PR is reviewed and merged.
    expect(standIn.dispatches(fx.fullName)).toEqual([])
    const opened = Object.fromEntries(
      results(picked).map((e) => [
        e.target,
        standIn.pull(fx.fullName, Number(e['pull-request']))
      ])
    )
    // Only the pick onto the current release branch is a hotfix.
    expect(opened['release/1.10'].labels).toContain('hotfix')
    expect(opened['release/1.9'].labels).not.toContain('hotfix')
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      'once it is merged into `release/1.10`, staging is dispatched there'
    )

    // A release engineer merges the picked PR into the release branch.
    const number = opened['release/1.10'].number
    const merge = await fetch(
      `${standIn.url}/repos/${fx.fullName}/pulls/${number}/merge`,
      { method: 'PUT', body: JSON.stringify({ merge_method: 'merge' }) }
    )
    expect(merge.status).toBe(200)
    const mergeSha = await git(fx.bare, 'rev-parse', 'refs/heads/release/1.10')
    const staged = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, number, 'closed'),
      inputs
    )
    expect(staged.exitCode).toBe(0)
    expect(staged.outputs.result).toBe('skipped')
    const dispatches = standIn.dispatches(fx.fullName)
    expect(dispatches).toHaveLength(1)
    expect(dispatches[0]).toMatchObject({
      workflow: 'staging.yml',
      ref: 'release/1.10'
    })
    const runId = dispatches[0].runId
    const run = (await (
      await fetch(`${standIn.url}/repos/${fx.fullName}/actions/runs/${runId}`)
    ).json()) as { head_sha: string }
    expect(run.head_sha).toBe(mergeSha)
    expect(staged.outputs['staging-run-id']).toBe(String(runId))
    expect(staged.outputs['staging-result']).toBe('healthy')
    const [told] = standIn.comments(fx.fullName, number)
    expect(told.body).toContain(`staging-run-id=${runId}`)
    expect(staged.summary).toContain(
      `Hotfix #${number} merged into release/1.10`
    )

    // The same merge into an older release branch stages nothing.
    standIn.addLabel(
      fx.fullName,
      opened['release/1.9'].number,
      'hotfix',
      'octocat'
    )
    await fetch(
      `${standIn.url}/repos/${fx.fullName}/pulls/${opened['release/1.9'].number}/merge`,
      { method: 'PUT', body: '{}' }
    )
    const older = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(
        fx.fullName,
        opened['release/1.9'].number,
        'closed'
      ),
      inputs
    )
    expect(older.outputs['staging-result']).toBe('not-dispatched')
    expect(standIn.dispatches(fx.fullName)).toHaveLength(1)
    expect(
      standIn.comments(fx.fullName, opened['release/1.9'].number)[0].body
    ).toContain('not the current release branch')
  })
})
