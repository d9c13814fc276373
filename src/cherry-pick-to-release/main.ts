import * as core from '@actions/core'
import { context } from '@actions/github'
import { runAction, setOutputs } from '../common/action.js'
import { systemClock } from '../common/clock.js'
import { markdownTable } from '../common/summary.js'
import { actionsCommandRunner } from '../common/command-runner.js'
import { createGitHubClient, parseRepository } from '../github/client.js'
import { getInputs } from './inputs.js'
import { PickReport, pickPullRequest } from './pick-pull-request.js'
import { EventPayload, parseTrigger } from './trigger.js'

/**
 * cherry-pick-to-release: picks a merged, labelled pull request onto the
 * current release branch. A conflict is a result (`conflict`), reported to
 * the author, and does not fail the job; `failed` does.
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
      setOutputs({ result: 'skipped', commits: [] })
      return
    }
    if (trigger.ignoredLabels?.length) {
      core.warning(
        `Only "${trigger.label}" is handled in this run; also found: ${trigger.ignoredLabels.join(', ')}`
      )
    }
    const report = await pickPullRequest(
      {
        client: createGitHubClient(inputs.token, process.env.GITHUB_API_URL),
        repo: parseRepository(process.env.GITHUB_REPOSITORY ?? ''),
        runner: actionsCommandRunner,
        sleep: (ms) => systemClock.sleep(ms),
        tempDir: process.env.RUNNER_TEMP,
        log: (message) => core.info(message)
      },
      inputs,
      trigger
    )
    setOutputs({
      result: report.result,
      'target-branch': report.targetBranch,
      commits: report.commits,
      'pull-request': report.pullRequest?.number,
      'pull-request-url': report.pullRequest?.url
    })
    await writeSummary(report)
    if (report.result === 'failed') core.setFailed(report.message)
    else if (report.result === 'conflict') core.warning(report.message)
    else core.info(report.message)
  })
}

async function writeSummary(report: PickReport): Promise<void> {
  const rows: [string, string][] = [
    ['Result', report.result],
    ['Pull request', report.pullNumber ? `#${report.pullNumber}` : ''],
    ['Target branch', report.targetBranch ?? ''],
    ['Merge method', report.method ?? ''],
    ['New commits', report.commits.join(' ')],
    ['Opened', report.pullRequest?.url ?? ''],
    ['Dispatched', report.dispatched ?? ''],
    ['Detail', report.message]
  ]
  await core.summary
    .addRaw(`## Cherry-pick to release\n\n`)
    .addRaw(markdownTable(['', ''], rows))
    .addRaw('\n')
    .write()
}
