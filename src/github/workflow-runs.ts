import { GitHubClient, RepoRef } from './client.js'

/** The fields of a workflow run that say where it came from and how it ended. */
export interface WorkflowRun {
  id: number
  name: string
  /** The workflow file, for example `.github/workflows/staging.yml`. */
  path: string
  event: string
  headBranch: string
  headSha: string
  status: string
  conclusion: string
  /** `owner/name` the run belongs to. */
  repository: string
  /** `owner/name` the head commit came from (a fork for a fork's pull request). */
  headRepository: string
  htmlUrl: string
}

/** One run through `GET /repos/{owner}/{repo}/actions/runs/{run_id}`. */
export async function getWorkflowRun(
  client: GitHubClient,
  repo: RepoRef,
  runId: number
): Promise<WorkflowRun> {
  const { data } = await client.rest.actions.getWorkflowRun({
    ...repo,
    run_id: runId
  })
  return {
    id: data.id,
    name: data.name ?? '',
    path: data.path ?? '',
    event: data.event,
    headBranch: data.head_branch ?? '',
    headSha: data.head_sha,
    status: data.status ?? '',
    conclusion: data.conclusion ?? '',
    repository: data.repository?.full_name ?? '',
    headRepository: data.head_repository?.full_name ?? '',
    htmlUrl: data.html_url
  }
}
