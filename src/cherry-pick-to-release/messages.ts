import { codeBlock } from '../common/summary.js'

/** Marks this action's comments, so people and scripts can find them. */
export const COMMENT_MARKER = '<!-- cherry-pick-to-release -->'

function short(sha: string): string {
  return sha.slice(0, 12)
}

function withMarker(lines: string[]): string {
  return [COMMENT_MARKER, ...lines].join('\n')
}

/** A pick that landed (pushed, or proposed as a pull request). */
export interface PickedMessage {
  target: string
  commits: readonly { source: string; sha: string }[]
  mode: 'push' | 'pull-request'
  pullRequestUrl?: string
  dispatched?: string
  alreadyPicked?: readonly string[]
}

/** The success comment: target branch and each new SHA with its source. */
export function pickedComment(message: PickedMessage): string {
  const lines =
    message.mode === 'push'
      ? [`✅ Cherry-picked onto \`${message.target}\`:`]
      : [
          `✅ Cherry-picked onto a branch for \`${message.target}\`: ${message.pullRequestUrl ?? ''}`.trimEnd()
        ]
  lines.push('')
  for (const commit of message.commits) {
    lines.push(`- ${commit.sha} (from ${short(commit.source)})`)
  }
  if (message.alreadyPicked?.length) {
    lines.push(
      '',
      `Already on \`${message.target}\`, left out: ${message.alreadyPicked.map(short).join(', ')}`
    )
  }
  if (message.dispatched) {
    lines.push(
      '',
      `Started \`${message.dispatched}\` on \`${message.target}\` (a push with GITHUB_TOKEN starts no workflow by itself).`
    )
  }
  return withMarker(lines)
}

/** What a conflict comment needs. */
export interface ConflictMessage {
  target: string
  pullNumber: number
  author: string
  files: readonly string[]
  /** All source commits of the pick, in order. */
  shas: readonly string[]
  failed: string
  mainline?: number
  draftUrl?: string
  branch: string
  mode: 'push' | 'pull-request'
}

/**
 * Quotes one word for a POSIX shell: a valid branch name can hold `$(...)`
 * or a backtick, which must stay text when the command is pasted.
 */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** The exact commands that redo the pick on a developer's machine. */
export function localCommands(message: ConflictMessage): string {
  const q = shellQuote
  const pick = ['git cherry-pick -x']
  if (message.mainline) pick.push(`-m ${message.mainline}`)
  pick.push(...message.shas)
  const land =
    message.mode === 'push'
      ? `git push origin ${q(`HEAD:refs/heads/${message.target}`)}`
      : `git push origin ${q(`HEAD:refs/heads/${message.branch}`)}  # then open a pull request into ${q(message.target)}`
  return [
    `git fetch origin ${q(message.target)} ${message.shas.join(' ')}`,
    `git switch --create ${q(message.branch)} ${q(`origin/${message.target}`)}`,
    pick.join(' '),
    '# fix the conflicts, then for each stop:',
    'git add <files> && git cherry-pick --continue',
    land
  ].join('\n')
}

/** The conflict comment: files, the commit that failed, what to run. */
export function conflictComment(message: ConflictMessage): string {
  const lines = [
    `⚠️ @${message.author} the cherry-pick onto \`${message.target}\` stopped on a conflict in ${short(message.failed)}. Nothing was pushed to \`${message.target}\`.`,
    '',
    'Conflicting files:',
    ...message.files.map((file) => `- \`${file}\``),
    ''
  ]
  if (message.draftUrl) {
    lines.push(
      `A draft pull request has the conflict committed with its markers: ${message.draftUrl}. Resolve it there, or redo the pick locally:`,
      ''
    )
  } else {
    lines.push('To do the pick locally:', '')
  }
  lines.push(codeBlock(localCommands(message), 'sh'))
  return withMarker(lines)
}

/** The comment on a labelled PR that is still open. */
export function waitComment(target: string | undefined): string {
  const where = target ? `\`${target}\`` : 'the current release branch'
  return withMarker([
    `🕒 This pull request will be cherry-picked onto ${where} when it is merged.`
  ])
}

/** The comment when the push was refused for touching workflow files. */
export function workflowPermissionComment(target: string): string {
  return withMarker([
    `❌ The cherry-pick onto \`${target}\` applied cleanly, but GitHub refused the push: it changes a file under \`.github/workflows/\` and the token has no \`workflows\` permission.`,
    '',
    'Give the action a `push-token` from a GitHub App with the `workflows` permission (or a PAT with the `workflow` scope), or pick this change by hand. Nothing was pushed.'
  ])
}

/** A failure comment with one line saying what went wrong. */
export function failureComment(reason: string): string {
  return withMarker([`❌ Cherry-pick not done: ${reason}`])
}

/** A request not acted upon (who asked, or which target), with the rule. */
export function refusalComment(lines: string[]): string {
  return withMarker([`🚫 ${lines[0] ?? ''}`, ...lines.slice(1)])
}
