import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CommandRunner } from '../common/command-runner.js'
import { Git } from '../git/git.js'
import { landCommits } from '../git/land-commits.js'
import {
  fetchCommit,
  firstParentLog,
  initRepository
} from '../git/partial-fetch.js'
import { globPrefix, newestBranch } from '../git/release-branch.js'
import { branchExists, listBranches } from '../github/branches.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import { addComment, addLabels, removeLabel } from '../github/issues.js'
import { resolveMergeMethod, selectCommits } from '../github/merge-method.js'
import {
  addAssignees,
  createPullRequest,
  findOpenPullRequest,
  getPullRequest,
  listPullRequestCommits,
  PullRequestInfo
} from '../github/pull-requests.js'
import { dispatchWorkflow } from '../github/workflows.js'
import { refuseRequest } from './authorize.js'
import { Inputs } from './inputs.js'
import {
  conflictComment,
  failureComment,
  pickedComment,
  waitComment,
  workflowPermissionComment
} from './messages.js'
import { renderTemplate } from './templates.js'
import { Trigger } from './trigger.js'

/** The four results the action reports. */
export type PickResult = 'picked' | 'conflict' | 'skipped' | 'failed'

/** What one run did, for outputs, the summary and the exit status. */
export interface PickReport {
  result: PickResult
  message: string
  pullNumber?: number
  targetBranch?: string
  method?: string
  commits: string[]
  pullRequest?: { number: number; url: string }
  dispatched?: string
}

/** What the pick needs from its surroundings; tests pass their own. */
export interface PickDependencies {
  client: GitHubClient
  repo: RepoRef
  runner: CommandRunner
  sleep: (ms: number) => Promise<void>
  /** Parent of the temporary repository (RUNNER_TEMP in an action). */
  tempDir?: string
  log: (message: string) => void
}

type PickRequest = Extract<Trigger, { kind: 'pick' }>

/** The branch a PR's pick goes to when it is not pushed onto the target. */
export function pickBranchName(pullNumber: number, target: string): string {
  return `cherry-pick/${pullNumber}-to-${target}`
}

/**
 * Cherry-picks one merged pull request onto its release branch, from the
 * trigger to the comment on the PR. Never checks out or runs PR code: only
 * git objects are fetched and picked.
 */
