import {
  getBoolean,
  getOptionalInput,
  getRequiredInput
} from '../common/inputs.js'
import { ConfigurationError } from '../common/errors.js'

export interface Inputs {
  token: string
  environment: string
  image: string
  commit: string
  previousCommit?: string
  commentOnPullRequests: boolean
  slackWebhookUrl?: string
  headline: string
}

const SHA = /^[0-9a-f]{7,40}$/

function commitInput(
  name: string,
  value: string | undefined
): string | undefined {
  if (value !== undefined && !SHA.test(value)) {
    throw new ConfigurationError(
      `Input "${name}" has "${value}", which is not a commit SHA`
    )
  }
  return value
}

/** The action's inputs, checked before any call to GitHub or Slack. */
export function getInputs(): Inputs {
  const token = getRequiredInput('token')
  const environment = getRequiredInput('environment')
  const image = getRequiredInput('image')
  const commit =
    commitInput('commit', getOptionalInput('commit')) ??
    commitInput('commit', process.env.GITHUB_SHA)
  if (!commit)
    throw new ConfigurationError(
      'Input "commit" is required outside a workflow run'
    )
  const slackWebhookUrl = getOptionalInput('slack-webhook-url')
  if (slackWebhookUrl && !/^https?:\/\//.test(slackWebhookUrl)) {
    throw new ConfigurationError(
      'Input "slack-webhook-url" is not an http(s) URL'
    )
  }
  return {
    token,
    environment,
    image,
    commit,
    previousCommit: commitInput(
      'previous-commit',
      getOptionalInput('previous-commit')
    ),
    commentOnPullRequests: getBoolean('comment-on-pull-requests', true),
    slackWebhookUrl,
    headline:
      getOptionalInput('headline') ??
      (environment === 'production'
        ? 'Released to production'
        : `Live on ${environment}`)
  }
}
