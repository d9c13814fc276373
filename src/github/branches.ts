import { GitHubClient, httpStatus, RepoRef } from './client.js'

/**
 * Branch names starting with `prefix` (all pages), through the matching-refs
 * API: one query for `release/`, not a walk over every branch.
 */
export async function listBranches(
  client: GitHubClient,
  repo: RepoRef,
  prefix: string
): Promise<string[]> {
  const refs = await client.paginate(client.rest.git.listMatchingRefs, {
    ...repo,
    ref: `heads/${prefix}`,
    per_page: 100
  })
  return refs.map((ref) => ref.ref.replace(/^refs\/heads\//, ''))
}

/** Whether a branch exists. */
export async function branchExists(
  client: GitHubClient,
  repo: RepoRef,
  branch: string
): Promise<boolean> {
  try {
    await client.rest.repos.getBranch({ ...repo, branch })
    return true
  } catch (error) {
    if (httpStatus(error) === 404) return false
    throw error
  }
}
