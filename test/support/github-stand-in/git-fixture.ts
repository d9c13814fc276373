import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { GitHubStandIn, PullState } from './server.js'

const exec = promisify(execFile)

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Dev Eloper',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev Eloper',
  GIT_COMMITTER_EMAIL: 'dev@example.com'
}

/** Runs git in `dir` with a fixed identity; returns trimmed stdout. */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, ...IDENTITY },
    maxBuffer: 64 << 20
  })
  return stdout.trim()
}

/** A real origin (bare, filters allowed), a working clone, and its stand-in. */
export interface GitFixture {
  root: string
  bare: string
  work: string
  /** file:// URL of the bare repository: the action's `repository-url`. */
  url: string
  fullName: string
  standIn: GitHubStandIn
}

/** One commit of a fixture PR: a whole file's new content. */
export interface FileCommit {
  file: string
  content: string
  message: string
}

async function writeAndCommit(work: string, change: FileCommit): Promise<void> {
  const path = join(work, change.file)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, change.content)
  await git(work, 'add', '--', change.file)
  await git(work, 'commit', '--quiet', '-m', change.message)
}

/**
 * A small Django-shaped monolith with `main`, release branches cut from an
 * earlier main, and a bare origin that allows partial fetch, registered as
 * `acme/monolith` with the stand-in.
 */
