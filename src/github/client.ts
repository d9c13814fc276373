import * as core from '@actions/core'
import { getOctokit } from '@actions/github'

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

/** Retries of a request GitHub failed with a 5xx (or another retryable status). */
const SERVER_ERROR_RETRIES = 3

/** Statuses a retry cannot change (plugin-retry's list). */
const FINAL_STATUSES = [400, 401, 403, 404, 410, 422, 451]

/** Secondary rate limits without `retry-after`: GitHub's advice is a minute. */
const SECONDARY_FALLBACK_SECONDS = 60

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Writes go one at a time, from a bucket of WRITE_BURST refilled one a
 * second: GitHub asks for a second between writes when a client makes many;
 * a run makes a handful (tree, commit, ref, label, comment), which go at once.
 */
function writeGate(): <T>(write: () => Promise<T>) => Promise<T> {
  let tokens = WRITE_BURST
  let refilled = Date.now()
  let queue: Promise<unknown> = Promise.resolve()
  return <T>(write: () => Promise<T>): Promise<T> => {
    const turn = queue.then(async () => {
      const now = Date.now()
      tokens = Math.min(WRITE_BURST, tokens + (now - refilled) / 1000)
      refilled = now
      if (tokens < 1) {
        await sleep((1 - tokens) * 1000)
        tokens = 1
        refilled = Date.now()
      }
      tokens -= 1
      return write()
    })
    queue = turn.catch(() => undefined)
    return turn
  }
}

interface ResponseError {
  status?: number
  message?: string
  response?: { headers?: Record<string, string | number | undefined> }
}

/**
 * How long GitHub asks to wait before trying again, and under which name,
 * or undefined when the error is not a rate limit: a secondary limit names
 * itself or sends `retry-after`; a primary one leaves no requests until
 * `x-ratelimit-reset`.
 */
function rateLimitWait(
  error: ResponseError
): { kind: string; seconds: number } | undefined {
  if (error.status !== 403 && error.status !== 429) return undefined
  const headers = error.response?.headers ?? {}
  const retryAfter = Number(headers['retry-after'])
  if (/secondary rate/i.test(error.message ?? '') || retryAfter > 0) {
    return {
      kind: 'secondary rate limit',
      seconds: retryAfter || SECONDARY_FALLBACK_SECONDS
    }
  }
  if (
    String(headers['x-ratelimit-remaining']) === '0' ||
    error.status === 429
  ) {
    // A 429 without the reset header: wait as for a secondary limit.
    const reset = Number(headers['x-ratelimit-reset'])
    return {
      kind: 'rate limit',
      seconds:
        reset > 0
          ? Math.max(Math.ceil(reset - Date.now() / 1000) + 1, 1)
          : SECONDARY_FALLBACK_SECONDS
    }
  }
  return undefined
}

function isWrite(options: {
  method?: string
  url?: string
  query?: unknown
}): boolean {
  if (options.method === 'GET' || options.method === 'HEAD') return false
  // A GraphQL query reads; only a mutation writes.
  return !(
    options.url === '/graphql' &&
    typeof options.query === 'string' &&
    !/^\s*mutation\b/.test(options.query)
  )
}

/**
 * An Octokit for `token` against `baseUrl`. The base URL is passed
 * explicitly (from `GITHUB_API_URL`) so GHES and the test stand-in are
 * reached the same way as github.com.
 *
 * Rate limits and 5xx are GitHub's normal weather: writes go through the
 * write gate; a rate limit waits `retry-after` or `x-ratelimit-reset` and
 * tries again, RATE_LIMIT_TRIES in all; a 5xx is retried with growing pauses
 * (1 s, 4 s, 9 s). The error a request finally ends in names the request.
 * This is plugin-throttling and plugin-retry's behaviour in one request
 * hook: their Bottleneck queues yield to the timer loop at every step,
 * which cost 16 ms a request, on a clean pick's nine requests in a row.
 */
export function createGitHubClient(
  token: string,
  baseUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
): GitHubClient {
  const octokit = getOctokit(token, { baseUrl })
  const gate = writeGate()
  octokit.hook.wrap('request', async (request, options) => {
    const write = isWrite(options)
    let limited = 0
    let failed = 0
    for (;;) {
      try {
        return await (write
          ? gate(async () => request(options))
          : request(options))
      } catch (error) {
        const failure = error as ResponseError
        const limit = rateLimitWait(failure)
        const where = `${options.method} ${options.url}`
        if (limit) {
          limited++
          if (limited >= RATE_LIMIT_TRIES) {
            core.warning(
              `GitHub ${limit.kind} on ${where}: giving up after ${limited} tries`
            )
            throw error
          }
          core.warning(
            `GitHub ${limit.kind} on ${where}: retrying in ${limit.seconds}s`
          )
          await sleep(limit.seconds * 1000)
          continue
        }
        const status = failure.status ?? 0
        if (
          status < 400 ||
          FINAL_STATUSES.includes(status) ||
          failed >= SERVER_ERROR_RETRIES
        ) {
          throw error
        }
        failed++
        await sleep(failed * failed * 1000)
      }
    }
  })
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
