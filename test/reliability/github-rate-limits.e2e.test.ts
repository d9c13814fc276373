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
import {
  createGitFixture,
  git,
  mergePullRequest,
  removeGitFixture,
  type GitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import { messages, runAction } from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'

/**
 * The two actions that write to GitHub, built, against a stand-in that
 * answers secondary rate limits (403 + retry-after) and 5xx bursts: each
 * write lands exactly once, and a limit that never lifts ends in an error
 * naming the request.
 */
jest.setTimeout(60_000)

let standIn: GitHubStandIn
let fx: GitFixture

beforeAll(async () => {
  for (const action of ['cherry-pick-to-release', 'notify-release']) {
    ensureBundle(action)
  }
  standIn = await GitHubStandIn.start()
})
afterAll(async () => standIn.close())
let logStart = 0
beforeEach(async () => {
  fx = await createGitFixture(standIn)
  logStart = standIn.log.length
})
afterEach(async () => {
  standIn.clearFaults()
  await removeGitFixture(fx)
})

const COMMENTS = '/issues/\\d+/comments$'

async function mergedPick(title: string) {
  const pr = await mergePullRequest(fx, 'squash', {
    title,
    labels: ['cherry-pick'],
    commits: [
      { file: `app/${title.length}.py`, content: 'X = 1\n', message: title }
    ]
  })
  const event = await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed')
  return { pr, event }
}

function pick(event: unknown, inputs: Record<string, string> = {}) {
  return runAction({
    action: 'cherry-pick-to-release',
    eventName: 'pull_request_target',
    event,
    inputs: { token: 'ghs_github_token', 'repository-url': fx.url, ...inputs },
    env: { GITHUB_API_URL: standIn.url, GITHUB_REPOSITORY: fx.fullName },
    timeoutMs: 60_000
  })
}

function requestsTo(method: string, path: string): number {
  return standIn.log
    .slice(logStart)
    .filter((r) => r.method === method && new RegExp(path).test(r.path)).length
}

describe('GitHub rate limits and 5xx', () => {
  it('cherry-pick: a secondary rate limit on the comment waits retry-after and comments once', async () => {
    const { pr, event } = await mergedPick('Rate limited comment')
    standIn.failNext({
      method: 'POST',
      path: COMMENTS,
      kind: 'secondary-rate-limit',
      retryAfter: 1
    })
    const result = await pick(event)
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('picked')
    expect(standIn.comments(fx.fullName, pr.number)).toHaveLength(1)
    expect(requestsTo('POST', COMMENTS)).toBe(2)
    expect(messages(result, 'warning').join('\n')).toContain(
      'GitHub secondary rate limit on POST /repos/{owner}/{repo}/issues/{issue_number}/comments: retrying in 1s'
    )
  })

  it('cherry-pick: a secondary rate limit on PR creation opens exactly one PR', async () => {
    const { pr, event } = await mergedPick('Rate limited PR')
    standIn.failNext({
      method: 'POST',
      path: '/pulls$',
      kind: 'secondary-rate-limit',
      retryAfter: 1
    })
    const result = await pick(event, { mode: 'pull-request' })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.result).toBe('picked')
    const opened = standIn
      .pulls(fx.fullName)
      .filter((p) => p.headRef === `cherry-pick/${pr.number}-to-release/1.10`)
    expect(opened).toHaveLength(1)
    expect(result.outputs['pull-request']).toBe(String(opened[0].number))
    expect(requestsTo('POST', '/pulls$')).toBe(2)
  })

  it('cherry-pick: a burst of 502s on the comment is retried and comments once', async () => {
    const { pr, event } = await mergedPick('Server errors')
    standIn.failNext({
      method: 'POST',
      path: COMMENTS,
      kind: 'server-error',
      count: 2
    })
    const result = await pick(event)
    expect(result.exitCode).toBe(0)
    expect(standIn.comments(fx.fullName, pr.number)).toHaveLength(1)
    expect(requestsTo('POST', COMMENTS)).toBe(3)
  })

  it('cherry-pick: a rate limit that never lifts ends after 4 tries in an error naming the request', async () => {
    const { pr, event } = await mergedPick('Never lifts')
    standIn.failNext({
      method: 'POST',
      path: COMMENTS,
      kind: 'secondary-rate-limit',
      count: 100,
      retryAfter: 1
    })
    const result = await pick(event)
    expect(requestsTo('POST', COMMENTS)).toBe(4)
    expect(standIn.comments(fx.fullName, pr.number)).toHaveLength(0)
    expect(result.output).toContain(
      'GitHub POST /repos/{owner}/{repo}/issues/{issue_number}/comments failed (403): You have exceeded a secondary rate limit'
    )
  })

  it('notify-release: a secondary rate limit on one comment still comments on every PR once', async () => {
    const before = await git(fx.bare, 'rev-parse', 'refs/heads/main')
    const a = await mergePullRequest(fx, 'squash', {
      title: 'First',
      commits: [{ file: 'app/a.py', content: 'A = 1\n', message: 'a' }]
    })
    const b = await mergePullRequest(fx, 'squash', {
      title: 'Second',
      commits: [{ file: 'app/b.py', content: 'B = 1\n', message: 'b' }]
    })
    const after = await git(fx.bare, 'rev-parse', 'refs/heads/main')
    standIn.failNext({
      method: 'POST',
      path: COMMENTS,
      kind: 'secondary-rate-limit',
      retryAfter: 1
    })
    const result = await runAction({
      action: 'notify-release',
      inputs: {
        token: 'ghs_test',
        image: 'registry.example/monolith@sha256:' + 'a'.repeat(64),
        environment: 'staging',
        commit: after,
        'previous-commit': before
      },
      env: { GITHUB_API_URL: standIn.url, GITHUB_REPOSITORY: fx.fullName }
    })
    expect(messages(result, 'error')).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.commented)).toEqual([a.number, b.number])
    expect(standIn.comments(fx.fullName, a.number)).toHaveLength(1)
    expect(standIn.comments(fx.fullName, b.number)).toHaveLength(1)
    expect(requestsTo('POST', COMMENTS)).toBe(3)
  })
})
