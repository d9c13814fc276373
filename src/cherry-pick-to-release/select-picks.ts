import { fetchCommit, firstParentLog } from '../git/partial-fetch.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import {
  ChangedCommit,
  ListedCommit,
  readChangedCommit,
  readFirstParents,
  readHistory
} from '../github/git-data.js'
import {
  CommitShape,
  MergeMethod,
  resolveMergeMethod,
  selectCommits,
  Selection
} from '../github/merge-method.js'
import {
  listPullRequestCommits,
  PullRequestInfo
} from '../github/pull-requests.js'
import { Inputs } from './inputs.js'
import { early, fetchPlan, PickRepository } from './pick-repository.js'

/** What a run picks, and what each route needs for it. */
export interface Picks {
  method: MergeMethod
  selection: Selection
  /** The selected commits as the API shows them; undefined: git picks. */
  changes?: ChangedCommit[]
  /** Each target's recent history, read with the run's first reads. */
  targetReads: Map<string, Promise<ListedCommit[]>>
  /** Fetches what a pick with git needs, once for every target. */
  prepareGit: () => Promise<void>
}

/**
 * Tells how the PR was merged and which commits to pick, through the API
 * (git only when one page of history does not hold the landed commits).
 */
export async function selectPicks(
  client: GitHubClient,
  repo: RepoRef,
  inputs: Inputs,
  pr: PullRequestInfo,
  targets: readonly string[],
  repository: PickRepository
): Promise<Picks> {
  const { git } = repository
  const number = pr.number
  const mergeSha = pr.mergeCommitSha ?? ''
  // What either route reads goes out at once: the merge commit with its
  // changed paths (what a squash picks), the PR's commits and the landed
  // history when the PR has several, and each target's recent history.
  const commitsRead =
    pr.commitCount > 1
      ? early(listPullRequestCommits(client, repo, number))
      : undefined
  const mergeRead = early(readChangedCommit(client, repo, mergeSha))
  const landedRead: Promise<readonly CommitShape[] | undefined> = early(
    pr.commitCount > 1
      ? readFirstParents(client, repo, mergeSha, pr.commitCount + 1)
      : mergeRead.then((merge) => [merge])
  )
  const targetReads = new Map(
    targets.map((target) => [
      target,
      early(readHistory(client, repo, target, inputs.historyDepth))
    ])
  )
  let fetched: Promise<void> | undefined
  const fetchTargets = (): Promise<void> =>
    (fetched ??= repository.ensure(
      fetchPlan(inputs, mergeSha, pr.commitCount, targets)
    ))
  let landed: readonly CommitShape[] | undefined = await landedRead
  if (!landed) {
    await fetchTargets()
    landed = await firstParentLog(git, mergeSha, pr.commitCount + 1)
  }
  // One commit landed as one commit is a squash (or a rebase of one, picked
  // alike) without the PR's own list; a merge commit needs it.
  const prCommits =
    commitsRead || (landed[0]?.parents.length ?? 0) > 1
      ? await (commitsRead ?? listPullRequestCommits(client, repo, number))
      : []
  const method = resolveMergeMethod(landed, prCommits)
  const selection = selectCommits(
    method,
    landed,
    prCommits,
    inputs.mergeCommitStrategy,
    inputs.mergeCommitsInPr
  )
  let gitReady: Promise<void> | undefined
  const prepareGit = (): Promise<void> =>
    (gitReady ??= fetchTargets().then(async () => {
      if (method === 'merge' && !selection.mainline) {
        await fetchCommit(git, pr.headSha, pr.commitCount + 1)
      }
    }))
  const changes: ChangedCommit[] | undefined = selection.mainline
    ? undefined
    : await Promise.all(
        selection.shas.map((sha) =>
          sha === mergeSha ? mergeRead : readChangedCommit(client, repo, sha)
        )
      )
  return { method, selection, changes, targetReads, prepareGit }
}
