import { GitHubClient } from './client.js'

/** The merge methods auto-merge accepts, as the action's input spells them. */
export type AutoMergeMethod = 'merge' | 'squash' | 'rebase'

/** Whether auto-merge was turned on, or why GitHub refused. */
export type AutoMergeOutcome =
  { enabled: true } | { enabled: false; reason: string }

const MUTATION = `mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) {
    pullRequest { number }
  }
}`

/**
 * Turns on auto-merge for a pull request (GraphQL: REST has no endpoint for
 * it). A refusal (the repository does not allow auto-merge, the PR is not
 * in a state for it) is a value, not an exception: the pick itself is done.
 */
export async function enableAutoMerge(
  client: GitHubClient,
  pullRequestNodeId: string,
  method: AutoMergeMethod
): Promise<AutoMergeOutcome> {
  try {
    await client.graphql(MUTATION, {
      pullRequestId: pullRequestNodeId,
      mergeMethod: method.toUpperCase()
    })
    return { enabled: true }
  } catch (error) {
    const errors = (error as { errors?: { message?: string }[] }).errors
    const reason =
      errors
        ?.map((entry) => entry.message)
        .filter(Boolean)
        .join('; ') || (error instanceof Error ? error.message : String(error))
    return { enabled: false, reason }
  }
}
