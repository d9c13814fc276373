import { Git } from '../git/git.js'
import { landCommits, LandOutcome, LandRequest } from '../git/land-commits.js'
import { landThroughApi } from '../github/api-pick.js'
import { enableAutoMerge } from '../github/auto-merge.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import { ChangedCommit, ListedCommit } from '../github/git-data.js'
import { addToIssue } from '../github/issues.js'
import { Selection } from '../github/merge-method.js'
import { dispatchWorkflow } from '../github/workflows.js'
import {
  createPullRequest,
  findOpenPullRequest,
  PullRequestInfo
} from '../github/pull-requests.js'
import { Inputs } from './inputs.js'
import { carryContext } from './pull-request-context.js'
import { renderTemplate } from './templates.js'

/** The four results the action reports, per target and overall. */
export type PickResult = 'picked' | 'conflict' | 'skipped' | 'failed'

/** Where a conflict stopped a pick, for the comment, summary and annotation. */
export interface ConflictDetail {
  files: string[]
  /** The first source commit that did not apply. */
  failed: string
  /** git's own words, CONFLICT lines among them. */
  gitMessage: string
  draftUrl?: string
}

/** What happened on one target. */
export interface TargetReport {
  target: string
  result: PickResult
  message: string
  commits: { source: string; sha: string }[]
  alreadyPicked: string[]
  pullRequest?: { number: number; url: string }
  conflict?: ConflictDetail
  /** Why the push was refused for a workflow file. */
  workflowPermission?: boolean
  dispatched?: string
  /** The hotfix label put on the picked PR (mode pull-request). */
  hotfixLabel?: string
  /** `enabled (squash)` or GitHub's refusal, in mode pull-request. */
  autoMerge?: { enabled: boolean; detail: string }
  /** A refusal's PR comment lines, or a failure's reason. */
  refusal?: string
}

/** The branch a PR's pick goes to when it is not pushed onto the target. */
export function pickBranchName(pullNumber: number, target: string): string {
  return `cherry-pick/${pullNumber}-to-${target}`
}

/** What a target's pick shares with the others of the run. */
export interface TargetContext {
  client: GitHubClient
  /** Writes the picks through the API (push-token's client if given). */
  pushClient: GitHubClient
  repo: RepoRef
  git: Git
  /** Fetches what a pick with git needs, once for every target. */
  prepareGit: () => Promise<void>
  /** The selected commits as the API shows them; undefined: git picks. */
  changes?: readonly ChangedCommit[]
  /** The target's recent history, read with the run's first reads. */
  targetRead?: Promise<ListedCommit[]>
  sleep: (ms: number) => Promise<void>
  log: (message: string) => void
  inputs: Inputs
  pr: PullRequestInfo
  selection: Selection
  /**
   * A hotfix PR's pick onto the current release branch: in mode push the
   * hotfix lane dispatches staging itself; in mode pull-request the picked
   * PR carries the label, and its merge dispatches staging.
   */
  hotfixTarget: boolean
}

function templateValues(
  pr: PullRequestInfo,
  target: string,
  shas: readonly string[]
): Record<
  'number' | 'title' | 'body' | 'author' | 'target' | 'commits',
  string
> {
  return {
    number: String(pr.number),
    title: pr.title,
    body: pr.body,
    author: pr.author,
    target,
    commits: shas.map((sha) => `- ${sha}`).join('\n')
  }
}

/**
 * Lands the selected commits on one target: picks, pushes (or opens a pull
 * request with the original's context), and reports; comments are left to
 * the caller, which writes one for every target.
 */
