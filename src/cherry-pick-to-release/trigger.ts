import { ConfigurationError } from '../common/errors.js'

/** What started the run, reduced to what the pick needs. */
export type Trigger =
  | { kind: 'ignore'; reason: string }
  | {
      kind: 'pick'
      source: 'merged' | 'labeled' | 'comment'
      pullNumber: number
      /** An explicit target (`cherry-pick:<branch>` or `/cherry-pick <branch>`). */
      branch?: string
      /** The label that asked, re-added by a comment on an open PR. */
      label?: string
      /**
       * Who asked (the commenter, or who added the label of a labeled
       * event); for a merge it is read from the label's events. Checked
       * for write access before anything happens.
       */
      requester?: string
      /** Further labels asking for other targets, not handled by this run. */
      ignoredLabels?: string[]
    }

/** How the action recognises requests. */
export interface TriggerOptions {
  label: string
  commentTrigger: boolean
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

/** Reads `/cherry-pick` or `/cherry-pick <branch>` from a comment's first line. */
export function parseCommand(body: string): { branch?: string } | undefined {
  const first = body.trim().split(/\r?\n/)[0] ?? ''
  const match = /^\/cherry-pick(?:\s+(\S+))?\s*$/.exec(first.trim())
  if (!match) return undefined
  return match[1] ? { branch: match[1] } : {}
}

interface Labelled {
  name?: string
}

/** The fields of a webhook payload the trigger reads. */
export interface EventPayload {
  action?: string
  label?: Labelled
  pull_request?: { number?: number; merged?: boolean; labels?: Labelled[] }
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
        label: added,
        requester: payload.sender?.login ?? '',
        ...request
      }
    }
    if (payload.action === 'closed') {
      if (!pull.merged) {
        return {
          kind: 'ignore',
          reason: `pull request #${pull.number} was closed without merging`
        }
      }
      const requests = (pull.labels ?? [])
        .map((label) => ({
          name: label.name ?? '',
          request: parseLabel(label.name ?? '', options.label)
        }))
        .filter((entry) => entry.request !== undefined)
      const [first, ...others] = requests
      if (!first) {
        return {
          kind: 'ignore',
          reason: `pull request #${pull.number} has no "${options.label}" label`
        }
      }
      return {
        kind: 'pick',
        source: 'merged',
        pullNumber: pull.number,
        label: first.name,
        ...first.request,
        ignoredLabels: others.map((entry) => entry.name)
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
    const request = parseCommand(payload.comment?.body ?? '')
    if (!request)
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
    return {
      kind: 'pick',
      source: 'comment',
      pullNumber: payload.issue.number,
      requester: payload.comment?.user?.login ?? '',
      ...request
    }
  }
  throw new ConfigurationError(
    `cherry-pick-to-release runs on pull_request, pull_request_target or issue_comment events, not "${eventName}"`
  )
}
