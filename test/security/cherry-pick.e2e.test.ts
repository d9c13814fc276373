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
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ActionResult, runAction } from '../support/runner-harness.js'
import {
  commitToBranch,
  createGitFixture,
  git,
  GitFixture,
  mergePullRequest,
  removeGitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import { ensureBundle } from '../support/bundle.js'

// Issue #12, items 8-10: who may ask for a pick, which branches a pick may
// reach, and commands that stay text when pasted. Each case runs the built
// bundle with real git against the GitHub stand-in.

const exec = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
const bundle = join(root, 'dist/cherry-pick-to-release/index.js')

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

async function pick(eventName: string, event: unknown): Promise<ActionResult> {
  return runAction({
    bundle,
    eventName,
    event,
    inputs: { token: 'ghs_github_token', 'repository-url': fx.url },
    env: { GITHUB_API_URL: standIn.url, GITHUB_REPOSITORY: fx.fullName },
    timeoutMs: 60_000
  })
}

async function tips(): Promise<string> {
  return git(fx.bare, 'for-each-ref', '--format=%(refname) %(objectname)')
}

const fix = {
  file: 'app/fix.py',
  content: 'FIX = 1\n',
  message: 'fix'
}

describe('cherry-pick security: a label is a request, not an authorisation', () => {
  it("does not pick on a triage user's label; one comment says who may ask", async () => {
    standIn.setPermission(fx.fullName, 'triager', 'triage')
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Fix',
      commits: [fix]
    })
    const before = await tips()
    standIn.addLabel(fx.fullName, pr.number, 'cherry-pick', 'triager')
    const labeled = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'labeled', {
        label: { name: 'cherry-pick' },
        sender: { login: 'triager', type: 'User' }
      })
    )
    expect(labeled.outputs.result).not.toBe('picked')
    expect(await tips()).toBe(before)
    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('@triager')
    expect(comments[0].body).toContain('write access')
    // The permission API was asked about the sender.
    expect(
      standIn.log.some((entry) =>
        entry.path.endsWith('/collaborators/triager/permission')
      )
    ).toBe(true)
  })

  it('does not pick at merge on a label a triage user added before the merge', async () => {
    standIn.setPermission(fx.fullName, 'triager', 'triage')
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Fix',
      labels: ['cherry-pick'],
      labeledBy: 'triager',
      commits: [fix]
    })
    const before = await tips()
    // The maintainer who merges is not the one who asked.
    const merged = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed')
    )
    expect(merged.outputs.result).not.toBe('picked')
    expect(await tips()).toBe(before)
    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('@triager')
  })
})

describe('cherry-pick security: explicit targets stay inside the release pattern', () => {
  it('refuses a cherry-pick:production label, naming the pattern', async () => {
    await git(
      fx.work,
      'push',
      '--quiet',
      'origin',
      'main:refs/heads/production'
    )
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Straight to prod',
      labels: ['cherry-pick:production'],
      commits: [fix]
    })
    const before = await tips()
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed')
    )
    expect(result.outputs.result).toBe('failed')
    expect(await tips()).toBe(before)
    const comments = standIn.comments(fx.fullName, pr.number)
    expect(comments).toHaveLength(1)
    expect(comments[0].body).toContain('`production`')
    expect(comments[0].body).toContain('`release/*`')
  })

  it('refuses /cherry-pick to a branch outside the pattern from a writer too', async () => {
    await git(
      fx.work,
      'push',
      '--quiet',
      'origin',
      'main:refs/heads/production'
    )
    standIn.setPermission(fx.fullName, 'maintainer', 'maintain')
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Via comment',
      commits: [fix]
    })
    const before = await tips()
    const result = await pick(
      'issue_comment',
      standIn.issueCommentEvent(
        fx.fullName,
        pr.number,
        '/cherry-pick production',
        'maintainer'
      )
    )
    expect(result.outputs.result).toBe('failed')
    expect(await tips()).toBe(before)
    expect(standIn.comments(fx.fullName, pr.number)[0].body).toContain(
      '`release/*`'
    )
  })
})

describe('cherry-pick security: pasted commands stay text', () => {
  it('quotes a release branch named with $(...) so the pasted commands do not run it', async () => {
    const hostile = 'release/$(touch${IFS}pwned)'
    await git(
      fx.work,
      'push',
      '--quiet',
      'origin',
      `main~1:refs/heads/${hostile}`
    )
    await commitToBranch(fx, hostile, {
      file: 'app/settings.py',
      content: 'DEBUG = False\nTIMEOUT = 60\n',
      message: 'Raise timeout on the release'
    })
    const pr = await mergePullRequest(fx, 'squash', {
      title: 'Tune timeout',
      labels: [`cherry-pick:${hostile}`],
      commits: [
        {
          file: 'app/settings.py',
          content: 'DEBUG = False\nTIMEOUT = 90\n',
          message: 'timeout'
        }
      ]
    })
    const result = await pick(
      'pull_request_target',
      await standIn.pullRequestEvent(fx.fullName, pr.number, 'closed')
    )
    expect(result.outputs.result).toBe('conflict')
    const [comment] = standIn.comments(fx.fullName, pr.number)
    const block = /```sh\n([\s\S]*?)```/.exec(comment.body)?.[1] ?? ''
    // The lines up to the pick, pasted into a shell in a clone of origin.
    const pasted = block
      .split('\n')
      .filter((line) => /^git (fetch|switch|cherry-pick -x)/.test(line))
      .join('\n')
    expect(pasted.split('\n')).toHaveLength(3)
    const dir = await mkdtemp(join(tmpdir(), 'ert-paste-'))
    try {
      await exec('git', ['clone', '--quiet', fx.bare, join(dir, 'clone')])
      const clone = join(dir, 'clone')
      const shell = await exec('sh', ['-c', `${pasted} || true`], {
        cwd: clone,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Dev',
          GIT_AUTHOR_EMAIL: 'dev@example.com',
          GIT_COMMITTER_NAME: 'Dev',
          GIT_COMMITTER_EMAIL: 'dev@example.com'
        }
      })
      expect(await readdir(clone)).not.toContain('pwned')
      expect(comment.body).toContain(`'${hostile}'`)
      expect(shell.stderr).not.toContain('not a valid branch name')
      // The commands did what they say: a branch from the hostile release, mid-pick.
      expect(await git(clone, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(
        `cherry-pick/${pr.number}-to-${hostile}`
      )
      expect(await git(clone, 'status', '--porcelain')).toContain(
        'app/settings.py'
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
