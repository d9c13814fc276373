import { writeFile } from 'node:fs/promises'
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
 * Makes an empty repository that talks to origin, with an empty sparse
 * checkout: a pick then only fetches and writes the blobs it touches, which
 * is what keeps it cheap on a large monolith.
 */
export async function initRepository(
  git: Git,
  remote: RemoteOptions
): Promise<void> {
  await git.run(['init', '--quiet'])
  await git.run(['remote', 'add', 'origin', remote.url])
  await git.run(['config', 'user.name', remote.committer.name])
  await git.run(['config', 'user.email', remote.committer.email])
  await git.run(['config', 'core.sparseCheckout', 'true'])
  // A pattern that matches nothing: only conflicted files reach the disk.
  await git.run(['config', 'core.sparseCheckoutCone', 'false'])
  await writeFile(
    join(git.dir, '.git', 'info', 'sparse-checkout'),
    '/.cherry-pick-sparse-nothing\n'
  )
  if (remote.token && /^https?:/i.test(remote.url)) {
    const origin = new URL(remote.url)
    await git.run([
      'config',
      `http.${origin.protocol}//${origin.host}/.extraheader`,
      basicAuthHeader(remote.token)
    ])
  }
}

/**
 * Fetches a branch's tip and `depth - 1` ancestors, trees but no blobs, into
 * `refs/remotes/origin/<branch>`. Returns the tip's SHA.
 */
export async function fetchBranch(
  git: Git,
  branch: string,
  depth: number
): Promise<string> {
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
  return (await git.run(['rev-parse', `refs/remotes/origin/${branch}`])).trim()
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
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) {
    throw new Error(`"${sha}" is not a full commit SHA`)
  }
  await git.run([
    'fetch',
    '--quiet',
    '--no-tags',
    '--filter=blob:none',
    `--depth=${Math.max(1, depth)}`,
    '--end-of-options',
    'origin',
    sha
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

/** Messages of the last `count` commits of `ref` (all parents, newest first). */
export async function recentMessages(
  git: Git,
  ref: string,
  count: number
): Promise<string[]> {
  const out = await git.run([
    'log',
    `--max-count=${count}`,
    '--format=%B%x1e',
    ref
  ])
  return out
    .split('\x1e')
    .map((message) => message.trim())
    .filter(Boolean)
}
