import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Git } from './git.js'

const TRAILER = /\(cherry picked from commit ([0-9a-f]{7,40})\)/g

/**
 * The source SHAs named by `git cherry-pick -x` trailers in commit messages:
 * what is already on a branch, so labelling twice does not pick twice.
 */
export function cherryPickedSources(messages: readonly string[]): Set<string> {
  const found = new Set<string>()
  for (const message of messages) {
    for (const match of message.matchAll(TRAILER)) found.add(match[1])
  }
  return found
}

/** Whether `sha` (full) is named by any trailer, abbreviated or not. */
export function isAlreadyPicked(sha: string, sources: Set<string>): boolean {
  for (const source of sources) {
    if (sha.startsWith(source) || source.startsWith(sha)) return true
  }
  return false
}

/** A commit landed by the pick: where it came from and what it is now. */
export interface PickedCommit {
  source: string
  sha: string
}

/** Where picks start: a branch's tip and its tree. */
export interface PickBase {
  /** The branch name, used as the "ours" label of conflict markers. */
  branch: string
  sha: string
  tree: string
}

export type PickOutcome =
  | {
      status: 'picked'
      picked: PickedCommit[]
      /** Sources whose change was already on the branch (empty pick). */
      empty: string[]
      /** The last commit made (the base's tip when every pick was empty). */
      head: string
    }
  | {
      status: 'conflict'
      picked: PickedCommit[]
      empty: string[]
      /** The commit that did not apply, and the ones not tried after it. */
      failed: string
      remaining: string[]
      files: string[]
      /** git's own words, its CONFLICT lines among them. */
      message: string
      /** The last clean commit, and the merged tree with conflict markers. */
      head: string
      conflictTree: string
    }

/** Options of one pick. */
export interface PickOptions {
  /** `-m <n>`: pick a merge commit against its n-th parent. */
  mainline?: number
  /** Merge commits among the picks taken with `-m 1`; the rest plainly. */
  mainlineShas?: readonly string[]
}

/** What a pick reads of a source commit. */
interface SourceCommit {
  parents: string[]
  authorName: string
  authorEmail: string
  /** Git's raw date, `<seconds> <zone>`. */
  authorDate: string
  message: string
}

async function readSources(
  git: Git,
  shas: readonly string[]
): Promise<Map<string, SourceCommit>> {
  const out = await git.run([
    'show',
    '-s',
    '--date=raw',
    '--format=%x01%H%x00%P%x00%an%x00%ae%x00%ad%x00%B',
    '--end-of-options',
    ...shas
  ])
  const found = new Map<string, SourceCommit>()
  for (const record of out.split('\x01').slice(1)) {
    const [sha, parents, authorName, authorEmail, authorDate, message] =
      record.split('\x00')
    found.set(sha, {
      parents: parents.trim() ? parents.trim().split(' ') : [],
      authorName,
      authorEmail,
      authorDate,
      message: message.replace(/\n+$/, '')
    })
  }
  return found
}

/**
 * The message `git cherry-pick -x` writes: the source's, then the trailer,
 * in the trailer block when the message already ends with one.
 */
export function pickMessage(message: string, source: string): string {
  const trimmed = message.replace(/\s+$/, '')
  const paragraphs = trimmed.split(/\n[ \t]*\n/)
  const last = paragraphs.length > 1 ? (paragraphs.at(-1) ?? '') : ''
  const trailerBlock =
    last !== '' &&
    last
      .split('\n')
      .every((line) =>
        /^([\w-]+:\s|\(cherry picked from commit [0-9a-f]+\)$)/.test(line)
      )
  const line = `(cherry picked from commit ${source})`
  return `${trimmed}${trailerBlock ? '\n' : '\n\n'}${line}`
}

/** The first parent a pick is made against, as `-m` picks it. */
function pickParent(
  sha: string,
  source: SourceCommit,
  options: PickOptions
): string {
  const mainline =
    options.mainline ?? (options.mainlineShas?.includes(sha) ? 1 : undefined)
  if (source.parents.length > 1 && mainline === undefined) {
    throw new Error(`${sha} is a merge commit but no mainline was given`)
  }
  const parent = source.parents[(mainline ?? 1) - 1]
  if (!parent) {
    throw new Error(
      `${sha} has no parent ${mainline ?? 1} to pick it against (a root commit, or beyond the fetched depth)`
    )
  }
  return parent
}

