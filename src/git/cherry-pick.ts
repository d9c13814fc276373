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

export type PickOutcome =
  | {
      status: 'picked'
      picked: PickedCommit[]
      /** Sources whose change was already on the branch (empty pick). */
      empty: string[]
    }
  | {
      status: 'conflict'
      picked: PickedCommit[]
      empty: string[]
      /** The commit that did not apply, and the ones not tried after it. */
      failed: string
      remaining: string[]
      files: string[]
      /** The cherry-pick is left in progress for the caller to commit or abort. */
      message: string
    }

/** Options of one pick. */
export interface PickOptions {
  /** `-m <n>`: pick a merge commit against its n-th parent. */
  mainline?: number
  /** Merge commits among the picks taken with `-m 1`; the rest plainly. */
  mainlineShas?: readonly string[]
}

/**
 * Cherry-picks `shas` onto HEAD one by one, always with `-x`. Stops at the
 * first conflict and leaves it in progress, so the caller can either abort
 * or commit it with the markers for a draft pull request.
 */
export async function cherryPick(
  git: Git,
  shas: readonly string[],
  options: PickOptions = {}
): Promise<PickOutcome> {
  const picked: PickedCommit[] = []
  const empty: string[] = []
  for (const [index, sha] of shas.entries()) {
    const args = ['cherry-pick', '-x']
    if (options.mainline) args.push('-m', String(options.mainline))
    else if (options.mainlineShas?.includes(sha)) args.push('-m', '1')
    const result = await git.try([...args, '--end-of-options', sha])
    if (result.exitCode === 0) {
      picked.push({
        source: sha,
        sha: (await git.run(['rev-parse', 'HEAD'])).trim()
      })
      continue
    }
    const files = await conflictedFiles(git)
    const text = `${result.stdout}\n${result.stderr}`
    if (files.length === 0 && /is now empty|nothing to commit/i.test(text)) {
      // The change is already on the branch under another SHA.
      empty.push(sha)
      await git.try(['cherry-pick', '--skip'])
      continue
    }
    if (files.length === 0) {
      await git.try(['cherry-pick', '--abort'])
      throw new Error(
        `git cherry-pick -x ${sha} failed without a conflict: ${text.trim()}`
      )
    }
    return {
      status: 'conflict',
      picked,
      empty,
      failed: sha,
      remaining: shas.slice(index + 1),
      files,
      message: text.trim()
    }
  }
  return { status: 'picked', picked, empty }
}

/** Paths git left unmerged. */
export async function conflictedFiles(git: Git): Promise<string[]> {
  const out = await git.run(['diff', '--name-only', '--diff-filter=U', '-z'])
  return out.split('\0').filter(Boolean)
}

/** Gives up an in-progress cherry-pick, leaving HEAD as it was. */
export async function abortCherryPick(git: Git): Promise<void> {
  await git.try(['cherry-pick', '--abort'])
}

/**
 * Commits an in-progress conflict with its markers, for a draft pull request
 * the author resolves. Returns the new commit's SHA.
 */
export async function commitConflict(
  git: Git,
  files: readonly string[],
  message: string
): Promise<string> {
  // --sparse: conflicted files sit outside the (empty) sparse checkout.
  await git.run(['add', '--sparse', '--', ...files])
  await git.run(['commit', '--no-verify', '--quiet', '-m', message])
  return (await git.run(['rev-parse', 'HEAD'])).trim()
}
