import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Git } from './git.js'

/** Who commits: the cherry-picks keep their authors, the committer is this. */
export interface Identity {
  name: string
  email: string
}

/** How to reach origin. */
export interface RemoteOptions {
  url: string
  /** Sent as `Authorization` to an http(s) origin; never put in the URL. */
  token?: string
  committer: Identity
}

/** The `AUTHORIZATION` header value git sends for a token, as GitHub expects. */
export function basicAuthHeader(token: string): string {
  const encoded = Buffer.from(`x-access-token:${token}`).toString('base64')
  return `AUTHORIZATION: basic ${encoded}`
}

/**
 * Makes an empty bare repository that talks to origin: picks are made with
 * merge-tree and commit-tree, so there is no worktree or index to write, and
 * only blobs a content merge needs are ever fetched.
 */
export async function initRepository(
  git: Git,
  remote: RemoteOptions
): Promise<void> {
  // No template: its sample hooks and files are copied for nothing.
  await git.run(['init', '--quiet', '--bare', '--template='])
  // One write instead of a git process per setting: each costs a process
  // start, which adds up on a busy runner.
  const settings: [string, string, string][] = [
    ['remote "origin"', 'url', remote.url],
    ['remote "origin"', 'fetch', '+refs/heads/*:refs/remotes/origin/*'],
    ['user', 'name', remote.committer.name],
    ['user', 'email', remote.committer.email],
    // A throwaway repository: no flush to disk, no housekeeping after a
    // fetch or a commit (each a process, and fsync is slow on a busy disk).
    ['core', 'fsync', 'none'],
    ['maintenance', 'auto', 'false'],
    ['gc', 'auto', '0']
  ]
  if (remote.token && /^https?:/i.test(remote.url)) {
    const origin = new URL(remote.url)
    settings.push([
      `http "${origin.protocol}//${origin.host}/"`,
      'extraheader',
      basicAuthHeader(remote.token)
    ])
  }
  await appendFile(
    join(git.dir, 'config'),
    settings
      .map(
        ([section, key, value]) =>
          `[${section}]\n\t${key} = ${configValue(value)}\n`
      )
      .join('')
  )
}

/** A value as git's config syntax reads it back unchanged. */
export function configValue(value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new Error(
      `a git config value cannot hold a line break: ${JSON.stringify(value)}`
    )
  }
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/**
 * Fetches a branch's tip and `depth - 1` ancestors, trees but no blobs, into
 * `refs/remotes/origin/<branch>`.
 */
export async function fetchBranch(
  git: Git,
  branch: string,
  depth: number
): Promise<void> {
  await git.run([
    'fetch',
    '--quiet',
    '--no-tags',
    '--filter=blob:none',
    `--depth=${Math.max(1, depth)}`,
    '--end-of-options',
    'origin',
    `+refs/heads/${branch}:refs/remotes/origin/${branch}`
  ])
}

/**
 * Fetches one commit by SHA with `depth - 1` generations of ancestors
 * (a pick needs at least the parent: depth 2). Blobs come later, on demand.
 */
export async function fetchCommit(
  git: Git,
  sha: string,
  depth: number
): Promise<void> {
  await fetchCommitAndBranches(git, sha, depth, [], 1)
}

/**
 * One fetch for a whole run: the commit to pick with `commitDepth - 1`
 * ancestors and every target branch with `branchDepth - 1`, trees but no
 * blobs. Each fetch costs the server a fixed pack-objects set-up, which on a
 * large monolith outweighs the few hundred extra trees of a shared depth.
 */
export async function fetchCommitAndBranches(
  git: Git,
  sha: string,
  commitDepth: number,
  branches: readonly string[],
  branchDepth: number
): Promise<void> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) {
    throw new Error(`"${sha}" is not a full commit SHA`)
  }
  await git.run([
    'fetch',
    '--quiet',
    '--no-tags',
    '--filter=blob:none',
    `--depth=${Math.max(1, commitDepth, branches.length ? branchDepth : 1)}`,
    '--end-of-options',
    'origin',
    sha,
    ...branches.map(
      (branch) => `+refs/heads/${branch}:refs/remotes/origin/${branch}`
    )
  ])
}

/** One commit as read from the local object store. */
export interface LocalCommit {
  sha: string
  parents: string[]
  message: string
}

/**
 * The first-parent history from `ref`, newest first, at most `count`
 * commits. Stops early at a shallow boundary.
 */
export async function firstParentLog(
  git: Git,
  ref: string,
  count: number
): Promise<LocalCommit[]> {
  const out = await git.run([
    'log',
    '--first-parent',
    `--max-count=${count}`,
    '--format=%H%x00%P%x00%B%x1e',
    ref
  ])
  return parseLog(out)
}

/** Parses `%H%x00%P%x00%B%x1e` records. */
export function parseLog(out: string): LocalCommit[] {
  return out
    .split('\x1e')
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.includes('\x00'))
    .map((record) => {
      const [sha, parents, message] = record.split('\x00')
      return {
        sha: sha.trim(),
        parents: parents.trim() ? parents.trim().split(' ') : [],
        message: message.trimEnd()
      }
    })
}

/** A fetched branch: its tip, the tip's tree, and recent messages. */
export interface BranchState {
  sha: string
  tree: string
  /** Messages of the last `count` commits (all parents, newest first). */
  messages: string[]
}

/** Reads a fetched branch's tip and recent history in one git process. */
export async function readBranch(
  git: Git,
  ref: string,
  count: number
): Promise<BranchState> {
  const out = await git.run([
    'log',
    `--max-count=${Math.max(1, count)}`,
    '--format=%x01%H%x00%T%x00%B',
    ref
  ])
  const records = out
    .split('\x01')
    .slice(1)
    .map((record) => record.split('\x00'))
  const [sha = '', tree = ''] = records[0] ?? []
  return {
    sha: sha.trim(),
    tree: tree.trim(),
    messages: records.map((record) => (record[2] ?? '').trim())
  }
}
