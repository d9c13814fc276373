import { GitHubClient, RepoRef } from './client.js'

/**
 * Who last added `label` to an issue or pull request, from its issue
 * events: a label seen at merge time says nothing about who put it there.
 * Undefined when no `labeled` event names it.
 */
export async function whoAddedLabel(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
  label: string
): Promise<string | undefined> {
  const events = await client.paginate(client.rest.issues.listEvents, {
    ...repo,
    issue_number: number,
    per_page: 100
  })
  let actor: string | undefined
  for (const event of events) {
    const named = (event as { label?: { name?: string } }).label?.name
    if (event.event === 'labeled' && named === label) {
      actor = event.actor?.login ?? actor
    }
  }
  return actor
}
