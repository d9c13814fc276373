import { describe, expect, it } from '@jest/globals'
import { ConfigurationError } from '../../src/common/errors.js'
import {
  parseCommand,
  parseLabel,
  parseTrigger
} from '../../src/cherry-pick-to-release/trigger.js'

const options = {
  label: 'cherry-pick',
  commentTrigger: true,
  hotfixLabel: 'hotfix'
}

describe('parseLabel and parseCommand', () => {
  it.each([
    ['cherry-pick', {}],
    ['cherry-pick:release/1.2', { branch: 'release/1.2' }],
    ['cherry-pick:', undefined],
    ['cherry-picked', undefined],
    ['backport release/1.2', undefined]
  ])('label %p → %p', (name, expected) => {
    expect(parseLabel(name, 'cherry-pick')).toEqual(expected)
  })

  it.each([
    ['/cherry-pick', [{}]],
    ['/cherry-pick release/1.2', [{ branch: 'release/1.2' }]],
    ['  /cherry-pick   release/1.2  \nthanks!', [{ branch: 'release/1.2' }]],
    ['/cherry-pick a b a', [{ branch: 'a' }, { branch: 'b' }]],
    ['please /cherry-pick', undefined],
    ['/cherry-picked', undefined]
  ])('comment %p → %p', (body, expected) => {
    expect(parseCommand(body)).toEqual(expected)
  })
})

describe('parseTrigger', () => {
  const pull = (merged: boolean, labels: string[]) => ({
    number: 7,
    merged,
    labels: labels.map((name) => ({ name }))
  })
  const pickPull = (
    labels: string[],
    head = 'cherry-pick/3-to-release/1.2',
    headRepository = 'acme/monolith'
  ) => ({
    ...pull(true, labels),
    head: { ref: head, repo: { full_name: headRepository } },
    base: { ref: 'release/1.2', repo: { full_name: 'acme/monolith' } }
  })

  it('sends the merge of a hotfix-labelled pick PR to the hotfix lane, on its base', () => {
    expect(
      parseTrigger(
        'pull_request_target',
        { action: 'closed', pull_request: pickPull(['hotfix']) },
        options
      )
    ).toEqual({ kind: 'hotfix-merged', pullNumber: 7, base: 'release/1.2' })
  })

  it.each([
    ['without the hotfix label', pickPull(['area/api'])],
    [
      'from a branch not named for its base',
      pickPull(['hotfix'], 'cherry-pick/3-to-release/1.3')
    ],
    ['from a branch of its own', pickPull(['hotfix'], 'fix/stop-the-bleeding')],
    [
      'from a fork',
      pickPull(['hotfix'], 'cherry-pick/3-to-release/1.2', 'mallory/monolith')
    ]
  ])('does not start the hotfix lane for a merged PR %s', (_why, pr) => {
    expect(
      parseTrigger(
        'pull_request_target',
        { action: 'closed', pull_request: pr },
        options
      ).kind
    ).toBe('ignore')
  })

  it('picks, rather than stages, a hotfix PR that also asks for a pick', () => {
    expect(
      parseTrigger(
        'pull_request_target',
        {
          action: 'closed',
          pull_request: pickPull(['hotfix', 'cherry-pick:release/1.1'])
        },
        options
      ).kind
    ).toBe('pick')
  })

  it('picks a merged PR with the label when it closes', () => {
    expect(
      parseTrigger(
        'pull_request_target',
        { action: 'closed', pull_request: pull(true, ['bug', 'cherry-pick']) },
        options
      )
    ).toEqual({
      kind: 'pick',
      source: 'merged',
      pullNumber: 7,
      targets: [{ label: 'cherry-pick' }]
    })
  })

  it('asks for one target per matching label', () => {
    const trigger = parseTrigger(
      'pull_request',
      {
        action: 'closed',
        pull_request: pull(true, ['cherry-pick:release/1.2', 'cherry-pick'])
      },
      options
    )
    expect(trigger).toMatchObject({
      targets: [
        { label: 'cherry-pick:release/1.2', branch: 'release/1.2' },
        { label: 'cherry-pick' }
      ]
    })
  })

  it('ignores a PR closed without merging or without the label', () => {
    expect(
      parseTrigger(
        'pull_request',
        { action: 'closed', pull_request: pull(false, ['cherry-pick']) },
        options
      ).kind
    ).toBe('ignore')
    expect(
      parseTrigger(
        'pull_request',
        { action: 'closed', pull_request: pull(true, ['bug']) },
        options
      ).kind
    ).toBe('ignore')
  })

  it('on labeled acts only on the label just added', () => {
    const payload = {
      action: 'labeled',
      pull_request: pull(true, ['cherry-pick', 'docs'])
    }
    expect(
      parseTrigger(
        'pull_request_target',
        { ...payload, label: { name: 'docs' } },
        options
      ).kind
    ).toBe('ignore')
    expect(
      parseTrigger(
        'pull_request_target',
        { ...payload, label: { name: 'cherry-pick:release/2.0' } },
        options
      )
    ).toMatchObject({
      kind: 'pick',
      source: 'labeled',
      targets: [{ label: 'cherry-pick:release/2.0', branch: 'release/2.0' }]
    })
  })

  it('reads a /cherry-pick comment on a PR with its author', () => {
    expect(
      parseTrigger(
        'issue_comment',
        {
          action: 'created',
          issue: { number: 9, pull_request: {} },
          comment: {
            body: '/cherry-pick release/1.2',
            user: { login: 'maria' }
          }
        },
        options
      )
    ).toEqual({
      kind: 'pick',
      source: 'comment',
      pullNumber: 9,
      targets: [{ requester: 'maria', branch: 'release/1.2' }]
    })
  })

  it('ignores comments on issues, edits, other text, and comments when turned off', () => {
    const comment = { body: '/cherry-pick', user: { login: 'maria' } }
    expect(
      parseTrigger(
        'issue_comment',
        { action: 'created', issue: { number: 9 }, comment },
        options
      ).kind
    ).toBe('ignore')
    expect(
      parseTrigger(
        'issue_comment',
        { action: 'edited', issue: { number: 9, pull_request: {} }, comment },
        options
      ).kind
    ).toBe('ignore')
    expect(
      parseTrigger(
        'issue_comment',
        {
          action: 'created',
          issue: { number: 9, pull_request: {} },
          comment: { body: 'LGTM' }
        },
        options
      ).kind
    ).toBe('ignore')
    expect(
      parseTrigger(
        'issue_comment',
        { action: 'created', issue: { number: 9, pull_request: {} }, comment },
        { ...options, commentTrigger: false }
      ).kind
    ).toBe('ignore')
  })

  it('rejects other events naming the event', () => {
    expect(() => parseTrigger('push', {}, options)).toThrow(ConfigurationError)
    expect(() => parseTrigger('push', {}, options)).toThrow('not "push"')
  })
})
