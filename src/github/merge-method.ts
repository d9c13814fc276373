/** How GitHub landed a pull request on its base branch. */
export type MergeMethod = 'merge' | 'squash' | 'rebase'

/** A commit seen locally: enough to tell the merge method apart. */
export interface CommitShape {
  sha: string
  parents: readonly string[]
  message: string
}

/** Commit messages compared without trailing blank space. */
function sameMessage(a: string, b: string): boolean {
  return a.trim() === b.trim()
}

/**
 * Tells how a PR was merged from what landed: two parents → merge commit;
 * one parent and the last N first-parent commits carrying the PR's N
 * messages in order → rebase; otherwise squash (one commit for N).
 * `landed` is the first-parent history from `merge_commit_sha`, newest first.
 */
export function resolveMergeMethod(
  landed: readonly CommitShape[],
  prCommits: readonly { message: string }[]
): MergeMethod {
  const tip = landed[0]
  if (!tip) throw new Error('The merge commit of the pull request is missing')
  if (tip.parents.length > 1) return 'merge'
  const count = prCommits.length
  if (count <= 1 || landed.length < count) return 'squash'
  const asLanded = landed.slice(0, count).reverse()
  const rebased = asLanded.every((commit, index) =>
    sameMessage(commit.message, prCommits[index].message)
  )
  return rebased ? 'rebase' : 'squash'
}

/** How a merge-commit PR is picked: its own commits, or `-m 1` of the merge. */
export type MergeCommitStrategy = 'commits' | 'mainline'

/** What to do with merge commits inside a PR (a merge of main into it). */
export type MergesInPullRequest = 'skip' | 'pick'

/** The commits to pick, oldest first, and the `-m` parent if any. */
export interface Selection {
  method: MergeMethod
  shas: string[]
  mainline?: number
  /** Merges inside the PR picked with `-m 1` (`merge-commits-in-pr: pick`). */
  mainlineShas?: string[]
  /** Merges inside the PR left out: their changes came from elsewhere. */
  skippedMerges: string[]
}

/**
 * What to pick for each merge method: squash → the squash commit; rebase →
 * the N commits as they landed; merge → the PR's own commits (merges inside
 * the PR left out, their changes come with the commits) or `-m 1` of the
 * merge commit.
 */
export function selectCommits(
  method: MergeMethod,
  landed: readonly CommitShape[],
  prCommits: readonly CommitShape[],
  strategy: MergeCommitStrategy,
  merges: MergesInPullRequest = 'skip'
): Selection {
  const tip = landed[0]
  if (!tip) throw new Error('The merge commit of the pull request is missing')
  if (method === 'squash') return { method, shas: [tip.sha], skippedMerges: [] }
  if (method === 'rebase') {
    const shas = landed
      .slice(0, prCommits.length)
      .map((commit) => commit.sha)
      .reverse()
    return { method, shas, skippedMerges: [] }
  }
  if (strategy === 'mainline') {
    return { method, shas: [tip.sha], mainline: 1, skippedMerges: [] }
  }
  const inner = prCommits.filter((commit) => commit.parents.length > 1)
  if (merges === 'pick') {
    return {
      method,
      shas: prCommits.map((commit) => commit.sha),
      mainlineShas: inner.map((commit) => commit.sha),
      skippedMerges: []
    }
  }
  return {
    method,
    shas: prCommits
      .filter((commit) => commit.parents.length <= 1)
      .map((commit) => commit.sha),
    skippedMerges: inner.map((commit) => commit.sha)
  }
}
