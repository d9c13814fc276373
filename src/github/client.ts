import { getOctokit } from '@actions/github'

/** The Octokit every helper takes; built once per action run. */
export type GitHubClient = ReturnType<typeof getOctokit>

/** A repository as the REST API names it. */
export interface RepoRef {
  owner: string
  repo: string
}

/**
 * An Octokit for `token` against `baseUrl`. The base URL is passed
 * explicitly (from `GITHUB_API_URL`) so GHES and the test stand-in are
 * reached the same way as github.com.
 */
export function createGitHubClient(
  token: string,
  baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
): GitHubClient {
  return getOctokit(token, { baseUrl })
}

/** Splits `owner/name`; throws when the text is not of that form. */
export function parseRepository(text: string): RepoRef {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(text.trim())
  if (!match) throw new Error(`"${text}" is not an owner/name repository`)
  return { owner: match[1], repo: match[2] }
}

/** The HTTP status of an Octokit error, if it has one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status
    return typeof status === 'number' ? status : undefined
  }
  return undefined
}
