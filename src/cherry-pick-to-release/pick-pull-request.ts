import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Clock } from '../common/clock.js'
import { CommandRunner } from '../common/command-runner.js'
import { Git } from '../git/git.js'
import { globPrefix, newestBranch } from '../git/release-branch.js'
import { branchExists, listBranches } from '../github/branches.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import { addComment, addToIssue, removeLabel } from '../github/issues.js'
import { Selection } from '../github/merge-method.js'
import { getPullRequest, PullRequestInfo } from '../github/pull-requests.js'
import { refuseRequest } from './authorize.js'
import { HotfixReport, runHotfixLane } from './hotfix.js'
import { Inputs } from './inputs.js'
import { runComment, waitComment } from './messages.js'
import { early, PickRepository } from './pick-repository.js'
import { PickResult, pickTarget, TargetReport } from './pick-target.js'
import { selectPicks } from './select-picks.js'
import { TargetRequest, Trigger } from './trigger.js'

export { pickBranchName } from './pick-target.js'
export type { PickResult, TargetReport } from './pick-target.js'

/** What one run did, for outputs, the summary and the exit status. */
export interface PickReport {
  /** `picked` only when no target failed or conflicted and one was picked. */
  result: PickResult
  message: string
  pullNumber: number
  method?: string
  targets: TargetReport[]
  /** Merges inside the PR that were left out (`merge-commits-in-pr: skip`). */
  skippedMerges: string[]
  hotfix?: HotfixReport
}

/** What the pick needs from its surroundings; tests pass their own. */
export interface PickDependencies {
  client: GitHubClient
  /** Writes picks through the API: push-token's client when one is given. */
  pushClient: GitHubClient
  repo: RepoRef
  runner: CommandRunner
  clock: Clock
  /** Parent of the temporary repository (RUNNER_TEMP in an action). */
  tempDir?: string
  /** Where links to the repository point (GITHUB_SERVER_URL). */
  serverUrl: string
  log: (message: string) => void
}

type PickRequest = Extract<Trigger, { kind: 'pick' }>

/** The overall verdict: a failure or conflict on any target names the run. */
export function overallResult(targets: readonly TargetReport[]): PickResult {
  const results = targets.map((target) => target.result)
  if (results.includes('failed')) return 'failed'
  if (results.includes('conflict')) return 'conflict'
  if (results.includes('picked')) return 'picked'
  return 'skipped'
}

function describeRequest(request: TargetRequest): string {
  return request.branch ?? 'the current release branch'
}

/** The state of one run, shared by its steps. */
interface RunState {
  deps: PickDependencies
  inputs: Inputs
  number: number
  parent: string
  reports: TargetReport[]
}

/** Writes the run's one comment and returns its report. */
async function finish(
  run: RunState,
  pr: PullRequestInfo | undefined,
  extra: Pick<PickReport, 'method' | 'skippedMerges'> = { skippedMerges: [] },
  selection?: Selection
): Promise<PickReport> {
  const { reports } = run
  const report: PickReport = {
    result: overallResult(reports),
    message: reports.map((t) => `${t.target}: ${t.message}`).join('; '),
    pullNumber: run.number,
    targets: reports,
    ...extra
  }
  await addComment(
    run.deps.client,
    run.deps.repo,
    run.number,
    runComment({
      pullNumber: run.number,
      author: pr?.author ?? '',
      mode: run.inputs.mode,
      targets: reports,
      selection,
      skippedMerges: report.skippedMerges
    })
  )
  return report
}

/** The requests whose sender may ask and whose target is allowed. */
async function authorizedTargets(
  run: RunState,
  request: PickRequest
): Promise<TargetRequest[]> {
  const accepted: TargetRequest[] = []
  const context = {
    client: run.deps.client,
    repo: run.deps.repo,
    git: new Git(run.parent, run.deps.runner),
    label: run.inputs.label,
    releaseBranchPattern: run.inputs.releaseBranchPattern
  }
  // Reads only, so the targets are checked side by side; reports keep the
  // order of the request.
  const refusals = await Promise.all(
    request.targets.map((target) =>
      refuseRequest(context, {
        ...target,
        source: request.source,
        pullNumber: run.number
      })
    )
  )
  for (const [index, target] of request.targets.entries()) {
    const refusal = refusals[index]
    if (!refusal) accepted.push(target)
    else {
      run.reports.push({
        target: describeRequest(target),
        result: 'failed',
        message: refusal.message,
        commits: [],
        alreadyPicked: [],
        refusal: refusal.comment
      })
    }
  }
  return accepted
}

/** Branch names for the accepted requests; unusable ones become reports. */
async function resolveTargets(
  run: RunState,
  pr: PullRequestInfo,
  accepted: readonly TargetRequest[],
  branches: readonly string[]
): Promise<{ targets: string[]; current?: string }> {
  const { client, repo } = run.deps
  const pattern = run.inputs.releaseBranchPattern
  const current = newestBranch(branches, pattern)
  const targets: string[] = []
  for (const asked of accepted) {
    const target = asked.branch ?? current
    let problem: string | undefined
    if (!target) {
      problem = `no branch matches the release branch pattern \`${pattern}\`.`
    } else if (asked.branch && !(await branchExists(client, repo, target))) {
      problem = `the branch \`${target}\` named by the request does not exist.`
    } else if (target === pr.baseRef) {
      problem = `\`${target}\` is the branch this pull request was merged into.`
    }
    if (problem) run.reports.push(failedTarget(asked, problem))
    else if (target && !targets.includes(target)) targets.push(target)
  }
  return { targets, current }
}

