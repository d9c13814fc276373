import * as core from '@actions/core'
import { context } from '@actions/github'
import { runAction, setOutputs } from '../common/action.js'
import { systemClock } from '../common/clock.js'
import { actionsCommandRunner } from '../common/command-runner.js'
import { markdownTable } from '../common/summary.js'
import { createGitHubClient, parseRepository } from '../github/client.js'
import { getInputs } from './inputs.js'
import { conflictLines } from './messages.js'
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
        commentTrigger: inputs.commentTrigger
      }
    )
    if (trigger.kind === 'ignore') {
      core.info(`Nothing to pick: ${trigger.reason}`)
      setOutputs({ result: 'skipped', commits: [], results: [] })
      return
    }
    const report = await pickPullRequest(
      {
        client: createGitHubClient(inputs.token, process.env.GITHUB_API_URL),
        repo: parseRepository(process.env.GITHUB_REPOSITORY ?? ''),
        runner: actionsCommandRunner,
        clock: systemClock,
        tempDir: process.env.RUNNER_TEMP,
        serverUrl: process.env.GITHUB_SERVER_URL || 'https://github.com',
        log: (message) => core.info(message)
      },
      inputs,
      trigger
    )
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
    if (report.hotfix && report.hotfix.status !== 'healthy') {
      core.warning(`Hotfix lane: ${report.hotfix.detail}`)
    }
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
  if (report.hotfix) {
    summary.addRaw(
      `\n### Hotfix lane\n\n${report.hotfix.status}: ${report.hotfix.detail}${report.hotfix.runUrl ? ` (${report.hotfix.runUrl})` : ''}\n`
    )
  }
  await summary.write()
}
