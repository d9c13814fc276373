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

/**
 * Dispatches like `dispatchWorkflow` and returns the id of the run it
 * started (`return_run_details`, GitHub since 2026-02), so the caller can
 * wait for exactly that run instead of guessing among recent runs.
 */
export async function dispatchWorkflowRun(
  client: GitHubClient,
  repo: RepoRef,
  workflow: string,
  ref: string,
  inputs: Record<string, string> = {}
): Promise<number | undefined> {
  const response = await client.request(
    'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches',
    {
      ...repo,
      workflow_id: workflow,
      ref,
      inputs,
      return_run_details: true
    }
  )
  const id = (response.data as { workflow_run_id?: unknown } | undefined)
    ?.workflow_run_id
  return typeof id === 'number' ? id : undefined
}