export async function pickTarget(
  context: TargetContext,
  target: string
): Promise<TargetReport> {
  const { client, repo, inputs, pr, selection } = context
  const branch = pickBranchName(pr.number, target)
  const base = { target, commits: [], alreadyPicked: [] }

  if (inputs.mode === 'pull-request') {
    const open = await findOpenPullRequest(client, repo, branch)
    if (open) {
      return {
        ...base,
        result: 'skipped',
        message: `pull request #${open.number} from ${branch} is already open`,
        pullRequest: { number: open.number, url: open.htmlUrl }
      }
    }
  }

  const request: LandRequest = {
    target,
    shas: selection.shas,
    mainline: selection.mainline,
    mainlineShas: selection.mainlineShas,
    historyDepth: inputs.historyDepth,
    prefetched: true,
    attempts: inputs.pushAttempts,
    pushTo: inputs.mode === 'push' ? target : branch,
    force: inputs.mode === 'pull-request',
    onConflict: inputs.onConflict === 'draft-pr' ? 'commit' : 'abort',
    conflictBranch: inputs.onConflict === 'draft-pr' ? branch : undefined,
    conflictMessage: (failed, files) =>
      [
        `CHERRY-PICK CONFLICT: #${pr.number} onto ${target}`,
        '',
        `Conflict markers committed in: ${files.join(', ')}`,
        '',
        `(cherry picked from commit ${failed})`
      ].join('\n')
  }
  const outcome = await land(context, request)

  if (outcome.status === 'skipped') {
    return {
      ...base,
      result: 'skipped',
      message: `already on ${target}: ${outcome.alreadyPicked.join(', ')}`,
      alreadyPicked: outcome.alreadyPicked
    }
  }

  if (outcome.status === 'push-failed') {
    const where = inputs.mode === 'push' ? target : branch
    return {
      ...base,
      result: 'failed',
      message: `push refused (${outcome.reason}): ${outcome.message}`,
      workflowPermission: outcome.reason === 'workflow-permission',
      refusal: `pushing to \`${where}\` failed after ${outcome.attempts} attempt(s): ${outcome.message.split('\n')[0]}`
    }
  }

  if (outcome.status === 'conflict') {
    const pullRequest = outcome.conflictCommit
      ? await openConflictDraft(context, target, branch)
      : undefined
    return {
      ...base,
      result: 'conflict',
      message: `conflict in ${outcome.files.join(', ')} while picking ${outcome.failed}`,
      commits: outcome.conflictCommit
        ? [{ source: outcome.failed, sha: outcome.conflictCommit }]
        : [],
      pullRequest,
      conflict: {
        files: outcome.files,
        failed: outcome.failed,
        gitMessage: outcome.gitMessage,
        draftUrl: pullRequest?.url
      }
    }
  }

  const commits = outcome.picked
  const report: TargetReport = {
    ...base,
    result: 'picked',
    message: `picked onto ${target} after ${outcome.attempts} push attempt(s)`,
    commits,
    alreadyPicked: outcome.alreadyPicked
  }
  if (inputs.mode === 'pull-request') {
    await proposePick(context, report, branch)
  } else if (
    !inputs.pushToken &&
    inputs.dispatchWorkflow &&
    !context.hotfixTarget
  ) {
    await dispatchWorkflow(client, repo, inputs.dispatchWorkflow, target)
    report.dispatched = inputs.dispatchWorkflow
  } else if (!inputs.pushToken && !context.hotfixTarget) {
    context.log(
      `Pushed with the API token: if that is GITHUB_TOKEN no workflow starts on ${target}; set dispatch-workflow or push-token`
    )
  }
  return report
}

/**
 * Lands the picks through the API when they are clean on the path level,
 * with git (fetched then) when they are not, and logs which and why.
 */
async function land(
  context: TargetContext,
  request: LandRequest
): Promise<LandOutcome> {
  const { target } = request
  const throughApi = context.changes
    ? await landThroughApi(
        context.pushClient,
        context.repo,
        request,
        context.changes,
        context.inputs.committer,
        context.sleep,
        context.targetRead
      )
    : undefined
  if (throughApi && throughApi.status !== 'declined') {
    context.log(`${target}: picked through the API, no clone`)
    return throughApi
  }
  const reason = throughApi
    ? throughApi.reason
    : 'a merge commit is picked with -m 1'
  context.log(`${target}: picking with git, as ${reason}`)
  await context.prepareGit()
  return landCommits(context.git, request, context.sleep)
}

/** Opens the picked PR with the original's context, and its auto-merge. */
async function proposePick(
  context: TargetContext,
  report: TargetReport,
  branch: string
): Promise<void> {
  const { client, repo, inputs, pr } = context
  const values = templateValues(
    pr,
    report.target,
    report.commits.map((commit) => commit.sha)
  )
  const created = await createPullRequest(client, repo, {
    head: branch,
    base: report.target,
    title: renderTemplate(inputs.prTitleTemplate, values),
    body: renderTemplate(inputs.prBodyTemplate, values)
  })
  report.pullRequest = { number: created.number, url: created.htmlUrl }
  if (context.hotfixTarget) report.hotfixLabel = inputs.hotfixLabel
  await carryContext(
    client,
    repo,
    inputs,
    pr,
    created.number,
    report.hotfixLabel ? [report.hotfixLabel] : []
  )
  if (inputs.autoMerge) {
    const merged = await enableAutoMerge(
      client,
      created.nodeId,
      inputs.autoMerge
    )
    report.autoMerge = merged.enabled
      ? { enabled: true, detail: `auto-merge (${inputs.autoMerge}) enabled` }
      : { enabled: false, detail: merged.reason }
  }
}

/** The draft PR that carries a committed conflict (`on-conflict: draft-pr`). */
async function openConflictDraft(
  context: TargetContext,
  target: string,
  branch: string
): Promise<{ number: number; url: string }> {
  const { client, repo, inputs, pr } = context
  const values = templateValues(pr, target, context.selection.shas)
  const draft = await createPullRequest(client, repo, {
    head: branch,
    base: target,
    title: `[conflict] ${renderTemplate(inputs.prTitleTemplate, values)}`,
    body: renderTemplate(inputs.prBodyTemplate, values),
    draft: true
  })
  await addToIssue(client, repo, draft.number, {
    labels: [inputs.conflictLabel],
    assignees: [pr.author]
  })
  return { number: draft.number, url: draft.htmlUrl }
}
