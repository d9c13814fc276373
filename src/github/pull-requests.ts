import { GitHubClient, RepoRef } from './client.js'

/** The parts of a pull request the cherry-pick reads. */
export interface PullRequestInfo {
  number: number
  title: string
  body: string
  htmlUrl: string
  author: string
  merged: boolean
  mergeCommitSha: string | null
  baseRef: string
  headRef: string
  headSha: string
  commitCount: number
  labels: string[]
  assignees: string[]
  milestone?: number
  requestedReviewers: string[]
  requestedTeams: string[]
}

/** One commit of a pull request, as its head branch had it. */
export interface PullRequestCommit {
  sha: string
  message: string
  parents: string[]
}

/** Reads a pull request. */
export async function getPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  number: number
): Promise<PullRequestInfo> {
  const { data } = await client.rest.pulls.get({ ...repo, pull_number: number })
  return {
    number: data.number,
    title: data.title,
    body: data.body ?? '',
    htmlUrl: data.html_url,
    author: data.user?.login ?? '',
    merged: data.merged === true,
    mergeCommitSha: data.merge_commit_sha ?? null,
    baseRef: data.base.ref,
    headRef: data.head.ref,
    headSha: data.head.sha,
    commitCount: data.commits,
    labels: data.labels.map((label) => label.name ?? '').filter(Boolean),
    assignees: (data.assignees ?? []).map((user) => user.login),
    milestone: data.milestone?.number,
    requestedReviewers: (data.requested_reviewers ?? []).map(
      (user) => user.login
    ),
    requestedTeams: (data.requested_teams ?? []).map((team) => team.slug)
  }
}

/** The pull request's commits, oldest first (all pages). */
export async function listPullRequestCommits(
  client: GitHubClient,
  repo: RepoRef,
  number: number
): Promise<PullRequestCommit[]> {
  const commits = await client.paginate(client.rest.pulls.listCommits, {
    ...repo,
    pull_number: number,
    per_page: 100
  })
  return commits.map((commit) => ({
    sha: commit.sha,
    message: commit.commit.message,
    parents: commit.parents.map((parent) => parent.sha)
  }))
}

/** An open pull request from `head` (a branch of this repository), if any. */
export async function findOpenPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  head: string
): Promise<{ number: number; htmlUrl: string } | undefined> {
  const { data } = await client.rest.pulls.list({
    ...repo,
    state: 'open',
    head: `${repo.owner}:${head}`,
    per_page: 1
  })
  const found = data[0]
  return found ? { number: found.number, htmlUrl: found.html_url } : undefined
}

/** What a new pull request needs. */
export interface NewPullRequest {
  head: string
  base: string
  title: string
  body: string
  draft?: boolean
}

/** Opens a pull request; returns its number and address. */
export async function createPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  pull: NewPullRequest
): Promise<{ number: number; htmlUrl: string; nodeId: string }> {
  const { data } = await client.rest.pulls.create({
    ...repo,
    head: pull.head,
    base: pull.base,
    title: pull.title,
    body: pull.body,
    draft: pull.draft ?? false,
    maintainer_can_modify: true
  })
  return { number: data.number, htmlUrl: data.html_url, nodeId: data.node_id }
}

/** Requests reviews from people and teams; nothing to ask is no call. */
export async function requestReviewers(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  reviewers: readonly string[],
  teams: readonly string[] = []
): Promise<void> {
  if (reviewers.length === 0 && teams.length === 0) return
  await client.rest.pulls.requestReviewers({
    ...repo,
    pull_number: number,
    reviewers: [...reviewers],
    team_reviewers: [...teams]
  })
}
