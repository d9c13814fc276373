import { GitHubClient, RepoRef } from '../github/client.js'
import { addToIssue, setMilestone } from '../github/issues.js'
import { PullRequestInfo, requestReviewers } from '../github/pull-requests.js'
import { Inputs } from './inputs.js'

/**
 * Carries the original PR's context to the picked PR, so the people and
 * the tracking that followed the change follow its pick: labels matching
 * `copy-labels-pattern` (never a request label, which would ask for a pick
 * of the pick), the milestone, assignees, requested reviewers, and the
 * author as a reviewer.
 */
export async function carryContext(
  client: GitHubClient,
  repo: RepoRef,
  inputs: Inputs,
  pr: PullRequestInfo,
  picked: number,
  /** Labels this run adds besides the copied ones (the hotfix label). */
  extraLabels: readonly string[] = []
): Promise<void> {
  const pattern = inputs.copyLabelsPattern
  const isRequest = (name: string): boolean =>
    name === inputs.label ||
    name.startsWith(`${inputs.label}:`) ||
    name === inputs.hotfixLabel ||
    name === inputs.pickedLabel ||
    name === inputs.conflictLabel
  const copied = pattern
    ? pr.labels.filter((name) => pattern.test(name) && !isRequest(name))
    : []
  const assignees = new Set([pr.author])
  if (inputs.copyAssignees) pr.assignees.forEach((a) => assignees.add(a))
  await addToIssue(client, repo, picked, {
    labels: [...new Set([...inputs.prLabels, ...copied, ...extraLabels])],
    assignees: [...assignees].filter(Boolean)
  })
  if (inputs.copyMilestone && pr.milestone !== undefined) {
    await setMilestone(client, repo, picked, pr.milestone)
  }
  const reviewers = new Set<string>()
  if (inputs.authorAsReviewer && pr.author) reviewers.add(pr.author)
  if (inputs.copyRequestedReviewers) {
    pr.requestedReviewers.forEach((login) => reviewers.add(login))
  }
  const teams = inputs.copyRequestedReviewers ? pr.requestedTeams : []
  await requestReviewers(client, repo, picked, [...reviewers], teams)
}
