import { afterEach, describe, expect, it } from '@jest/globals'
import { getInputs, parsePollInterval } from '../../src/wait-healthy/inputs.js'
import {
  problemsError,
  resolveTargets
} from '../../src/wait-healthy/targets.js'
import { clearInputs, setInputs } from '../support/action-inputs.js'

const manifest = new URL('../fixtures/ecs-flavors.yml', import.meta.url)
  .pathname

afterEach(() => {
  clearInputs()
})

describe('getInputs', () => {
  it('reads services, durations and budgets, leaving unset policy to defaults', () => {
    setInputs({
      cluster: 'prod',
      services: 'web, api',
      'startup-grace': '10m',
      'failure-budget': '1',
      'stable-for': '90s'
    })
    const inputs = getInputs()
    expect(inputs.services).toEqual(['web', 'api'])
    expect(inputs.policy).toEqual({
      startupGraceSeconds: 600,
      failureBudget: 1,
      stableForSeconds: 90
    })
    expect(inputs.pollInterval).toEqual({ min: 5, max: 10 })
    expect(inputs.flavors).toBe('all')
  })

  it.each([
    [{}, /"services" \(with "cluster"\) or input "environment"/],
    [{ services: 'web' }, /Input "cluster" is required/],
    [
      { cluster: 'c', services: 'web', environment: 'prod' },
      /exclude each other/
    ],
    [
      {
        cluster: 'c',
        services: 'web',
        'deployment-id': 'x',
        'task-definition': 'y'
      },
      /"deployment-id" and "task-definition"/
    ],
    [
      { cluster: 'c', services: 'web', timeout: 'later' },
      /Input "timeout" has "later"/
    ],
    [
      { cluster: 'c', services: 'web', 'failure-budget': '-1' },
      /Input "failure-budget" has "-1"/
    ],
    [
      { cluster: 'c', services: 'web', 'stable-for': '2m', timeout: '1m' },
      /"stable-for" \(2m\) is longer than input "timeout" \(1m\)/
    ]
  ])('refuses %j', (inputs, error) => {
    setInputs(inputs as Record<string, string>)
    expect(() => getInputs()).toThrow(error)
  })
})

describe('parsePollInterval', () => {
  it('reads min or min-max', () => {
    expect(parsePollInterval('2s')).toEqual({ min: 2, max: 10 })
    expect(parsePollInterval('3s-15s')).toEqual({ min: 3, max: 15 })
    expect(parsePollInterval('0.1,0.2')).toEqual({ min: 0.1, max: 0.2 })
    expect(() => parsePollInterval('10s-5s')).toThrow(/poll-interval/)
    expect(() => parsePollInterval('0')).toThrow(/poll-interval/)
  })
})

describe('resolveTargets', () => {
  it('takes flavors of an environment from the manifest, inputs over manifest policy', async () => {
    setInputs({
      environment: 'production',
      flavors: 'wave:1',
      manifest,
      'stable-for': '2m'
    })
    const targets = await resolveTargets(getInputs())
    expect(targets.map((t) => [t.cluster, t.service])).toEqual([
      ['monolith-prod', 'monolith-admin'],
      ['monolith-prod', 'monolith-taskworker']
    ])
    // taskworker's own grace and budget from the manifest, stable-for from the input.
    expect(targets[1].policy).toEqual({
      startupGraceSeconds: 120,
      startupFailureBudget: 3,
      failureBudget: 1,
      stableForSeconds: 120,
      timeoutSeconds: 1200
    })
  })

  it('refuses a deployment id for several services', async () => {
    setInputs({
      environment: 'production',
      manifest,
      'deployment-id': 'ecs-svc/1'
    })
    await expect(resolveTargets(getInputs())).rejects.toThrow(
      /Input "deployment-id" follows one service, but 4 are selected/
    )
  })

  it('names the manifest input for an unknown environment', async () => {
    setInputs({ environment: 'qa', manifest })
    await expect(resolveTargets(getInputs())).rejects.toThrow(
      /Environment "qa"/
    )
  })

  it('turns target problems into an error naming the inputs', () => {
    const target = { cluster: 'c', service: 's', policy: {} as never }
    expect(
      problemsError(
        [
          { target, field: 'service', message: 'service "s" not found' },
          {
            target,
            field: 'deploymentId',
            message: 'deployment "d" is not on service "s"'
          }
        ],
        false
      ).message
    ).toBe(
      'Input "services": service "s" not found\nInput "deployment-id": deployment "d" is not on service "s"'
    )
  })
})
