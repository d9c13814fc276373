import { GitHubClient, httpStatus, RepoRef } from './client.js'

const WRITE_LEVELS = new Set(['admin', 'maintain', 'write'])

/**
 * Whether `user` may push to the repository, from the collaborator
 * permission API (`role_name` first: it knows `maintain`; `permission`
 * folds it into `write`). Someone who is no collaborator has no access.
 */
export async function hasWriteAccess(
  client: GitHubClient,
  repo: RepoRef,
  user: string
): Promise<boolean> {
  try {
    const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
      ...repo,
      username: user
    })
    const role = (data as { role_name?: string }).role_name
    return WRITE_LEVELS.has(role ?? '') || WRITE_LEVELS.has(data.permission)
  } catch (error) {
    if (httpStatus(error) === 404) return false
    throw error
  }
}
