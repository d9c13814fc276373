import { Git } from '../git/git.js'
import {
  fetchCommitAndBranches,
  initRepository,
  RemoteOptions
} from '../git/partial-fetch.js'
import { Inputs } from './inputs.js'

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
 * The throwaway repository of a run that picks with git: made and fetched
 * only when a pick needs git (a clean pick goes through the API and needs
 * neither), once for every target.
 */
export class PickRepository {
  readonly git: Git
  private initialized?: Promise<void>
  private fetched?: FetchPlan

  constructor(
    git: Git,
    private readonly remote: RemoteOptions
  ) {
    this.git = git
  }

  /** Makes sure `plan` is fetched: by an earlier fetch if it covered it. */
  async ensure(plan: FetchPlan): Promise<void> {
    this.initialized ??= initRepository(this.git, this.remote)
    await this.initialized
    const done = this.fetched
    const covered =
      done !== undefined &&
      done.sha === plan.sha &&
      done.commitDepth >= plan.commitDepth &&
      done.branchDepth >= plan.branchDepth &&
      plan.branches.every((branch) => done.branches.includes(branch))
    if (covered) return
    await fetchCommitAndBranches(
      this.git,
      plan.sha,
      plan.commitDepth,
      plan.branches,
      plan.branchDepth
    )
    this.fetched = plan
  }
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