/**
 * Cherry-picks one merged pull request onto every target it asks for, one
 * after another, from the trigger to one comment on the PR. Never checks
 * out or runs PR code: only git objects are fetched and picked.
 */
export async function pickPullRequest(
  deps: PickDependencies,
  inputs: Inputs,
  request: PickRequest
): Promise<PickReport> {
  const number = request.pullNumber
  const parent = deps.tempDir ?? tmpdir()
  await mkdir(parent, { recursive: true })
  const run: RunState = { deps, inputs, number, parent, reports: [] }
  const work = await mkdtemp(join(parent, 'cherry-pick-'))
  const repository = new PickRepository(new Git(work, deps.runner), {
    url: inputs.repositoryUrl,
    token: inputs.pushToken ?? inputs.token,
    committer: inputs.committer
  })
  try {
    return await pickRequested(run, request, repository)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function pickRequested(
  run: RunState,
  request: PickRequest,
  repository: PickRepository
): Promise<PickReport> {
  const { deps, inputs, number } = run
  const { client, repo } = deps
  // Each round trip in a row adds to the run: the reads that do not depend
  // on each other go out together with the requester's check. A refused
  // request still writes nothing.
  const prRead = early(getPullRequest(client, repo, number))
  const branchesRead = early(
    listBranches(client, repo, globPrefix(inputs.releaseBranchPattern))
  )
  const accepted = await authorizedTargets(run, request)
  if (accepted.length === 0) return finish(run, undefined)

  const pr = await prRead
  if (!pr.merged) {
    if (request.source === 'comment') {
      // Turn the command into labels, so the pick happens at merge.
      const labels = accepted.map((t) =>
        t.branch ? `${inputs.label}:${t.branch}` : inputs.label
      )
      await addToIssue(client, repo, number, { labels })
    }
    if (run.reports.length > 0) return finish(run, pr)
    await addComment(
      client,
      repo,
      number,
      waitComment(accepted.map((t) => t.branch))
    )
    return {
      result: 'skipped',
      message: `pull request #${number} is not merged yet; it will be picked at merge`,
      pullNumber: number,
      targets: [],
      skippedMerges: []
    }
  }
  if (!pr.mergeCommitSha) {
    for (const target of accepted) {
      run.reports.push(
        failedTarget(target, 'the merged pull request has no merge commit SHA')
      )
    }
    return finish(run, pr)
  }
  const { targets, current } = await resolveTargets(
    run,
    pr,
    accepted,
    await branchesRead
  )
  if (targets.length === 0) return finish(run, pr)
  deps.log(`Targets: ${targets.join(', ')}`)
  return pickEverywhere(run, pr, targets, current, repository)
}

/**
 * Selects the commits once, then lands them on each target: through the
 * API when the pick is clean on the path level, with git (fetched once for
 * every target) when it is not.
 */
async function pickEverywhere(
  run: RunState,
  pr: PullRequestInfo,
  targets: readonly string[],
  current: string | undefined,
  repository: PickRepository
): Promise<PickReport> {
  const { deps, inputs } = run
  const { client, repo } = deps
  const { git } = repository
  const { method, selection, changes, targetReads, prepareGit } =
    await selectPicks(client, repo, inputs, pr, targets, repository)
  deps.log(
    `Merged by ${method}; picking ${selection.shas.join(', ')}${selection.mainline ? ' with -m 1' : ''}`
  )
  const hotfix = pr.labels.includes(inputs.hotfixLabel)
  for (const target of targets) {
    run.reports.push(
      await pickTarget(
        {
          client,
          pushClient: deps.pushClient,
          repo,
          git,
          prepareGit,
          changes,
          targetRead: targetReads.get(target),
          sleep: (ms) => deps.clock.sleep(ms),
          log: deps.log,
          inputs,
          pr,
          selection,
          hotfixTarget: hotfix && target === current
        },
        target
      )
    )
  }
  await labelOriginal(deps, inputs, pr, run.reports)
  const report = await finish(
    run,
    pr,
    { method, skippedMerges: selection.skippedMerges },
    selection
  )
  const onCurrent = run.reports.find(
    (t) => t.target === current && t.result === 'picked'
  )
  if (hotfix && onCurrent && inputs.mode === 'push') {
    report.hotfix = await runHotfixLane(deps, inputs, pr, onCurrent.target)
  }
  return report
}

function failedTarget(asked: TargetRequest, reason: string): TargetReport {
  return {
    target: describeRequest(asked),
    result: 'failed',
    message: reason.replace(/`/g, '"'),
    commits: [],
    alreadyPicked: [],
    refusal: reason
  }
}

async function labelOriginal(
  deps: PickDependencies,
  inputs: Inputs,
  pr: PullRequestInfo,
  reports: readonly TargetReport[]
): Promise<void> {
  const { client, repo } = deps
  const { number } = pr
  if (reports.some((t) => t.result === 'conflict')) {
    await addToIssue(client, repo, number, { labels: [inputs.conflictLabel] })
  } else if (
    reports.some((t) => t.result === 'picked') &&
    pr.labels.includes(inputs.conflictLabel)
  ) {
    // Only when an earlier attempt left it: each write is a request.
    await removeLabel(client, repo, number, inputs.conflictLabel)
  }
  if (reports.some((t) => t.result === 'picked')) {
    await addToIssue(client, repo, number, { labels: [inputs.pickedLabel] })
  }
}
