import * as core from '@actions/core'
import { context } from '@actions/github'
import { runAction, setOutputs } from '../common/action.js'
import { systemClock } from '../common/clock.js'
import { actionsCommandRunner } from '../common/command-runner.js'
import { markdownTable } from '../common/summary.js'
import { createGitHubClient, parseRepository } from '../github/client.js'
import { getInputs } from './inputs.js'
import { conflictLines } from './messages.js'
import { HotfixReport, stageMergedPick } from './hotfix.js'
import { PickReport, pickPullRequest } from './pick-pull-request.js'
import { EventPayload, parseTrigger } from './trigger.js'

/**
 * cherry-pick-to-release: picks a merged, labelled pull request onto every
 * release branch it asks for. A conflict is a result (`conflict`), reported
 * to the author, annotated and summarised, and does not fail the job;
 * `failed` does.
 */
export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = getInputs()
    const trigger = parseTrigger(
      context.eventName,
      context.payload as EventPayload,
      {
        label: inputs.label,
        commentTrigger: inputs.commentTrigger,
        hotfixLabel: inputs.hotfixLabel
      }
    )
    if (trigger.kind === 'ignore') {
      core.info(`Nothing to pick: ${trigger.reason}`)
      setOutputs({ result: 'skipped', commits: [], results: [] })
      return
    }
    const client = createGitHubClient(inputs.token, process.env.GITHUB_API_URL)
    const deps = {
      client,
      pushClient: inputs.pushToken
        ? createGitHubClient(inputs.pushToken, process.env.GITHUB_API_URL)
        : client,
      repo: parseRepository(process.env.GITHUB_REPOSITORY ?? ''),
      runner: actionsCommandRunner,
      clock: systemClock,
      tempDir: process.env.RUNNER_TEMP,
      serverUrl: process.env.GITHUB_SERVER_URL || 'https://github.com',
      log: (message: string) => core.info(message)
    }
    if (trigger.kind === 'hotfix-merged') {
      const hotfix = await stageMergedPick(
        deps,
        inputs,
        trigger.pullNumber,
        trigger.base
      )
      setOutputs({
        result: 'skipped',
        commits: [],
        results: [],
        'target-branch': trigger.base,
        'staging-run-id': hotfix.runId,
        'staging-result': hotfix.status
      })
      await writeHotfixSummary(trigger.pullNumber, hotfix)
      return
    }
    const report = await pickPullRequest(deps, inputs, trigger)
    const first =
      report.targets.find((t) => t.result === 'picked') ?? report.targets[0]
    const opened = report.targets.find((t) => t.pullRequest)?.pullRequest
    setOutputs({
      result: report.result,
      results: report.targets.map((t) => ({
        target: t.target,
        result: t.result,
        commits: t.commits.map((c) => c.sha),
        'pull-request': t.pullRequest?.number ?? null,
        'pull-request-url': t.pullRequest?.url ?? null,
        message: t.message
      })),
      'target-branch': first?.target,
      commits: report.targets.flatMap((t) => t.commits.map((c) => c.sha)),
      'pull-request': opened?.number,
      'pull-request-url': opened?.url,
      'staging-run-id': report.hotfix?.runId,
      'staging-result': report.hotfix?.status
    })
    for (const target of report.targets) {
      if (!target.conflict) continue
      // An error annotation shows on the run page even though the job passes.
      core.error(
        `#${report.pullNumber} onto ${target.target}: conflict in ${target.conflict.files.join(', ')}; first conflicting commit ${target.conflict.failed}`,
        { title: `Cherry-pick conflict on ${target.target}` }
      )
    }
    for (const target of report.targets) {
      if (target.autoMerge && !target.autoMerge.enabled) {
        core.warning(
          `Auto-merge of ${target.pullRequest?.url ?? target.target} refused: ${target.autoMerge.detail}`
        )
      }
    }
    if (report.hotfix) warnUnhealthy(report.hotfix)
    await writeSummary(report)
    if (report.result === 'failed') core.setFailed(report.message)
    else if (report.result === 'conflict') core.warning(report.message)
    else core.info(report.message || report.result)
  })
}

async function writeSummary(report: PickReport): Promise<void> {
  const rows: string[][] = report.targets.map((t) => [
    t.target,
    t.result,
    t.commits.map((c) => c.sha.slice(0, 12)).join(' '),
    t.pullRequest?.url ?? '',
    t.message
  ])
  const summary = core.summary
    .addRaw(`## Cherry-pick of #${report.pullNumber} to release\n\n`)
    .addRaw(`Result: **${report.result}**`)
    .addRaw(report.method ? `, merged by ${report.method}\n\n` : '\n\n')
    .addRaw(
      markdownTable(
        ['Target', 'Result', 'New commits', 'Pull request', 'Detail'],
        rows
      )
    )
    .addRaw('\n')
  for (const target of report.targets) {
    if (!target.conflict) continue
    summary.addRaw(
      [
        '',
        `### ⚠️ Conflict on \`${target.target}\``,
        '',
        `First conflicting commit: \`${target.conflict.failed}\``,
        '',
        'Files:',
        ...target.conflict.files.map((file) => `- \`${file}\``),
        '',
        '```text',
        ...conflictLines(target.conflict.gitMessage),
        '```',
        ''
      ].join('\n')
    )
  }
  if (report.hotfix) summary.addRaw(hotfixSection(report.hotfix))
  await summary.write()
}

function warnUnhealthy(hotfix: HotfixReport): void {
  if (hotfix.status !== 'healthy') core.warning(`Hotfix lane: ${hotfix.detail}`)
}

function hotfixSection(hotfix: HotfixReport): string {
  return `\n### Hotfix lane\n\n${hotfix.status}: ${hotfix.detail}${hotfix.runUrl ? ` (${hotfix.runUrl})` : ''}\n`
}

/** The merge of a hotfix pick PR: nothing picked, staging followed. */
async function writeHotfixSummary(
  pullNumber: number,
  hotfix: HotfixReport
): Promise<void> {
  warnUnhealthy(hotfix)
  core.info(
    `Hotfix lane on ${hotfix.target}: ${hotfix.status}, ${hotfix.detail}`
  )
  await core.summary
    .addRaw(`## Hotfix #${pullNumber} merged into ${hotfix.target}\n`)
    .addRaw(hotfixSection(hotfix))
    .write()
}
