import { Clock } from '../common/clock.js'
import { globPrefix, newestBranch } from '../git/release-branch.js'
import { listBranches } from '../github/branches.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import { waitForRun } from '../github/dispatched-run.js'
import { addComment } from '../github/issues.js'
import { getPullRequest, PullRequestInfo } from '../github/pull-requests.js'
import { dispatchWorkflowRun } from '../github/workflows.js'
import { Inputs } from './inputs.js'
import { hotfixComment } from './messages.js'

/** How the emergency lane ended. */
export interface HotfixReport {
  status: 'healthy' | 'unhealthy' | 'timeout' | 'not-dispatched'
  target: string
  runId?: number
  runUrl?: string
  detail: string
  /** Where the production deploy of the staged image is started. */
  productionUrl?: string
}

/** What the lane needs from the run. */
export interface HotfixDependencies {
  client: GitHubClient
  repo: RepoRef
  clock: Clock
  serverUrl: string
  log: (message: string) => void
}

/**
 * The emergency lane: once a `hotfix` PR's pick is on the current release
 * branch, starts the staging workflow there, waits (bounded) for that very
 * run, and when it is green tells the PR how to start production for the
 * image it built: the same `workflow_dispatch`, with its run id filled in.
 */
export async function runHotfixLane(
  deps: HotfixDependencies,
  inputs: Inputs,
  pr: PullRequestInfo,
  target: string
): Promise<HotfixReport> {
  const { client, repo } = deps
  const finish = (report: HotfixReport): Promise<HotfixReport> =>
    commentHotfix(deps, inputs, pr.number, report)
  if (!inputs.stagingWorkflow) {
    return finish({
      status: 'not-dispatched',
      target,
      detail:
        'no staging workflow is configured (inputs staging-workflow or dispatch-workflow)'
    })
  }
  const runId = await dispatchWorkflowRun(
    client,
    repo,
    inputs.stagingWorkflow,
    target
  )
  if (runId === undefined) {
    return finish({
      status: 'not-dispatched',
      target,
      detail: `${inputs.stagingWorkflow} was started, but GitHub did not say which run it is, so its health cannot be followed`
    })
  }
  deps.log(`Hotfix: waiting for staging run ${runId} on ${target}`)
  const verdict = await waitForRun(client, repo, runId, {
    timeoutMs: inputs.stagingTimeoutSeconds * 1000,
    intervalMs: inputs.stagingPollSeconds * 1000,
    clock: deps.clock
  })
  const base = { target, runId, runUrl: verdict.htmlUrl }
  if (verdict.status === 'success') {
    return finish({
      ...base,
      status: 'healthy',
      detail: 'staging is healthy',
      productionUrl: `${deps.serverUrl}/${repo.owner}/${repo.repo}/actions/workflows/${inputs.productionWorkflow}`
    })
  }
  if (verdict.status === 'failure') {
    return finish({
      ...base,
      status: 'unhealthy',
      detail: `the staging run ended with ${verdict.conclusion}`
    })
  }
  return finish({
    ...base,
    status: 'timeout',
    detail: `the staging run did not finish within ${inputs.stagingTimeoutSeconds} s`
  })
}

/** Tells the PR how the lane ended, and returns the report. */
async function commentHotfix(
  deps: HotfixDependencies,
  inputs: Inputs,
  pullNumber: number,
  report: HotfixReport
): Promise<HotfixReport> {
  const { client, repo } = deps
  await addComment(
    client,
    repo,
    pullNumber,
    hotfixComment({
      ...report,
      label: inputs.hotfixLabel,
      productionWorkflow: inputs.productionWorkflow,
      repository: `${repo.owner}/${repo.repo}`
    })
  )
  return report
}

/**
 * The lane in mode pull-request: a pick PR carrying the hotfix label was
 * merged into `base`. Staging is dispatched there, as in mode push, when
 * `base` is the current release branch (the one staging deploys) and the PR
 * still carries the label; otherwise the PR is told why not.
 */
export async function stageMergedPick(
  deps: HotfixDependencies,
  inputs: Inputs,
  pullNumber: number,
  base: string
): Promise<HotfixReport> {
  const { client, repo } = deps
  const pattern = inputs.releaseBranchPattern
  const [pr, branches] = await Promise.all([
    getPullRequest(client, repo, pullNumber),
    listBranches(client, repo, globPrefix(pattern))
  ])
  const current = newestBranch(branches, pattern)
  const refuse = (detail: string): Promise<HotfixReport> =>
    commentHotfix(deps, inputs, pullNumber, {
      status: 'not-dispatched',
      target: base,
      detail
    })
  if (!pr.merged || !pr.labels.includes(inputs.hotfixLabel)) {
    return {
      status: 'not-dispatched',
      target: base,
      detail: `#${pullNumber} is not merged or no longer carries ${inputs.hotfixLabel}`
    }
  }
  if (base !== current) {
    return refuse(
      `\`${base}\` is not the current release branch (${current ? `\`${current}\`` : `none matches \`${pattern}\``}), and staging deploys only that one`
    )
  }
  return runHotfixLane(deps, inputs, pr, base)
}
