import { Git } from '../git/git.js'
import {
  fetchCommitAndBranches,
  initRepository,
  RemoteOptions
} from '../git/partial-fetch.js'
import { newestBranch } from '../git/release-branch.js'
import { PullRequestInfo } from '../github/pull-requests.js'
import { Inputs } from './inputs.js'
import { Trigger } from './trigger.js'

type PickRequest = Extract<Trigger, { kind: 'pick' }>

/** What the run's one fetch brings: the commit and the target branches. */
export interface FetchPlan {
  sha: string
  commitDepth: number
  branches: readonly string[]
  branchDepth: number
}

/**
 * A read started now and awaited later: its failure surfaces where it is
 * awaited, not as an unhandled rejection while other work goes on.
 */
export function early<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined)
  return read
}

/**
 * The throwaway repository of one run. The fetch is the longest step, so it
 * starts as soon as the pull request and the release branches are read,
 * beside the requester's check; the pick uses it when it brought every
 * target, and fetches again only when it did not. A refused request still
 * writes nothing: the early fetch only reads, into a directory that goes.
 */
export class PickRepository {
  readonly git: Git
  private readonly initialized: Promise<void>
  private prefetched: Promise<FetchPlan | undefined> =
    Promise.resolve(undefined)

  constructor(git: Git, remote: RemoteOptions) {
    this.git = git
    this.initialized = early(initRepository(git, remote))
  }

  /** Starts the fetch the request most likely needs, once `plan` is known. */
  prefetch(plan: Promise<FetchPlan | undefined>): void {
    this.prefetched = early(
      this.initialized.then(async () => {
        const wanted = await plan
        if (wanted) await this.fetch(wanted)
        return wanted
      })
    )
  }

  /** Makes sure `plan` is fetched: by the early fetch if it covered it. */
  async ensure(plan: FetchPlan): Promise<void> {
    await this.initialized
    const done = await this.prefetched.catch(() => undefined)
    const covered =
      done !== undefined &&
      done.sha === plan.sha &&
      done.commitDepth >= plan.commitDepth &&
      done.branchDepth >= plan.branchDepth &&
      plan.branches.every((branch) => done.branches.includes(branch))
    if (!covered) await this.fetch(plan)
  }

  /** Waits for git to let go of the directory before it is removed. */
  async settle(): Promise<void> {
    await Promise.allSettled([this.initialized, this.prefetched])
  }

  private async fetch(plan: FetchPlan): Promise<void> {
    await fetchCommitAndBranches(
      this.git,
      plan.sha,
      plan.commitDepth,
      plan.branches,
      plan.branchDepth
    )
  }
}

/**
 * The fetch the request will most likely need, from the pull request and
 * the release branches alone: what the requester's check and the target
 * checks will confirm or narrow.
 */
export async function likelyPlan(
  inputs: Inputs,
  request: PickRequest,
  prRead: Promise<PullRequestInfo>,
  branchesRead: Promise<string[]>
): Promise<FetchPlan | undefined> {
  const [pr, branches] = await Promise.all([prRead, branchesRead])
  if (!pr.merged || !pr.mergeCommitSha) return undefined
  const current = newestBranch(branches, inputs.releaseBranchPattern)
  const targets = new Set<string>()
  for (const asked of request.targets) {
    const target = asked.branch ?? current
    if (target && target !== pr.baseRef && branches.includes(target)) {
      targets.add(target)
    }
  }
  if (targets.size === 0) return undefined
  return fetchPlan(inputs, pr.mergeCommitSha, pr.commitCount, [...targets])
}

/**
 * Depth N+2 reaches the parent of the oldest PR commit both along the first
 * parent (rebase) and through the merge's second parent. The targets come
 * in the same fetch: each fetch has a fixed server cost.
 */
export function fetchPlan(
  inputs: Inputs,
  sha: string,
  commitCount: number,
  branches: readonly string[]
): FetchPlan {
  return {
    sha,
    commitDepth: commitCount + 2,
    branches,
    branchDepth: inputs.historyDepth
  }
}