export async function pickPullRequest(
  deps: PickDependencies,
  inputs: Inputs,
  request: PickRequest
): Promise<PickReport> {
  const { client, repo } = deps
  const number = request.pullNumber
  const fail = async (reason: string): Promise<PickReport> => {
    await addComment(client, repo, number, failureComment(reason))
    return {
      result: 'failed',
      message: reason,
      pullNumber: number,
      commits: []
    }
  }

  const parent = deps.tempDir ?? tmpdir()
  await mkdir(parent, { recursive: true })
  const refusal = await refuseRequest(
    {
      client,
      repo,
      git: new Git(parent, deps.runner),
      label: inputs.label,
      releaseBranchPattern: inputs.releaseBranchPattern
    },
    request
  )
  if (refusal) {
    await addComment(client, repo, number, refusal.comment)
    return {
      result: 'failed',
      message: refusal.message,
      pullNumber: number,
      commits: []
    }
  }

  const pr = await getPullRequest(client, repo, number)
  if (!pr.merged) {
    if (request.source === 'comment') {
      // Turn the command into the label, so the pick happens at merge.
      const label = request.branch
        ? `${inputs.label}:${request.branch}`
        : inputs.label
      await addLabels(client, repo, number, [label])
    }
    await addComment(client, repo, number, waitComment(request.branch))
    return {
      result: 'skipped',
      message: `pull request #${number} is not merged yet; it will be picked at merge`,
      pullNumber: number,
      commits: []
    }
  }
  if (!pr.mergeCommitSha) {
    return fail(
      `pull request #${number} is merged but has no merge commit SHA.`
    )
  }

  let target = request.branch
  if (target) {
    if (!(await branchExists(client, repo, target))) {
      return fail(
        `the branch \`${target}\` named by the request does not exist.`
      )
    }
  } else {
    const prefix = globPrefix(inputs.releaseBranchPattern)
    const branches = await listBranches(client, repo, prefix)
    target = newestBranch(branches, inputs.releaseBranchPattern)
    if (!target) {
      return fail(
        `no branch matches the release branch pattern \`${inputs.releaseBranchPattern}\`.`
      )
    }
  }
  if (target === pr.baseRef) {
    return fail(
      `\`${target}\` is the branch this pull request was merged into.`
    )
  }
  deps.log(`Target branch: ${target}`)

  const work = await mkdtemp(join(parent, 'cherry-pick-'))
  try {
    return await pickInto(deps, inputs, pr, target, work)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

async function pickInto(
  deps: PickDependencies,
  inputs: Inputs,
  pr: PullRequestInfo,
  target: string,
  work: string
): Promise<PickReport> {
  const { client, repo } = deps
  const number = pr.number
  const mergeSha = pr.mergeCommitSha ?? ''
  const branch = pickBranchName(number, target)
  const base = { pullNumber: number, targetBranch: target }

  if (inputs.mode === 'pull-request') {
    const open = await findOpenPullRequest(client, repo, branch)
    if (open) {
      return {
        ...base,
        result: 'skipped',
        message: `pull request #${open.number} from ${branch} is already open`,
        commits: [],
        pullRequest: { number: open.number, url: open.htmlUrl }
      }
    }
  }

  const prCommits = await listPullRequestCommits(client, repo, number)
  const git = new Git(work, deps.runner)
  await initRepository(git, {
    url: inputs.repositoryUrl,
    token: inputs.pushToken ?? inputs.token,
    committer: inputs.committer
  })
  // Depth N+2 reaches the parent of the oldest PR commit both along the
  // first parent (rebase) and through the merge's second parent.
  await fetchCommit(git, mergeSha, prCommits.length + 2)
  const landed = await firstParentLog(git, mergeSha, prCommits.length + 1)
  const method = resolveMergeMethod(landed, prCommits)
  const selection = selectCommits(
    method,
    landed,
    prCommits,
    inputs.mergeCommitStrategy
  )
  deps.log(
    `Merged by ${method}; picking ${selection.shas.join(', ')}${selection.mainline ? ' with -m 1' : ''}`
  )
  if (method === 'merge' && !selection.mainline) {
    await fetchCommit(git, pr.headSha, prCommits.length + 1)
  }

  const outcome = await landCommits(
    git,
    {
      target,
      shas: selection.shas,
      mainline: selection.mainline,
      historyDepth: inputs.historyDepth,
      attempts: inputs.pushAttempts,
      pushTo: inputs.mode === 'push' ? target : branch,
      force: inputs.mode === 'pull-request',
      onConflict: inputs.onConflict === 'draft-pr' ? 'commit' : 'abort',
      conflictBranch: inputs.onConflict === 'draft-pr' ? branch : undefined,
      conflictMessage: (failed, files) =>
        [
          `CHERRY-PICK CONFLICT: #${number} onto ${target}`,
          '',
          `Conflict markers committed in: ${files.join(', ')}`,
          '',
          `(cherry picked from commit ${failed})`
        ].join('\n')
    },
    deps.sleep
  )
  const withMethod = { ...base, method }

  if (outcome.status === 'skipped') {
    return {
      ...withMethod,
      result: 'skipped',
      message: `already on ${target}: ${outcome.alreadyPicked.join(', ')}`,
      commits: []
    }
  }

  if (outcome.status === 'push-failed') {
    const reason =
      outcome.reason === 'workflow-permission'
        ? workflowPermissionComment(target)
        : failureComment(
            `pushing to \`${inputs.mode === 'push' ? target : branch}\` failed after ${outcome.attempts} attempt(s): ${outcome.message.split('\n')[0]}`
          )
    await addComment(client, repo, number, reason)
    return {
      ...withMethod,
      result: 'failed',
      message: `push refused (${outcome.reason}): ${outcome.message}`,
      commits: []
    }
  }

  if (outcome.status === 'conflict') {
    let pullRequest: { number: number; url: string } | undefined
    if (outcome.conflictCommit) {
      const draft = await createPullRequest(client, repo, {
        head: branch,
        base: target,
        title: `[conflict] ${renderTemplate(inputs.prTitleTemplate, templateValues(pr, target, selection.shas))}`,
        body: renderTemplate(
          inputs.prBodyTemplate,
          templateValues(pr, target, selection.shas)
        ),
        draft: true
      })
      pullRequest = { number: draft.number, url: draft.htmlUrl }
      await addLabels(client, repo, draft.number, [inputs.conflictLabel])
      await addAssignees(client, repo, draft.number, [pr.author])
    }
    await addComment(
      client,
      repo,
      number,
      conflictComment({
        target,
        pullNumber: number,
        author: pr.author,
        files: outcome.files,
        shas: selection.shas,
        failed: outcome.failed,
        mainline: selection.mainline,
        draftUrl: pullRequest?.url,
        branch,
        mode: inputs.mode
      })
    )
    await addLabels(client, repo, number, [inputs.conflictLabel])
    return {
      ...withMethod,
      result: 'conflict',
      message: `conflict in ${outcome.files.join(', ')} while picking ${outcome.failed}`,
      commits: outcome.conflictCommit ? [outcome.conflictCommit] : [],
      pullRequest
    }
  }

  const commits = outcome.picked.map((commit) => commit.sha)
  let pullRequest: { number: number; url: string } | undefined
  let dispatched: string | undefined
  if (inputs.mode === 'pull-request') {
    const created = await createPullRequest(client, repo, {
      head: branch,
      base: target,
      title: renderTemplate(
        inputs.prTitleTemplate,
        templateValues(pr, target, commits)
      ),
      body: renderTemplate(
        inputs.prBodyTemplate,
        templateValues(pr, target, commits)
      )
    })
    pullRequest = { number: created.number, url: created.htmlUrl }
    await addLabels(client, repo, created.number, inputs.prLabels)
    await addAssignees(client, repo, created.number, [pr.author])
  } else if (!inputs.pushToken && inputs.dispatchWorkflow) {
    await dispatchWorkflow(client, repo, inputs.dispatchWorkflow, target)
    dispatched = inputs.dispatchWorkflow
  } else if (!inputs.pushToken) {
    deps.log(
      `Pushed with the API token: if that is GITHUB_TOKEN no workflow starts on ${target}; set dispatch-workflow or push-token`
    )
  }
  await addComment(
    client,
    repo,
    number,
    pickedComment({
      target,
      commits: outcome.picked,
      mode: inputs.mode,
      pullRequestUrl: pullRequest?.url,
      dispatched,
      alreadyPicked: outcome.alreadyPicked
    })
  )
  await addLabels(client, repo, number, [inputs.pickedLabel])
  await removeLabel(client, repo, number, inputs.conflictLabel)
  return {
    ...withMethod,
    result: 'picked',
    message: `picked onto ${target} after ${outcome.attempts} push attempt(s)`,
    commits,
    pullRequest,
    dispatched
  }
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
