import * as core from '@actions/core'
import { ConfigurationError } from '../common/errors.js'
import {
  getBoolean,
  getChoice,
  getDurationSeconds,
  getInteger,
  getList,
  getOptionalInput,
  getRequiredInput
} from '../common/inputs.js'
import { Identity } from '../git/partial-fetch.js'
import { AutoMergeMethod } from '../github/auto-merge.js'
import {
  MergeCommitStrategy,
  MergesInPullRequest
} from '../github/merge-method.js'
import { validateTemplate } from './templates.js'

/** The inputs of actions/cherry-pick-to-release/action.yml, typed. */
export interface Inputs {
  token: string
  pushToken?: string
  label: string
  releaseBranchPattern: string
  mode: 'push' | 'pull-request'
  mergeCommitStrategy: MergeCommitStrategy
  onConflict: 'comment' | 'draft-pr'
  commentTrigger: boolean
  repositoryUrl: string
  pushAttempts: number
  historyDepth: number
  dispatchWorkflow?: string
  prTitleTemplate: string
  prBodyTemplate: string
  prLabels: string[]
  pickedLabel: string
  conflictLabel: string
  committer: Identity
  mergeCommitsInPr: MergesInPullRequest
  /** Labels of the original PR copied to the picked PR (regular expression). */
  copyLabelsPattern?: RegExp
  copyMilestone: boolean
  copyAssignees: boolean
  copyRequestedReviewers: boolean
  authorAsReviewer: boolean
  autoMerge?: AutoMergeMethod
  hotfixLabel: string
  stagingWorkflow?: string
  productionWorkflow: string
  stagingTimeoutSeconds: number
  stagingPollSeconds: number
}

function workflowFile(input: string, value: string): string {
  if (!/^(\d+|[\w.-]+\.ya?ml)$/.test(value)) {
    throw new ConfigurationError(
      `Input "${input}" has "${value}"; expected a workflow file name such as staging.yml or a workflow id`
    )
  }
  return value
}

function labelsPattern(value: string | undefined): RegExp | undefined {
  if (!value) return undefined
  try {
    return new RegExp(value)
  } catch (error) {
    throw new ConfigurationError(
      `Input "copy-labels-pattern" has "${value}", which is not a regular expression: ${(error as Error).message}`
    )
  }
}

/** Reads `Name <email>`. */
export function parseIdentity(input: string, value: string): Identity {
  const match = /^\s*([^<>]+?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value)
  if (!match) {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which is not of the form "Name <email>"`
    )
  }
  return { name: match[1], email: match[2] }
}

function defaultRepositoryUrl(): string {
  const server = process.env.GITHUB_SERVER_URL || 'https://github.com'
  const repository = process.env.GITHUB_REPOSITORY ?? ''
  return `${server}/${repository}.git`
}

/** Reads and checks every input before anything else happens. */
export function getInputs(): Inputs {
  const token = getRequiredInput('token')
  const pushToken = getOptionalInput('push-token')
  core.setSecret(token)
  if (pushToken) core.setSecret(pushToken)

  const label = getOptionalInput('label') ?? 'cherry-pick'
  if (/\s/.test(label) || label.includes(':')) {
    throw new ConfigurationError(
      `Input "label" has "${label}"; a label name without spaces or ":" is expected (":<branch>" is added to name a target)`
    )
  }
  const releaseBranchPattern =
    getOptionalInput('release-branch-pattern') ?? 'release/*'
  if (/\s/.test(releaseBranchPattern) || releaseBranchPattern.startsWith('!')) {
    throw new ConfigurationError(
      `Input "release-branch-pattern" has "${releaseBranchPattern}"; expected one branch glob such as release/* (no spaces, no negation)`
    )
  }

  const repositoryUrl =
    getOptionalInput('repository-url') ?? defaultRepositoryUrl()
  if (!/^(https?|file|ssh):\/\/|^\//.test(repositoryUrl)) {
    throw new ConfigurationError(
      `Input "repository-url" has "${repositoryUrl}"; expected an https://, ssh://, file:// URL or an absolute path`
    )
  }
  const dispatch = getOptionalInput('dispatch-workflow')
  const dispatchWorkflow = dispatch
    ? workflowFile('dispatch-workflow', dispatch)
    : undefined
  const staging = getOptionalInput('staging-workflow') ?? dispatchWorkflow
  const autoMerge = getChoice(
    'auto-merge',
    ['off', 'merge', 'squash', 'rebase'] as const,
    'off'
  )

  return {
    token,
    pushToken,
    label,
    releaseBranchPattern,
    mode: getChoice('mode', ['push', 'pull-request'] as const, 'push'),
    mergeCommitStrategy: getChoice(
      'merge-commit-strategy',
      ['commits', 'mainline'] as const,
      'commits'
    ),
    onConflict: getChoice(
      'on-conflict',
      ['comment', 'draft-pr'] as const,
      'comment'
    ),
    commentTrigger: getBoolean('comment-trigger', true),
    repositoryUrl,
    pushAttempts: getInteger('push-attempts', 5, 1),
    historyDepth: getInteger('history-depth', 200, 1),
    dispatchWorkflow,
    prTitleTemplate: validateTemplate(
      'pr-title-template',
      getOptionalInput('pr-title-template') ?? '[{target}] {title}'
    ),
    prBodyTemplate: validateTemplate(
      'pr-body-template',
      core.getInput('pr-body-template').trim() ||
        'Cherry-pick of #{number} onto `{target}`, asked for by @{author}.\n\n{commits}'
    ),
    prLabels: getList('pr-labels'),
    pickedLabel: getOptionalInput('picked-label') ?? 'cherry-picked',
    conflictLabel: getOptionalInput('conflict-label') ?? 'cherry-pick-conflict',
    committer: parseIdentity(
      'committer',
      getOptionalInput('committer') ??
        'github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>'
    ),
    mergeCommitsInPr: getChoice(
      'merge-commits-in-pr',
      ['skip', 'pick'] as const,
      'skip'
    ),
    copyLabelsPattern: labelsPattern(getOptionalInput('copy-labels-pattern')),
    copyMilestone: getBoolean('copy-milestone', false),
    copyAssignees: getBoolean('copy-assignees', false),
    copyRequestedReviewers: getBoolean('copy-requested-reviewers', false),
    authorAsReviewer: getBoolean('author-as-reviewer', true),
    autoMerge: autoMerge === 'off' ? undefined : autoMerge,
    hotfixLabel: getOptionalInput('hotfix-label') ?? 'hotfix',
    stagingWorkflow: staging
      ? workflowFile('staging-workflow', staging)
      : undefined,
    productionWorkflow: workflowFile(
      'production-workflow',
      getOptionalInput('production-workflow') ?? 'production.yml'
    ),
    stagingTimeoutSeconds: getDurationSeconds('staging-timeout', 1800),
    stagingPollSeconds: getDurationSeconds('staging-poll-interval', 20)
  }
}
