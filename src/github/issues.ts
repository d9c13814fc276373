import { GitHubClient, httpStatus, RepoRef } from './client.js'

/** Posts a comment on an issue or pull request; returns its address. */
export async function addComment(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  body: string
): Promise<string> {
  const { data } = await client.rest.issues.createComment({
    ...repo,
    issue_number: number,
    body
  })
  return data.html_url
}

/**
 * Adds labels (GitHub creates missing ones), then assignees, to an issue or
 * pull request; an empty or absent list makes no call.
 */
export async function addToIssue(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  add: { labels?: readonly string[]; assignees?: readonly string[] }
): Promise<void> {
  const issue = { ...repo, issue_number: number }
  if (add.labels?.length) {
    await client.rest.issues.addLabels({ ...issue, labels: [...add.labels] })
  }
  if (add.assignees?.length) {
    await client.rest.issues.addAssignees({
      ...issue,
      assignees: [...add.assignees]
    })
  }
}

/** Removes a label; a label that is not there is not an error. */
export async function removeLabel(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  name: string
): Promise<void> {
  try {
    await client.rest.issues.removeLabel({
      ...repo,
      issue_number: number,
      name
    })
  } catch (error) {
    if (httpStatus(error) !== 404) throw error
  }
}

/** Sets the milestone of an issue or pull request (by milestone number). */
export async function setMilestone(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  milestone: number
): Promise<void> {
  await client.rest.issues.update({ ...repo, issue_number: number, milestone })
}
