import { afterEach, describe, expect, it } from '@jest/globals'
import {
  getInputs,
  parseIdentity
} from '../../src/cherry-pick-to-release/inputs.js'
import { setInputs } from '../support/action-inputs.js'

const saved = { ...process.env }

afterEach(() => {
  process.env = { ...saved }
})

describe('getInputs', () => {
  it('fills defaults, the repository URL from the server and repository', () => {
    process.env.GITHUB_SERVER_URL = 'https://github.example.com'
    process.env.GITHUB_REPOSITORY = 'acme/monolith'
    setInputs({ token: 'ghs_x' })
    expect(getInputs()).toMatchObject({
      label: 'cherry-pick',
      releaseBranchPattern: 'release/*',
      mode: 'push',
      mergeCommitStrategy: 'commits',
      onConflict: 'comment',
      commentTrigger: true,
      repositoryUrl: 'https://github.example.com/acme/monolith.git',
      pushAttempts: 5,
      historyDepth: 200,
      committer: {
        name: 'github-actions[bot]',
        email: '41898282+github-actions[bot]@users.noreply.github.com'
      }
    })
  })

  it.each([
    [{ mode: 'direct' }, 'Input "mode" has "direct"'],
    [{ 'on-conflict': 'ignore' }, 'Input "on-conflict" has "ignore"'],
    [{ 'push-attempts': '0' }, 'Input "push-attempts" has "0"'],
    [{ label: 'cherry pick' }, 'Input "label" has "cherry pick"'],
    [
      { 'dispatch-workflow': 'deploy staging' },
      'Input "dispatch-workflow" has "deploy staging"'
    ],
    [
      { 'repository-url': 'github.com/acme/x' },
      'Input "repository-url" has "github.com/acme/x"'
    ],
    [{ committer: 'bot' }, 'Input "committer" has "bot"'],
    [
      { 'pr-title-template': '{nope}' },
      'Input "pr-title-template" has "{nope}"'
    ]
  ])('rejects %p', (inputs, message) => {
    setInputs({ token: 'ghs_x', ...inputs })
    expect(() => getInputs()).toThrow(message)
  })

  it('requires a token', () => {
    setInputs({})
    expect(() => getInputs()).toThrow('Input "token" is required')
  })
})

describe('parseIdentity', () => {
  it('reads Name <email>', () => {
    expect(parseIdentity('committer', 'Release Bot <bot@acme.test>')).toEqual({
      name: 'Release Bot',
      email: 'bot@acme.test'
    })
  })
})
