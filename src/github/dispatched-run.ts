import { Clock } from '../common/clock.js'
import { GitHubClient, RepoRef } from './client.js'

/** How a dispatched workflow run ended, as far as waiting could tell. */
export type RunVerdict =
  | { status: 'success'; htmlUrl: string }
  | { status: 'failure'; conclusion: string; htmlUrl: string }
  | { status: 'timeout'; htmlUrl: string; waitedMs: number }

/**
 * Polls one workflow run (the run a `workflow_dispatch` started) until it
 * completes or `timeoutMs` passes. Only `conclusion: success` is healthy.
 */
export async function waitForRun(
  client: GitHubClient,
  repo: RepoRef,
  runId: number,
  options: { timeoutMs: number; intervalMs: number; clock: Clock }
): Promise<RunVerdict> {
  const { clock } = options
  const started = clock.now()
  let htmlUrl = ''
  for (;;) {
    const { data } = await client.rest.actions.getWorkflowRun({
      ...repo,
      run_id: runId
    })
    htmlUrl = data.html_url
    if (data.status === 'completed') {
      return data.conclusion === 'success'
        ? { status: 'success', htmlUrl }
        : {
            status: 'failure',
            conclusion: data.conclusion ?? 'unknown',
            htmlUrl
          }
    }
    const waited = clock.now() - started
    if (waited + options.intervalMs > options.timeoutMs) {
      return { status: 'timeout', htmlUrl, waitedMs: waited }
    }
    await clock.sleep(options.intervalMs)
  }
}
