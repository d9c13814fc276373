import { GitHubClient, RepoRef } from './client.js'

/** A pull request whose change arrived with a deploy. */
export interface ReleasedPullRequest {
  number: number
  title: string
  author?: string
  url: string
}

/** GitHub's largest compare page. */
const COMPARE_PAGE = 100

const CHERRY_PICK_TRAILER = /\(cherry picked from commit ([0-9a-f]{7,40})\)/g

/**
 * The commits a pick was made from, read from `git cherry-pick -x` trailers:
 * a commit picked onto a release branch is new, so GitHub links it to no
 * pull request; its origin commit is the one that was merged by a PR.
 */
export function pickedFromCommits(message: string): string[] {
  return [...message.matchAll(CHERRY_PICK_TRAILER)].map((m) => m[1])
}

/** The commits between two deploys (base exclusive), oldest first. */
export async function commitsBetween(
  client: GitHubClient,
  repo: RepoRef,
  base: string | undefined,
  head: string
): Promise<{ sha: string; message: string }[]> {
  if (!base || base === head) {
    const { data } = await client.rest.repos.getCommit({ ...repo, ref: head })
    return base === head
      ? []
      : [{ sha: data.sha, message: data.commit.message }]
  }
  // Unpaged, compare stops at 250 commits; paged, it returns them all.
  const commits: { sha: string; message: string }[] = []
  for (let page = 1; ; page++) {
    const { data } = await client.rest.repos.compareCommitsWithBasehead({
      ...repo,
      basehead: `${base}...${head}`,
      per_page: COMPARE_PAGE,
      page
    })
    for (const c of data.commits) {
      commits.push({ sha: c.sha, message: c.commit.message })
    }
    if (
      data.commits.length < COMPARE_PAGE ||
      commits.length >= data.total_commits
    ) {
      return commits
    }
  }
}

/**
 * The merged pull requests that brought the commits between two deploys,
 * following cherry-pick trailers back to the commits the PRs merged.
 */
export async function releasedPullRequests(
  client: GitHubClient,
  repo: RepoRef,
  base: string | undefined,
  head: string
): Promise<ReleasedPullRequest[]> {
  const commits = await commitsBetween(client, repo, base, head)
  const shas = new Set<string>()
  for (const commit of commits) {
    shas.add(commit.sha)
    for (const origin of pickedFromCommits(commit.message)) shas.add(origin)
  }
  const found = new Map<number, ReleasedPullRequest>()
  for (const sha of shas) {
    const { data } =
      await client.rest.repos.listPullRequestsAssociatedWithCommit({
        ...repo,
        commit_sha: sha
      })
    for (const pr of data) {
      if (!pr.merged_at || found.has(pr.number)) continue
      found.set(pr.number, {
        number: pr.number,
        title: pr.title,
        author: pr.user?.login,
        url: pr.html_url
      })
    }
  }
  return [...found.values()].sort((a, b) => a.number - b.number)
}

/**
 * Comments once per pull request and marker: a rerun of the same deploy does
 * not comment twice. Returns the numbers that got a new comment.
 */
export async function commentOnce(
  client: GitHubClient,
  repo: RepoRef,
  numbers: readonly number[],
  marker: string,
  body: string
): Promise<number[]> {
  const commented: number[] = []
  const hidden = `<!-- ${marker} -->`
  for (const number of numbers) {
    const existing = await client.paginate(client.rest.issues.listComments, {
      ...repo,
      issue_number: number,
      per_page: 100
    })
    if (existing.some((c) => c.body?.includes(hidden))) continue
    await client.rest.issues.createComment({
      ...repo,
      issue_number: number,
      body: `${body}\n\n${hidden}`
    })
    commented.push(number)
  }
  return commented
}
