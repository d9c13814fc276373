import { codeBlock } from '../common/summary.js'
import { Selection } from '../github/merge-method.js'
import { pickBranchName, TargetReport } from './pick-target.js'

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
  return withMarker(pickedSection(message))
}

function pickedSection(message: PickedMessage): string[] {
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
  return lines
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
  /** Merges among `shas` picked with `-m 1`. */
  mainlineShas?: readonly string[]
  draftUrl?: string
  branch: string
  mode: 'push' | 'pull-request'
  /** git's own words when it stopped; CONFLICT lines are quoted. */
  gitMessage?: string
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
  const merges = message.mainlineShas ?? []
  const picks = message.mainline
    ? [`git cherry-pick -x -m ${message.mainline} ${message.shas.join(' ')}`]
    : merges.length === 0
      ? [`git cherry-pick -x ${message.shas.join(' ')}`]
      : message.shas.map((sha) =>
          merges.includes(sha)
            ? `git cherry-pick -x -m 1 ${sha}`
            : `git cherry-pick -x ${sha}`
        )
  const land =
    message.mode === 'push'
      ? `git push origin ${q(`HEAD:refs/heads/${message.target}`)}`
      : `git push origin ${q(`HEAD:refs/heads/${message.branch}`)}  # then open a pull request into ${q(message.target)}`
  return [
    `git fetch origin ${q(message.target)} ${message.shas.join(' ')}`,
    `git switch --create ${q(message.branch)} ${q(`origin/${message.target}`)}`,
    ...picks,
    '# fix the conflicts, then for each stop:',
    'git add <files> && git cherry-pick --continue',
    land
  ].join('\n')
}

/** git's CONFLICT lines, at most five, each cut to fit a comment. */
export function conflictLines(gitMessage: string): string[] {
  const lines = gitMessage.split('\n').map((line) => line.trim())
  const conflicts = lines.filter((line) => line.startsWith('CONFLICT'))
  const chosen = (conflicts.length ? conflicts : lines.filter(Boolean)).slice(
    0,
    5
  )
  return chosen.map((line) =>
    line.length > 160 ? `${line.slice(0, 157)}...` : line
  )
}

/** The conflict comment: files, the commit that failed, what to run. */
export function conflictComment(message: ConflictMessage): string {
  return withMarker(conflictSection(message))
}

function conflictSection(message: ConflictMessage): string[] {
  const lines = [
    `⚠️ @${message.author} the cherry-pick onto \`${message.target}\` stopped on a conflict in ${short(message.failed)}. Nothing was pushed to \`${message.target}\`.`,
    '',
    'Conflicting files:',
    ...message.files.map((file) => `- \`${file}\``),
    ''
  ]
  const said = conflictLines(message.gitMessage ?? '')
  if (said.length) {
    lines.push('git said:', '', codeBlock(said.join('\n'), 'text'), '')
  }
  if (message.draftUrl) {
    lines.push(
      `A draft pull request has the conflict committed with its markers: ${message.draftUrl}. Resolve it there, or redo the pick locally:`,
      ''
    )
  } else {
    lines.push('To do the pick locally:', '')
  }
  lines.push(codeBlock(localCommands(message), 'sh'))
  return lines
}

/** The comment on a labelled PR that is still open. */
export function waitComment(
  targets: string | undefined | readonly (string | undefined)[]
): string {
  const list = Array.isArray(targets) ? targets : [targets]
  const where = list
    .map((target) => (target ? `\`${target}\`` : 'the current release branch'))
    .join(' and ')
  return withMarker([
    `🕒 This pull request will be cherry-picked onto ${where} when it is merged.`
  ])
}

/** The comment when the push was refused for touching workflow files. */
export function workflowPermissionComment(target: string): string {
  return withMarker(workflowPermissionSection(target))
}

function workflowPermissionSection(target: string): string[] {
  return [
    `❌ The cherry-pick onto \`${target}\` applied cleanly, but GitHub refused the push: it changes a file under \`.github/workflows/\` and the token has no \`workflows\` permission.`,
    '',
    'Give the action a `push-token` from a GitHub App with the `workflows` permission (or a PAT with the `workflow` scope), or pick this change by hand. Nothing was pushed.'
  ]
}

/** A failure comment with one line saying what went wrong. */
export function failureComment(reason: string): string {
  return withMarker([`❌ Cherry-pick not done: ${reason}`])
}

/** A request not acted upon (who asked, or which target), with the rule. */
export function refusalComment(lines: string[]): string {
  return withMarker([refusalText(lines)])
}

/** The refusal's text without the marker, as a section of a run's comment. */
export function refusalText(lines: string[]): string {
  return [`🚫 ${lines[0] ?? ''}`, ...lines.slice(1)].join('\n')
}

