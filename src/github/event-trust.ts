// Which workflow events let someone without write access choose the code that
// runs or the branch name a run carries, so that shared caches stay theirs to read only.

/** The `cache-write` input. */
export type CacheWriteSetting = 'auto' | 'true' | 'false'
export const CACHE_WRITE_SETTINGS: readonly CacheWriteSetting[] = [
  'auto',
  'true',
  'false'
]

/** The parts of a webhook payload the decision reads. */
export interface EventPayload {
  repository?: { full_name?: string; default_branch?: string }
  pull_request?: {
    number?: number
    base?: { ref?: string }
    head?: { ref?: string; repo?: { full_name?: string } | null }
  }
  issue?: { number?: number; pull_request?: unknown }
}

export interface CacheWriteDecision {
  write: boolean
  /** One sentence for the job summary: what decided it. */
  reason: string
  /**
   * The branch whose cache names this run uses: the pushed branch, or the
   * base branch of a pull request (never the head branch, which the pull
   * request's author names).
   */
  cacheBranch: string
  /** The pull request this run builds, when there is one. */
  pullRequest?: number
}

// Events whose code and ref only people with write access choose. Anything
// else (pull requests, comments, workflow_run, events added later) is
// treated as untrusted until someone adds it here on purpose.
const TRUSTED_EVENTS = new Set([
  'push',
  'workflow_dispatch',
  'schedule',
  'merge_group',
  'release',
  'repository_dispatch'
])

const PULL_REQUEST_EVENTS = new Set([
  'pull_request',
  'pull_request_target',
  'pull_request_review',
  'pull_request_review_comment'
])

function fromFork(payload: EventPayload): boolean {
  const head = payload.pull_request?.head?.repo?.full_name
  const base = payload.repository?.full_name
  return !head || !base || head !== base
}

/**
 * Whether this run may write the shared caches (registry cache tags, Actions
 * cache entries), and under which branch's name it reads and writes them.
 * `auto` writes only for trusted events; a pull request, even from the same
 * repository, reads its base branch's caches and writes none, because its
 * code is not reviewed yet and the base branch's names are the only ones it
 * may use.
 */
export function decideCacheWrite(input: {
  setting: CacheWriteSetting
  eventName: string
  payload: EventPayload
  /** GITHUB_REF_NAME (or GITHUB_REF without refs/heads/). */
  refName: string
  /** GITHUB_BASE_REF. */
  baseRef?: string
}): CacheWriteDecision {
  const { setting, eventName, payload } = input
  const pullRequest = payload.pull_request?.number ?? undefined
  const isPullRequest = PULL_REQUEST_EVENTS.has(eventName)
  const cacheBranch =
    (isPullRequest
      ? input.baseRef || payload.pull_request?.base?.ref
      : undefined) ||
    input.refName ||
    payload.repository?.default_branch ||
    'main'
  const base = { cacheBranch, pullRequest }
  if (setting === 'true') {
    return { ...base, write: true, reason: 'input "cache-write" is true' }
  }
  if (setting === 'false') {
    return { ...base, write: false, reason: 'input "cache-write" is false' }
  }
  if (TRUSTED_EVENTS.has(eventName)) {
    return {
      ...base,
      write: true,
      reason: `event "${eventName}" runs code and a branch name only writers choose`
    }
  }
  let why: string
  if (eventName === 'pull_request_target') {
    why =
      'it runs with the base repository\u2019s rights for a pull request whose head branch anyone can name'
  } else if (eventName === 'issue_comment') {
    why = 'anyone who can comment starts it'
  } else if (isPullRequest && fromFork(payload)) {
    why = 'the pull request comes from a fork'
  } else if (isPullRequest) {
    why = 'the pull request\u2019s code is not reviewed yet'
  } else {
    why =
      'it is not one of the events whose code and branch only writers choose'
  }
  return {
    ...base,
    write: false,
    reason: `event "${eventName || 'unknown'}": ${why}; the caches are read, not written (input "cache-write": auto)`
  }
}
