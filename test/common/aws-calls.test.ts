import { describe, expect, it } from '@jest/globals'
import {
  awsFailureKind,
  describeAwsFailure,
  isTransientAwsError
} from '../../src/common/aws-calls.js'
import { sessionWarning } from '../../src/common/aws-credentials.js'

function sdkError(name: string, status?: number, attempts?: number): Error {
  return Object.assign(new Error('boom'), {
    name,
    $metadata: { httpStatusCode: status, attempts }
  })
}

const ECS = { label: 'ECS', iamPrefix: 'ecs' }

describe('awsFailureKind', () => {
  it.each([
    ['ThrottlingException', 400, 'throttled'],
    ['TooManyRequestsException', 429, 'throttled'],
    ['ServerException', 500, 'server'],
    ['TimeoutError', undefined, 'timeout'],
    ['AccessDeniedException', 400, 'permission'],
    ['ExpiredTokenException', 400, 'expired-credentials'],
    ['UnrecognizedClientException', 400, 'missing-credentials'],
    ['CredentialsProviderError', undefined, 'missing-credentials'],
    ['InvalidParameterException', 400, 'other']
  ])('%s (%s) is %s', (name, status, kind) => {
    expect(awsFailureKind(sdkError(name, status))).toBe(kind)
  })

  it('retries only the transient kinds', () => {
    expect(isTransientAwsError(sdkError('ThrottlingException', 400))).toBe(true)
    expect(isTransientAwsError(sdkError('AccessDeniedException', 400))).toBe(
      false
    )
  })
})

describe('describeAwsFailure', () => {
  it('names the call, the attempts and what to change', () => {
    expect(
      describeAwsFailure(
        sdkError('ThrottlingException', 400, 8),
        ECS,
        'UpdateServiceCommand'
      )
    ).toBe(
      'ECS UpdateService was throttled after 8 attempts and the retry budget is spent (ThrottlingException: boom).'
    )
    expect(
      describeAwsFailure(
        sdkError('AccessDeniedException', 400, 1),
        ECS,
        'RegisterTaskDefinitionCommand'
      )
    ).toContain('the role lacks permission ecs:RegisterTaskDefinition')
    expect(
      describeAwsFailure(
        sdkError('ExpiredTokenException', 400, 1),
        ECS,
        'DescribeServicesCommand'
      )
    ).toContain('the AWS credentials expired')
  })
})

describe('sessionWarning', () => {
  const now = Date.UTC(2026, 0, 1, 12)
  it('warns with the figures when the session ends before the wait can', () => {
    const warning = sessionWarning(
      new Date(now + 30 * 60_000),
      now,
      3 * 20 * 60,
      'this deploy'
    )
    expect(warning).toContain('expire at 2026-01-01T12:30:00.000Z (in 30m)')
    expect(warning).toContain('this deploy can take up to 1h')
    expect(warning).toContain('role-duration-seconds')
    expect(warning).toContain('at least 3600')
  })

  it('says nothing when the session outlasts the wait or has no expiry', () => {
    expect(
      sessionWarning(new Date(now + 2 * 3600_000), now, 3600, 'x')
    ).toBeUndefined()
    expect(sessionWarning(undefined, now, 3600, 'x')).toBeUndefined()
  })
})