/** Everything one run did, for its single comment on the original PR. */
export interface RunMessage {
  pullNumber: number
  author: string
  mode: 'push' | 'pull-request'
  targets: readonly TargetReport[]
  selection?: Selection
  skippedMerges: readonly string[]
}

const ICONS = {
  picked: '✅',
  conflict: '⚠️',
  skipped: '⏭️',
  failed: '❌'
} as const

function targetSection(run: RunMessage, report: TargetReport): string[] {
  if (report.result === 'picked') {
    const lines = pickedSection({
      target: report.target,
      commits: report.commits,
      mode: run.mode,
      pullRequestUrl: report.pullRequest?.url,
      dispatched: report.dispatched,
      alreadyPicked: report.alreadyPicked
    })
    if (report.hotfixLabel) {
      lines.push(
        '',
        `🚑 It carries \`${report.hotfixLabel}\`: once it is merged into \`${report.target}\`, staging is dispatched there and, when healthy, the link to production is posted on it.`
      )
    }
    if (report.autoMerge) {
      lines.push(
        '',
        report.autoMerge.enabled
          ? `It merges by itself once its checks pass: ${report.autoMerge.detail}.`
          : `⚠️ Auto-merge could not be turned on: ${report.autoMerge.detail}. Merge it by hand, or allow auto-merge in the repository settings.`
      )
    }
    return lines
  }
  if (report.result === 'conflict' && report.conflict) {
    const selection = run.selection
    return conflictSection({
      target: report.target,
      pullNumber: run.pullNumber,
      author: run.author,
      files: report.conflict.files,
      shas: selection?.shas ?? [report.conflict.failed],
      failed: report.conflict.failed,
      mainline: selection?.mainline,
      mainlineShas: selection?.mainlineShas,
      draftUrl: report.conflict.draftUrl,
      branch: pickBranchName(run.pullNumber, report.target),
      mode: run.mode,
      gitMessage: report.conflict.gitMessage
    })
  }
  if (report.workflowPermission) return workflowPermissionSection(report.target)
  if (report.refusal?.startsWith('🚫')) return [report.refusal]
  if (report.result === 'failed') {
    return [
      `❌ Cherry-pick onto \`${report.target}\` not done: ${report.refusal ?? report.message}`
    ]
  }
  return [`⏭️ \`${report.target}\`: nothing to do (${report.message}).`]
}

/**
 * The one comment of a run: a line per target, then each target's details
 * (new commits, the conflict with git's words and the commands, or why
 * nothing happened), and merges inside the PR that were left out.
 */
export function runComment(run: RunMessage): string {
  const lines: string[] = []
  if (run.targets.length > 1) {
    lines.push(
      `Cherry-pick of #${run.pullNumber} onto ${run.targets.length} targets:`,
      ...run.targets.map(
        (t) => `- ${ICONS[t.result]} \`${t.target}\`: ${t.result}`
      ),
      ''
    )
  }
  run.targets.forEach((report, index) => {
    if (index > 0) lines.push('', '---', '')
    lines.push(...targetSection(run, report))
  })
  if (run.skippedMerges.length) {
    lines.push(
      '',
      `Merge commits inside the pull request were left out (their changes came from the branch that was merged in): ${run.skippedMerges.map(short).join(', ')}. Set \`merge-commits-in-pr: pick\` to pick them with \`-m 1\`.`
    )
  }
  return withMarker(lines)
}

/** What the hotfix comment says. */
export interface HotfixMessage {
  status: 'healthy' | 'unhealthy' | 'timeout' | 'not-dispatched'
  target: string
  runId?: number
  runUrl?: string
  detail: string
  productionUrl?: string
  label: string
  productionWorkflow: string
  repository: string
}

/**
 * The emergency lane's comment: the staging run and, when it is healthy,
 * the production button for exactly the image that run built.
 */
export function hotfixComment(message: HotfixMessage): string {
  const run = message.runUrl ? ` (${message.runUrl})` : ''
  if (message.status !== 'healthy' || !message.productionUrl) {
    return withMarker([
      `🚑 \`${message.label}\`: staging on \`${message.target}\`${run}: ${message.detail}. Nothing to promote to production from this run.`
    ])
  }
  const command = [
    'gh workflow run',
    shellQuote(message.productionWorkflow),
    '--repo',
    shellQuote(message.repository),
    '--ref',
    shellQuote(message.target),
    '-f',
    `staging-run-id=${message.runId}`
  ].join(' ')
  return withMarker([
    `🚑 \`${message.label}\`: the pick is live on staging from \`${message.target}\`, and staging run ${message.runId}${run} is healthy.`,
    '',
    `**Start the production deploy of that image:** ${message.productionUrl} → "Run workflow", branch \`${message.target}\`, \`staging-run-id\` = \`${message.runId}\`, or:`,
    '',
    codeBlock(command, 'sh')
  ])
}
