import { Git } from '../git/git.js'
import { branchMatcher, isValidBranchName } from '../git/release-branch.js'
import { GitHubClient, RepoRef } from '../github/client.js'
import { whoAddedLabel } from '../github/label-events.js'
import { hasWriteAccess } from '../github/permissions.js'
import { refusalText } from './messages.js'

// Labels this action adds itself (a /cherry-pick on an open PR becomes a
// label) carry its token's identity; the command was checked when it came.
const OWN_LABEL_ACTOR = 'github-actions[bot]'

/** One request as the trigger read it. */
export interface Request {
  source: 'merged' | 'labeled' | 'comment'
  pullNumber: number
  label?: string
  branch?: string
  /** The commenter or the sender of a labeled event; found from events otherwise. */
  requester?: string
}

/** Why a request is not acted upon: the log line and the PR comment. */
export interface Refusal {
  message: string
  comment: string
}

/** What the checks need. */
export interface AuthorizeContext {
  client: GitHubClient
  repo: RepoRef
  /** Runs `git check-ref-format`; any directory will do. */
  git: Git
  label: string
  releaseBranchPattern: string
}

/**
 * A label or a comment is a request, not an authorisation: it counts only
 * when its author has write access, and an explicit target only when it is
 * a valid branch name matching the release branch pattern.
 */
export async function refuseRequest(
  context: AuthorizeContext,
  request: Request
): Promise<Refusal | undefined> {
  const { client, repo } = context
  const user =
    request.requester ??
    (request.label
      ? await whoAddedLabel(client, repo, request.pullNumber, request.label)
      : undefined)
  const trusted =
    (user === OWN_LABEL_ACTOR && request.requester === undefined) ||
    (user !== undefined && (await hasWriteAccess(client, repo, user)))
  if (!trusted) {
    const how =
      request.source === 'comment'
        ? 'asked with `/cherry-pick`'
        : `added the label \`${request.label ?? ''}\``
    const who = user ? `@${user} ${how}` : `Nobody known ${how}`
    const full = `${repo.owner}/${repo.repo}`
    return {
      message: `${who.replace(/`/g, '"')} without write access to ${full}; nothing picked`,
      comment: refusalText([
        `${who}, but only people with write access to \`${full}\` (the write, maintain or admin role) may ask for a cherry-pick, so nothing was picked.`,
        '',
        `Someone with write access can add the \`${context.label}\` label (or \`${context.label}:<branch>\`) or comment \`/cherry-pick [branch]\`.`
      ])
    }
  }
  if (request.branch !== undefined) {
    const matches = branchMatcher(context.releaseBranchPattern)
    const valid = await isValidBranchName(context.git, request.branch)
    if (!valid || !matches(request.branch)) {
      const why = valid
        ? `does not match the release branch pattern \`${context.releaseBranchPattern}\``
        : 'is not a valid branch name'
      return {
        message: `target "${request.branch}" ${why.replace(/`/g, '"')}; nothing picked`,
        comment: refusalText([
          `\`${request.branch.replace(/`/g, "'")}\` ${why}, so nothing was picked. An explicit target (\`${context.label}:<branch>\` or \`/cherry-pick <branch>\`) must be a branch matching \`${context.releaseBranchPattern}\` (input \`release-branch-pattern\`).`
        ])
      }
    }
  }
  return undefined
}