export async function createGitFixture(
  standIn: GitHubStandIn,
  releaseBranches: readonly string[] = ['release/1.9', 'release/1.10']
): Promise<GitFixture> {
  const root = await mkdtemp(join(tmpdir(), 'ert-cherry-'))
  const work = join(root, 'work')
  const bare = join(root, 'origin.git')
  await mkdir(work)
  await git(work, 'init', '--quiet', '--initial-branch=main')
  await writeAndCommit(work, {
    file: 'app/views.py',
    content: 'def index():\n    return "hello"\n',
    message: 'Add index view'
  })
  await writeAndCommit(work, {
    file: 'app/settings.py',
    content: 'DEBUG = False\nTIMEOUT = 30\n',
    message: 'Add settings'
  })
  for (const branch of releaseBranches) await git(work, 'branch', branch)
  await writeAndCommit(work, {
    file: 'app/models.py',
    content: 'class Order:\n    pass\n',
    message: 'Add Order model'
  })
  await git(root, 'init', '--quiet', '--bare', bare)
  await git(bare, 'config', 'uploadpack.allowFilter', 'true')
  await git(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true')
  await git(work, 'remote', 'add', 'origin', bare)
  await git(work, 'push', '--quiet', 'origin', '--all')
  const fullName = 'acme/monolith'
  standIn.addRepository(fullName, bare)
  // octocat sends the fixture's events and adds its labels: a maintainer.
  standIn.setPermission(fullName, 'octocat', 'write')
  return { root, bare, work, url: `file://${bare}`, fullName, standIn }
}

/** Removes the fixture's directories. */
export async function removeGitFixture(fixture: GitFixture): Promise<void> {
  await rm(fixture.root, { recursive: true, force: true })
}

/** Commits straight onto a branch of origin (another change on a release). */
export async function commitToBranch(
  fixture: GitFixture,
  branch: string,
  change: FileCommit
): Promise<string> {
  const { work } = fixture
  await git(work, 'fetch', '--quiet', 'origin')
  await git(work, 'checkout', '--quiet', '-B', branch, `origin/${branch}`)
  await writeAndCommit(work, change)
  await git(work, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`)
  const sha = await git(work, 'rev-parse', 'HEAD')
  await git(work, 'checkout', '--quiet', 'main')
  return sha
}

/** What a fixture pull request looks like. */
export interface PullSpec {
  title: string
  commits: readonly FileCommit[]
  labels?: string[]
  /** Who added `labels` (default octocat, who has write access). */
  labeledBy?: string
  author?: string
  body?: string
}

async function pushPullBranch(
  fixture: GitFixture,
  number: number,
  spec: PullSpec
): Promise<{ headRef: string; headSha: string; baseSha: string }> {
  const { work } = fixture
  await git(work, 'fetch', '--quiet', 'origin')
  await git(work, 'checkout', '--quiet', '-B', 'main', 'origin/main')
  const baseSha = await git(work, 'rev-parse', 'HEAD')
  const headRef = `feature/${number}`
  await git(work, 'checkout', '--quiet', '-B', headRef)
  for (const change of spec.commits) await writeAndCommit(work, change)
  const headSha = await git(work, 'rev-parse', 'HEAD')
  await git(
    work,
    'push',
    '--quiet',
    'origin',
    `HEAD:refs/heads/${headRef}`,
    `HEAD:refs/pull/${number}/head`
  )
  await git(work, 'checkout', '--quiet', 'main')
  return { headRef, headSha, baseSha }
}

/** Opens (does not merge) a pull request. */
export async function openPullRequest(
  fixture: GitFixture,
  spec: PullSpec
): Promise<PullState> {
  const number = fixture.standIn.nextNumber(fixture.fullName)
  const branch = await pushPullBranch(fixture, number, spec)
  return fixture.standIn.addPullRequest(
    fixture.fullName,
    {
      number,
      title: spec.title,
      body: spec.body ?? '',
      author: spec.author ?? 'dev-eloper',
      state: 'open',
      merged: false,
      mergeCommitSha: null,
      baseRef: 'main',
      labels: spec.labels ?? [],
      ...branch
    },
    spec.labeledBy
  )
}

/**
 * Opens a pull request and merges it into main the way GitHub would:
 * `squash` (one new commit), `rebase` (the commits replayed with new SHAs)
 * or `merge` (a merge commit). Main gets an unrelated commit first, so
 * replayed commits always get new SHAs, as they do on GitHub.
 */
export async function mergePullRequest(
  fixture: GitFixture,
  method: 'squash' | 'rebase' | 'merge',
  spec: PullSpec
): Promise<PullState> {
  const { work } = fixture
  const number = fixture.standIn.nextNumber(fixture.fullName)
  const branch = await pushPullBranch(fixture, number, spec)
  await writeAndCommit(work, {
    file: `docs/changes-${number}.md`,
    content: `Unrelated work landed while #${number} was open\n`,
    message: `Document changes around #${number}`
  })
  if (method === 'squash') {
    await git(work, 'merge', '--quiet', '--squash', branch.headSha)
    await git(work, 'commit', '--quiet', '-m', `${spec.title} (#${number})`)
  } else if (method === 'rebase') {
    await git(work, 'cherry-pick', `${branch.baseSha}..${branch.headSha}`)
  } else {
    await git(
      work,
      'merge',
      '--quiet',
      '--no-ff',
      '-m',
      `Merge pull request #${number} from acme/${branch.headRef}`,
      branch.headSha
    )
  }
  await git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main')
  const mergeCommitSha = await git(work, 'rev-parse', 'HEAD')
  return fixture.standIn.addPullRequest(
    fixture.fullName,
    {
      number,
      title: spec.title,
      body: spec.body ?? '',
      author: spec.author ?? 'dev-eloper',
      state: 'closed',
      merged: true,
      mergeCommitSha,
      baseRef: 'main',
      labels: spec.labels ?? [],
      ...branch
    },
    spec.labeledBy
  )
}

/** Subjects and bodies of the last `count` commits of an origin branch. */
export async function branchLog(
  fixture: GitFixture,
  branch: string,
  count = 20
): Promise<string[]> {
  const out = await git(
    fixture.bare,
    'log',
    `--max-count=${count}`,
    '--format=%H%x00%B%x1e',
    `refs/heads/${branch}`
  )
  return out
    .split('\x1e')
    .map((record) => record.trim())
    .filter(Boolean)
}

/** A file's content on an origin branch. */
export async function fileAt(
  fixture: GitFixture,
  branch: string,
  file: string
): Promise<string> {
  return git(fixture.bare, 'show', `refs/heads/${branch}:${file}`)
}
