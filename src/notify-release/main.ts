import * as core from '@actions/core'
import { runAction, setOutputs } from '../common/action.js'
import { markdownTable } from '../common/summary.js'
import { escapeSlackText, postToSlack } from '../chat/slack-webhook.js'
import { createGitHubClient, parseRepository } from '../github/client.js'
import {
  commentOnce,
  releasedPullRequests
} from '../github/release-pull-requests.js'
import { getInputs } from './inputs.js'

/** Comments on the released pull requests and posts to Slack. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = getInputs()
    if (inputs.slackWebhookUrl) core.setSecret(inputs.slackWebhookUrl)
    const repo = parseRepository(process.env.GITHUB_REPOSITORY ?? '')
    const client = createGitHubClient(inputs.token)
    const server = process.env.GITHUB_SERVER_URL ?? 'https://github.com'
    const runUrl = `${server}/${repo.owner}/${repo.repo}/actions/runs/${process.env.GITHUB_RUN_ID ?? ''}`

    const pulls = await releasedPullRequests(
      client,
      repo,
      inputs.previousCommit,
      inputs.commit
    )
    core.info(
      `${pulls.length} pull request(s) arrived with ${inputs.commit.slice(0, 12)}` +
        (inputs.previousCommit
          ? ` since ${inputs.previousCommit.slice(0, 12)}`
          : '')
    )
    const message = `${inputs.headline}: \`${inputs.image}\` ([run](${runUrl}))`
    const commented = inputs.commentOnPullRequests
      ? await commentOnce(
          client,
          repo,
          pulls.map((p) => p.number),
          `ecs-release-train:${inputs.environment}:${inputs.commit}`,
          `${message}\nReady for acceptance testing on ${inputs.environment}.`
        )
      : []

    let slack: 'sent' | 'skipped' | 'failed' = 'skipped'
    if (inputs.slackWebhookUrl) {
      const list = pulls.map(
        (p) => `• #${p.number} ${p.title} (${p.author ?? '?'})`
      )
      const text = [`${inputs.headline}: ${inputs.image}`, runUrl, ...list]
        .map(escapeSlackText)
        .join('\n')
      const posted = await postToSlack(inputs.slackWebhookUrl, text)
      slack = posted.ok ? 'sent' : 'failed'
      if (!posted.ok) core.warning(`Slack message not sent: ${posted.detail}`)
    }

    setOutputs({
      'pull-requests': pulls.map((p) => p.number),
      commented,
      slack
    })
    await core.summary
      .addHeading(`${inputs.headline}`, 2)
      .addRaw(`Image \`${inputs.image}\`, commit \`${inputs.commit}\`\n\n`)
      .addRaw(
        markdownTable(
          ['pull request', 'title', 'author', 'commented'],
          pulls.map((p) => [
            `[#${p.number}](${p.url})`,
            p.title,
            p.author ?? '',
            commented.includes(p.number) ? 'yes' : 'already'
          ])
        ) + '\n'
      )
      .write()
  })
}