/**
 * Cherry-picks `shas` onto `base` one by one as `git cherry-pick -x` would
 * (same merge, same author, same trailer), without a worktree or index:
 * `git merge-tree --write-tree` merges from the source's parent and
 * `git commit-tree` makes the commit. Only blobs that need a content merge
 * are fetched, and nothing is checked out. Stops at the first conflict.
 */
export async function cherryPick(
  git: Git,
  base: PickBase,
  shas: readonly string[],
  options: PickOptions = {}
): Promise<PickOutcome> {
  const sources = await readSources(git, shas)
  const picked: PickedCommit[] = []
  const empty: string[] = []
  let head = base.sha
  let tree = base.tree
  for (const [index, sha] of shas.entries()) {
    const source = sources.get(sha)
    if (!source) throw new Error(`${sha} was not fetched`)
    const merged = await mergeOnto(git, base.branch, tree, sha, source, options)
    if (merged.files.length > 0) {
      return {
        status: 'conflict',
        picked,
        empty,
        failed: sha,
        remaining: shas.slice(index + 1),
        files: merged.files,
        message: merged.message,
        head,
        conflictTree: merged.tree
      }
    }
    if (merged.tree === tree) {
      // The change is already on the branch under another SHA.
      empty.push(sha)
      continue
    }
    head = (
      await git.run(
        [
          'commit-tree',
          merged.tree,
          '-p',
          head,
          '-m',
          pickMessage(source.message, sha)
        ],
        {
          GIT_AUTHOR_NAME: source.authorName,
          GIT_AUTHOR_EMAIL: source.authorEmail,
          GIT_AUTHOR_DATE: source.authorDate
        }
      )
    ).trim()
    tree = merged.tree
    picked.push({ source: sha, sha: head })
  }
  return { status: 'picked', picked, empty, head }
}

/**
 * Three-way merge of `ours` (a tree) and the source, from the source's
 * parent: the merge base cherry-pick uses. merge-tree finds the base
 * itself, so "ours" is given as a commit whose parent is that parent.
 */
async function mergeOnto(
  git: Git,
  branch: string,
  ours: string,
  sha: string,
  source: SourceCommit,
  options: PickOptions
): Promise<{ tree: string; files: string[]; message: string }> {
  const parent = pickParent(sha, source, options)
  const carrier = (
    await git.run(['commit-tree', ours, '-p', parent, '-m', 'pick base'])
  ).trim()
  // A ref named after the branch labels "ours" in conflict markers.
  const ref = join(git.dir, 'refs', 'heads', branch)
  await mkdir(dirname(ref), { recursive: true })
  await writeFile(ref, `${carrier}\n`)
  const result = await git.try([
    // Paths as they are, not C-quoted: they go into the comment.
    '-c',
    'core.quotePath=false',
    'merge-tree',
    '--write-tree',
    '--name-only',
    '--messages',
    `refs/heads/${branch}`,
    sha
  ])
  if (result.exitCode > 1) {
    const said = `${result.stderr}\n${result.stdout}`.trim()
    throw new Error(
      /usage|unknown option|write-tree/i.test(said)
        ? `git merge-tree --write-tree is needed (git 2.38 or later): ${said}`
        : `git merge-tree failed for ${sha}: ${said}`
    )
  }
  const [tree = '', ...rest] = result.stdout.split('\n')
  if (result.exitCode === 0)
    return { tree: tree.trim(), files: [], message: '' }
  const blank = rest.indexOf('')
  const files = (blank < 0 ? rest : rest.slice(0, blank)).filter(Boolean)
  const message = (blank < 0 ? '' : rest.slice(blank + 1).join('\n')).trim()
  return { tree: tree.trim(), files, message }
}

/**
 * Commits a conflict's merged tree, markers and all, on top of the last
 * clean pick, for a draft pull request the author resolves. Returns its SHA.
 */
export async function commitConflict(
  git: Git,
  outcome: Extract<PickOutcome, { status: 'conflict' }>,
  message: string
): Promise<string> {
  return (
    await git.run([
      'commit-tree',
      outcome.conflictTree,
      '-p',
      outcome.head,
      '-m',
      message
    ])
  ).trim()
}
