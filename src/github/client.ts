import * as core from '@actions/core'
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'
import Bottleneck from 'bottleneck/light.js'

/** The Octokit every helper takes; built once per action run. */
export type GitHubClient = ReturnType<typeof getOctokit>

/** A repository as the REST API names it. */
export interface RepoRef {
  owner: string
  repo: string
}

/** Tries of one request that GitHub rate-limits, the first included. */
export const RATE_LIMIT_TRIES = 4

/** Writes sent without a pause before the one-a-second spacing starts. */
export const WRITE_BURST = 10

/**
 * Writes go one at a time. GitHub asks for a second between writes when a
 * client makes many of them; a run makes a handful (label, comment, pull
 * request), and plugin-throttling's fixed 1 s spacing made those pauses
 * most of a pick's time. A bucket of WRITE_BURST, refilled one a second,
 * keeps the spacing for longer bursts.
 */
function writeLimiter(): Bottleneck.Group {
  return new Bottleneck.Group({
    maxConcurrent: 1,
    reservoir: WRITE_BURST,
    reservoirIncreaseAmount: 1,
    reservoirIncreaseInterval: 1000,
    reservoirIncreaseMaximum: WRITE_BURST
  })
}

/**
 * An Octokit for `token` against `baseUrl`. The base URL is passed
 * explicitly (from `GITHUB_API_URL`) so GHES and the test stand-in are
 * reached the same way as github.com.
 *
 * Rate limits and 5xx are GitHub's normal weather: plugin-throttling queues
 * writes one at a time (past a burst of WRITE_BURST, 1 s apart) and waits `Retry-After` or
 * `x-ratelimit-reset` before a retry; plugin-retry retries 5xx with growing
 * pauses (1 s, 4 s, 9 s). Both are bounded, and the error a request finally
 * ends in names the request.
 */
export function createGitHubClient(
  token: string,
  baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
): GitHubClient {
  const retryWhile =
    (kind: string) =>
    (
      retryAfter: number,
      options: { method?: string; url?: string },
      _octokit: unknown,
      retryCount: number
    ): boolean => {
      const again = retryCount < RATE_LIMIT_TRIES - 1
      core.warning(
        `GitHub ${kind} on ${options.method} ${options.url}: ${again ? `retrying in ${retryAfter}s` : `giving up after ${retryCount + 1} tries`}`
      )
      return again
    }
  const octokit = getOctokit(
    token,
    {
      baseUrl,
      throttle: {
        onRateLimit: retryWhile('rate limit'),
        onSecondaryRateLimit: retryWhile('secondary rate limit'),
        write: writeLimiter()
      },
      retry: { retries: 3 }
    },
    retry,
    throttling
  )
  octokit.hook.error('request', (error, options) => {
    if (error instanceof Error && !/^GitHub [A-Z]+ \//.test(error.message)) {
      error.message = `GitHub ${options.method} ${options.url} failed${'status' in error ? ` (${String(error.status)})` : ''}: ${error.message}`
    }
    throw error
  })
  return octokit
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
