import { ConfigurationError } from '../common/errors.js'

/** One target asked for: the current release branch, or a named branch. */
export interface TargetRequest {
  /** The label that asked (absent for a comment). */
  label?: string
  /** An explicit target (`cherry-pick:<branch>` or `/cherry-pick <branch>`). */
  branch?: string
  /**
   * Who asked (the commenter, or who added the label of a labeled event);
   * for a merge it is read from the label's events. Checked for write
   * access before anything happens.
   */
  requester?: string
}

/** What started the run, reduced to what the pick needs. */
export type Trigger =
  | { kind: 'ignore'; reason: string }
  | {
      kind: 'pick'
      source: 'merged' | 'labeled' | 'comment'
      pullNumber: number
      /** Every target asked for, picked one after another. */
      targets: TargetRequest[]
    }
  | {
      /**
       * A pick PR (`cherry-pick/<n>-to-<base>`, opened by this action in
       * mode pull-request) carrying the hotfix label was merged: the hotfix
       * lane dispatches staging on `base`.
       */
      kind: 'hotfix-merged'
      pullNumber: number
      base: string
    }

/** How the action recognises requests. */
export interface TriggerOptions {
  label: string
  commentTrigger: boolean
  hotfixLabel: string
}

/**
 * Reads a label: `cherry-pick` → the current release branch;
 * `cherry-pick:<branch>` → that branch. Anything else is not a request.
 */
export function parseLabel(
  name: string,
  label: string
): { branch?: string } | undefined {
  if (name === label) return {}
  const prefix = `${label}:`
  if (name.startsWith(prefix) && name.length > prefix.length) {
    return { branch: name.slice(prefix.length).trim() }
  }
  return undefined
}

/**
 * Reads `/cherry-pick` (the current release branch) or `/cherry-pick <branch>
 * <branch>…` from a comment's first line: one request per named branch.
 */
export function parseCommand(body: string): { branch?: string }[] | undefined {
  const first = (body.trim().split(/\r?\n/)[0] ?? '').trim()
  const match = /^\/cherry-pick(?:\s+(.*))?$/.exec(first)
  if (!match) return undefined
  const branches = [...new Set((match[1] ?? '').split(/\s+/).filter(Boolean))]
  return branches.length ? branches.map((branch) => ({ branch })) : [{}]
}

interface Labelled {
  name?: string
}

interface BranchEnd {
  ref?: string
  repo?: { full_name?: string } | null
}

/**
 * The base branch when the merged PR is one of this action's pick PRs into
 * it (same repository, branch `cherry-pick/<n>-to-<base>`) carrying the
 * hotfix label; undefined otherwise.
 */
export function mergedHotfixPick(
  pull: NonNullable<EventPayload['pull_request']>,
  hotfixLabel: string
): string | undefined {
  const base = pull.base?.ref ?? ''
  const head = pull.head?.ref ?? ''
  const sameRepository =
    !!pull.head?.repo?.full_name &&
    pull.head.repo.full_name === pull.base?.repo?.full_name
  const isPick = /^cherry-pick\/\d+-to-(.+)$/.exec(head)?.[1] === base
  const labelled = (pull.labels ?? []).some((l) => l.name === hotfixLabel)
  return base && sameRepository && isPick && labelled ? base : undefined
}

/** The fields of a webhook payload the trigger reads. */
export interface EventPayload {
  action?: string
  label?: Labelled
  pull_request?: {
    number?: number
    merged?: boolean
    labels?: Labelled[]
    head?: BranchEnd
    base?: BranchEnd
  }
  issue?: { number?: number; pull_request?: unknown }
  comment?: { body?: string; user?: { login?: string } }
  sender?: { login?: string }
}

const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target']

/**
 * Decides from the event whether to pick, and for which PR and target.
 * Throws `ConfigurationError` for an event this action cannot serve.
 */
export function parseTrigger(
  eventName: string,
  payload: EventPayload,
  options: TriggerOptions
): Trigger {
  if (PULL_REQUEST_EVENTS.includes(eventName)) {
    const pull = payload.pull_request
    if (!pull?.number) {
      throw new ConfigurationError(
        `The ${eventName} event has no pull_request in its payload`
      )
    }
    if (payload.action === 'labeled') {
      // Only the label just added counts: another label added after merge
      // must not pick again.
      const added = payload.label?.name ?? ''
      const request = parseLabel(added, options.label)
      if (!request) {
        return {
          kind: 'ignore',
          reason: `label "${added}" is not a cherry-pick request`
        }
      }
      return {
        kind: 'pick',
        source: 'labeled',
        pullNumber: pull.number,
        targets: [
          { label: added, requester: payload.sender?.login ?? '', ...request }
        ]
      }
    }
    if (payload.action === 'closed') {
      if (!pull.merged) {
        return {
          kind: 'ignore',
          reason: `pull request #${pull.number} was closed without merging`
        }
      }
      const targets: TargetRequest[] = []
      for (const label of pull.labels ?? []) {
        const request = parseLabel(label.name ?? '', options.label)
        if (request) targets.push({ label: label.name, ...request })
      }
      const hotfixBase =
        targets.length === 0
          ? mergedHotfixPick(pull, options.hotfixLabel)
          : undefined
      if (hotfixBase) {
        return {
          kind: 'hotfix-merged',
          pullNumber: pull.number,
          base: hotfixBase
        }
      }
      if (targets.length === 0) {
        return {
          kind: 'ignore',
          reason: `pull request #${pull.number} has no "${options.label}" label`
        }
      }
      return {
        kind: 'pick',
        source: 'merged',
        pullNumber: pull.number,
        targets
      }
    }
    return {
      kind: 'ignore',
      reason: `${eventName} action "${payload.action}" does not start a pick`
    }
  }
  if (eventName === 'issue_comment') {
    if (!options.commentTrigger) {
      return {
        kind: 'ignore',
        reason: 'comment triggers are turned off (input "comment-trigger")'
      }
    }
    if (payload.action !== 'created') {
      return {
        kind: 'ignore',
        reason: `comment action "${payload.action}" does not start a pick`
      }
    }
    const requests = parseCommand(payload.comment?.body ?? '')
    if (!requests)
      return {
        kind: 'ignore',
        reason: 'the comment is not a /cherry-pick command'
      }
    if (!payload.issue?.number || !payload.issue.pull_request) {
      return {
        kind: 'ignore',
        reason: '/cherry-pick was written on an issue, not a pull request'
      }
    }
    const requester = payload.comment?.user?.login ?? ''
    return {
      kind: 'pick',
      source: 'comment',
      pullNumber: payload.issue.number,
      targets: requests.map((request) => ({ requester, ...request }))
    }
  }
  throw new ConfigurationError(
    `cherry-pick-to-release runs on pull_request, pull_request_target or issue_comment events, not "${eventName}"`
  )
}
