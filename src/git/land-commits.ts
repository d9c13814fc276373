import {
  cherryPick,
  cherryPickedSources,
  commitConflict,
  isAlreadyPicked,
  PickedCommit
} from './cherry-pick.js'
import { Git } from './git.js'
import { fetchBranch, readBranch } from './partial-fetch.js'
import { pushCommit, PushFailure } from './push.js'

/** What to land where. The commits must already be fetched. */
export interface LandRequest {
  /** Branch the picks are made on top of. */
  target: string
  /** Source commits in the order they are picked. */
  shas: readonly string[]
  mainline?: number
  /** Merge commits among `shas` picked with `-m 1`. */
  mainlineShas?: readonly string[]
  /** Commits of the target read for `-x` trailers (and fetched). */
  historyDepth: number
  /**
   * The target was fetched (at `historyDepth`) moments ago with the source
   * commits, so the first attempt need not fetch it again.
   */
  prefetched?: boolean
  /** Push tries; a lost race refetches the target and picks again. */
  attempts: number
  /** Where the result goes: the target itself, or a branch for a PR. */
  pushTo: string
  /** Force the push (a branch this action owns). */
  force: boolean
  /** `commit`: commit a conflict with its markers and push it anyway. */
  onConflict: 'abort' | 'commit'
  /** Where a committed conflict is pushed (force); defaults to `pushTo`. */
  conflictBranch?: string
  /** Message of a commit that keeps conflict markers. */
  conflictMessage?: (failed: string, files: readonly string[]) => string
}

export type LandOutcome =
  | { status: 'skipped'; alreadyPicked: string[] }
  | {
      status: 'pushed'
      picked: PickedCommit[]
      /** Sources left out: named by a trailer or empty once picked. */
      alreadyPicked: string[]
      targetSha: string
      attempts: number
    }
  | {
      status: 'conflict'
      picked: PickedCommit[]
      failed: string
      remaining: string[]
      files: string[]
      /** What git said when it stopped (its CONFLICT lines among them). */
      gitMessage: string
      /** Set when the conflict was committed and pushed to `pushTo`. */
      conflictCommit?: string
    }
  | {
      status: 'push-failed'
      reason: PushFailure
      message: string
      attempts: number
    }

/** Spread so two racing picks do not collide again at once. */
export function raceBackoff(attempt: number): number {
  return 250 * attempt + Math.floor(Math.random() * 250)
}

/**
 * Picks onto a fresh fetch of the target and pushes; when the push loses a
 * race it fetches again and repeats, so concurrent picks all land.
 * Idempotent: sources already named by a `-x` trailer on the target are
 * left out, and a change that turns out empty is skipped.
 */
export async function landCommits(
  git: Git,
  request: LandRequest,
  sleep: (ms: number) => Promise<void>
): Promise<LandOutcome> {
  let lastFailure: { reason: PushFailure; message: string } | undefined
  let made = 0
  for (let attempt = 1; attempt <= request.attempts; attempt++) {
    made = attempt
    if (attempt > 1 || !request.prefetched) {
      await fetchBranch(git, request.target, request.historyDepth)
    }
    const branch = await readBranch(
      git,
      `refs/remotes/origin/${request.target}`,
      request.historyDepth
    )
    const sources = cherryPickedSources(branch.messages)
    const already = request.shas.filter((sha) => isAlreadyPicked(sha, sources))
    const todo = request.shas.filter((sha) => !already.includes(sha))
    if (todo.length === 0) return { status: 'skipped', alreadyPicked: already }

    const outcome = await cherryPick(
      git,
      { branch: request.target, sha: branch.sha, tree: branch.tree },
      todo,
      { mainline: request.mainline, mainlineShas: request.mainlineShas }
    )
    if (outcome.status === 'conflict') {
      if (request.onConflict === 'abort') {
        return {
          status: 'conflict',
          picked: outcome.picked,
          failed: outcome.failed,
          remaining: outcome.remaining,
          files: outcome.files,
          gitMessage: outcome.message
        }
      }
      const message =
        request.conflictMessage?.(outcome.failed, outcome.files) ??
        `Cherry-pick conflict in ${outcome.failed}`
      const conflictCommit = await commitConflict(git, outcome, message)
      const pushed = await pushCommit(
        git,
        conflictCommit,
        request.conflictBranch ?? request.pushTo,
        { force: request.force || request.conflictBranch !== undefined }
      )
      if (pushed.status === 'failed') {
        return {
          status: 'push-failed',
          reason: pushed.reason,
          message: pushed.message,
          attempts: attempt
        }
      }
      return {
        status: 'conflict',
        picked: outcome.picked,
        failed: outcome.failed,
        remaining: outcome.remaining,
        files: outcome.files,
        gitMessage: outcome.message,
        conflictCommit
      }
    }
    const alreadyPicked = [...already, ...outcome.empty]
    if (outcome.picked.length === 0) {
      return { status: 'skipped', alreadyPicked }
    }
    const pushed = await pushCommit(git, outcome.head, request.pushTo, {
      force: request.force
    })
    if (pushed.status === 'pushed') {
      return {
        status: 'pushed',
        picked: outcome.picked,
        alreadyPicked,
        targetSha: outcome.head,
        attempts: attempt
      }
    }
    lastFailure = pushed
    if (pushed.reason !== 'race') break
    await sleep(raceBackoff(attempt))
  }
  return pushFailed(lastFailure, made, 'push did not happen')
}

/** The outcome once the tries are spent or a refusal is not a race. */
export function pushFailed(
  last: { reason: PushFailure; message: string } | undefined,
  attempts: number,
  otherwise: string
): LandOutcome {
  return {
    status: 'push-failed',
    reason: last?.reason ?? 'rejected',
    message: last?.message ?? otherwise,
    attempts
  }
}
