import { GitHubClient, RepoRef } from './client.js'

/**
 * Starts a workflow (file name such as `deploy-staging.yml`, or its id) on
 * `ref` through `workflow_dispatch`: the one kind of run a push made with
 * `GITHUB_TOKEN` may still start.
 */
export async function dispatchWorkflow(
  client: GitHubClient,
  repo: RepoRef,
  workflow: string,
  ref: string,
  inputs: Record<string, string> = {}
): Promise<void> {
  await client.rest.actions.createWorkflowDispatch({
    ...repo,
    workflow_id: /^\d+$/.test(workflow) ? Number(workflow) : workflow,
    ref,
    inputs
  })
}
