import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createGitFixture,
  git,
  mergePullRequest,
  removeGitFixture,
  type GitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import { messages, runAction } from '../support/runner-harness.js'

// notify-release's built bundle against the GitHub stand-in and real git:
// which PRs a deploy brought, including ones that arrived by cherry-pick.
// Each test runs the bundle in a child process; a loaded machine needs more
// than the 5 s default.
jest.setTimeout(60_000)

let standIn: GitHubStandIn
let fixture: GitFixture
let slack: Server
let slackUrl: string
const slackMessages: string[] = []

const IMAGE = 'registry.example/monolith@sha256:' + 'a'.repeat(64)

function notify(
  inputs: Record<string, string>,
  env: Record<string, string> = {}
) {
  return runAction({
    action: 'notify-release',
    inputs: { token: 'ghs_test', image: IMAGE, ...inputs },
    env: {
      GITHUB_API_URL: standIn.url,
      GITHUB_REPOSITORY: fixture.fullName,
      GITHUB_RUN_ID: '777',
      ...env
    }
  })
}

beforeAll(async () => {
  standIn = await GitHubStandIn.start()
  fixture = await createGitFixture(standIn, ['release/1.10'])
  slack = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => (body += chunk.toString()))
    req.on('end', () => {
      slackMessages.push((JSON.parse(body) as { text: string }).text)
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve))
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`
})

afterAll(async () => {
  await standIn.close()
  await removeGitFixture(fixture)
  await new Promise<void>((resolve) => slack.close(() => resolve()))
})

describe('notify-release', () => {
  it('comments on each PR merged between two deploys, once, and posts to Slack', async () => {
    const before = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    const squash = await mergePullRequest(fixture, 'squash', {
      title: 'Faster order export',
      commits: [
        {
          file: 'app/export.py',
          content: 'FAST = True\n',
          message: 'Export faster'
        }
      ]
    })
    const rebase = await mergePullRequest(fixture, 'rebase', {
      title: 'Order model fields',
      author: 'other-dev',
      commits: [
        {
          file: 'app/models.py',
          content: 'class Order:\n    total = 0\n',
          message: 'Add total'
        },
        {
          file: 'app/models.py',
          content: 'class Order:\n    total = 1\n',
          message: 'Default total'
        }
      ]
    })
    const after = await git(fixture.bare, 'rev-parse', 'refs/heads/main')

    const first = await notify({
      environment: 'staging',
      commit: after,
      'previous-commit': before,
      'slack-webhook-url': slackUrl
    })
    expect(first.exitCode).toBe(0)
    expect(JSON.parse(first.outputs['pull-requests'])).toEqual([
      squash.number,
      rebase.number
    ])
    expect(JSON.parse(first.outputs.commented)).toEqual([
      squash.number,
      rebase.number
    ])
    expect(first.outputs.slack).toBe('sent')
    const comment = standIn.comments(fixture.fullName, squash.number)[0].body
    expect(comment).toContain(`Live on staging: \`${IMAGE}\``)
    expect(comment).toContain('/actions/runs/777')
    expect(slackMessages.at(-1)).toContain(
      `#${rebase.number} Order model fields (other-dev)`
    )
    expect(first.summary).toContain('Faster order export')

    const again = await notify({
      environment: 'staging',
      commit: after,
      'previous-commit': before
    })
    expect(again.exitCode).toBe(0)
    expect(JSON.parse(again.outputs.commented)).toEqual([])
    expect(again.outputs.slack).toBe('skipped')
    expect(standIn.comments(fixture.fullName, squash.number)).toHaveLength(1)
  })

  it('posts a hostile pull request title to Slack as literal text', async () => {
    const hostile =
      '<!channel> urgent <https://evil.example/login|release notes> & more'
    const before = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    const pr = await mergePullRequest(fixture, 'squash', {
      title: hostile,
      commits: [
        { file: 'app/banner.py', content: 'BANNER = 1\n', message: 'Banner' }
      ]
    })
    const after = await git(fixture.bare, 'rev-parse', 'refs/heads/main')

    const result = await notify({
      environment: 'staging',
      commit: after,
      'previous-commit': before,
      'slack-webhook-url': slackUrl,
      'comment-on-pull-requests': 'false'
    })
    expect(result.exitCode).toBe(0)
    expect(result.outputs.slack).toBe('sent')
    const text = slackMessages.at(-1) ?? ''
    expect(text).toContain(
      `#${pr.number} &lt;!channel&gt; urgent &lt;https://evil.example/login|release notes&gt; &amp; more`
    )
    expect(text).not.toContain('<!channel>')
    expect(text).not.toContain('<https://evil.example')
  })

  it('finds the original PR of a commit cherry-picked onto the release branch', async () => {
    const pr = await mergePullRequest(fixture, 'squash', {
      title: 'Fix invoice rounding',
      commits: [
        {
          file: 'app/invoice.py',
          content: 'ROUND = 2\n',
          message: 'Round to cents'
        }
      ]
    })
    const { work } = fixture
    await git(work, 'fetch', '--quiet', 'origin')
    await git(
      work,
      'checkout',
      '--quiet',
      '-B',
      'release/1.10',
      'origin/release/1.10'
    )
    const before = await git(work, 'rev-parse', 'HEAD')
    await git(work, 'cherry-pick', '-x', pr.mergeCommitSha ?? '')
    await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/release/1.10')
    const after = await git(work, 'rev-parse', 'HEAD')
    await git(work, 'checkout', '--quiet', 'main')

    const result = await notify({
      environment: 'production',
      commit: after,
      'previous-commit': before
    })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs['pull-requests'])).toEqual([pr.number])
    expect(standIn.comments(fixture.fullName, pr.number)[0].body).toContain(
      'Released to production'
    )
  })

  it('finds every pull request of a 300-commit release (compare is paged)', async () => {
    const before = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    const oldest = await mergePullRequest(fixture, 'squash', {
      title: 'First change of a long release',
      commits: [{ file: 'app/first.py', content: 'A = 1\n', message: 'A' }]
    })
    const { work } = fixture
    await git(work, 'fetch', '--quiet', 'origin')
    await git(work, 'checkout', '--quiet', '-B', 'main', 'origin/main')
    // 298 commits in one git process: a long release without 298 spawns.
    const stream = Array.from(
      { length: 298 },
      (_, i) =>
        `commit refs/heads/main\ncommitter Dev <dev@example.com> ${1_700_000_000 + i} +0000\ndata ${`chore ${i}`.length}\nchore ${i}\n${i === 0 ? 'from refs/heads/main^0\n' : ''}\n`
    ).join('')
    execFileSync('git', ['fast-import', '--quiet'], {
      cwd: work,
      input: stream
    })
    await git(
      work,
      'push',
      '--quiet',
      'origin',
      'refs/heads/main:refs/heads/main'
    )
    const newest = await mergePullRequest(fixture, 'squash', {
      title: 'Last change of a long release',
      commits: [{ file: 'app/last.py', content: 'Z = 1\n', message: 'Z' }]
    })
    const after = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    expect(
      Number(
        await git(fixture.bare, 'rev-list', '--count', `${before}..${after}`)
      )
    ).toBeGreaterThanOrEqual(300)

    const result = await notify({
      environment: 'staging',
      commit: after,
      'previous-commit': before,
      'comment-on-pull-requests': 'false'
    })
    expect(result.exitCode).toBe(0)
    const found = JSON.parse(result.outputs['pull-requests']) as number[]
    expect(found).toContain(oldest.number)
    expect(found).toContain(newest.number)
  }, 180_000)

  it('refuses a commit that is not a SHA before calling GitHub', async () => {
    const calls = standIn.log.length
    const result = await notify({
      environment: 'staging',
      commit: 'main; rm -rf /'
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')[0]).toContain(
      'Input "commit" has "main; rm -rf /"'
    )
    expect(standIn.log.length).toBe(calls)
  })
})
