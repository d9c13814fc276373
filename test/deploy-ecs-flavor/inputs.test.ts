import { afterEach, describe, expect, it } from '@jest/globals'
import { getInputs } from '../../src/deploy-ecs-flavor/inputs.js'
import { releaseTags } from '../../src/deploy-ecs-flavor/release-tags.js'
import { clearInputs, setInputs } from '../support/action-inputs.js'

const IMAGE = 'registry.local/monolith:1.0'
const PARSED = {
  host: 'registry.local',
  path: 'monolith',
  repository: 'registry.local/monolith',
  tag: '1.0'
}

const workspace = process.env.GITHUB_WORKSPACE

afterEach(() => {
  if (workspace === undefined) delete process.env.GITHUB_WORKSPACE
  else process.env.GITHUB_WORKSPACE = workspace
  clearInputs()
})

describe('getInputs', () => {
  it('defaults to the manifest in the workspace, all flavors, wait and rollback', () => {
    setInputs({ image: IMAGE, environment: 'staging' })
    process.env.GITHUB_WORKSPACE = '/repo'
    expect(getInputs()).toEqual({
      image: PARSED,
      source: {
        kind: 'manifest',
        path: '/repo/.github/ecs-flavors.yml',
        environment: 'staging',
        selector: 'all'
      },
      wait: true,
      rollbackOnFailure: true,
      rollbackScope: 'changed',
      dryRun: false,
      readCurrent: true,
      health: {},
      pollIntervalSeconds: 5,
      rollout: {
        preDeploy: 'auto',
        forceNewDeployment: false,
        deleteRevisions: false
      },
      callTimeoutSeconds: 30,
      rollbackOnCancel: false,
      hookStages: [],
      verifyImage: true
    })
  })

  it('verify-image: false turns the ECR lookup off; another value is refused naming the input', () => {
    setInputs({ image: IMAGE, environment: 'staging', 'verify-image': 'false' })
    expect(getInputs().verifyImage).toBe(false)
    setInputs({ image: IMAGE, environment: 'staging', 'verify-image': 'yes' })
    expect(() => getInputs()).toThrow(
      'Input "verify-image" has "yes", which is not a boolean: use true or false'
    )
  })

  it('reads pre-deploy, force-new-deployment, keep-revisions and delete-revisions', () => {
    setInputs({
      image: IMAGE,
      environment: 'staging',
      'pre-deploy': 'always',
      'force-new-deployment': 'true',
      'keep-revisions': '5',
      'delete-revisions': 'true'
    })
    expect(getInputs().rollout).toEqual({
      preDeploy: 'always',
      forceNewDeployment: true,
      keepRevisions: 5,
      deleteRevisions: true
    })
  })

  it.each([
    [{ 'pre-deploy': 'sometimes' }, /Input "pre-deploy" has "sometimes"/],
    [{ 'keep-revisions': '0' }, /Input "keep-revisions" has "0"/],
    [{ 'keep-revisions': 'all' }, /Input "keep-revisions" has "all"/],
    [
      { 'delete-revisions': 'true' },
      /"delete-revisions" is true but "keep-revisions" is not set/
    ],
    [
      { 'keep-revisions': '3', wait: 'false' },
      /Input "keep-revisions" has "3", but "wait" is false/
    ],
    [
      {
        'pre-deploy': 'always',
        cluster: 'c',
        service: 'web',
        container: 'app'
      },
      /Input "pre-deploy" is "always", but "service" is set/
    ]
  ])('refuses %j before any call', (extra, message) => {
    setInputs({ image: IMAGE, environment: 'staging', ...extra })
    expect(() => getInputs()).toThrow(message)
  })

  it('names one service without a manifest, with health overrides', () => {
    setInputs({
      image: IMAGE,
      cluster: 'prod',
      service: 'web',
      container: 'app, sidecar',
      region: 'eu-west-1',
      'startup-grace': '2m',
      'failure-budget': '1',
      timeout: '10m'
    })
    expect(getInputs()).toMatchObject({
      source: {
        kind: 'service',
        cluster: 'prod',
        service: 'web',
        containers: ['app', 'sidecar'],
        region: 'eu-west-1'
      },
      health: {
        startupGraceSeconds: 120,
        failureBudget: 1,
        timeoutSeconds: 600
      }
    })
  })

  it.each([
    [{ image: 'Monolith', environment: 's' }, /Input "image" has "Monolith"/],
    [{ image: IMAGE }, /Input "environment" is required with a manifest/],
    [
      { image: IMAGE, service: 'web', container: 'app' },
      /Input "cluster" is required when "service" is set/
    ],
    [
      { image: IMAGE, service: 'web', cluster: 'c' },
      /Input "container" is required/
    ],
    [
      {
        image: IMAGE,
        service: 'web',
        cluster: 'c',
        container: 'app',
        flavors: 'api'
      },
      /Input "flavors" has "api", but "service" is set/
    ],
    [
      { image: IMAGE, environment: 's', cluster: 'c' },
      /Input "cluster" is only used with "service"/
    ],
    [{ image: IMAGE, environment: 's', wait: 'yes' }, /Input "wait" has "yes"/],
    [
      { image: IMAGE, environment: 's', 'rollback-scope': 'all' },
      /Input "rollback-scope" has "all"; expected one of: changed, wave, failed/
    ],
    [
      { image: IMAGE, environment: 's', 'stable-for': 'soon' },
      /Input "stable-for" has "soon"/
    ],
    [
      { image: IMAGE, environment: 's', 'poll-interval': '0' },
      /Input "poll-interval" has "0"/
    ],
    [
      { image: IMAGE, environment: 's', 'call-timeout': '0s' },
      /Input "call-timeout" has "0s"/
    ],
    [
      { image: IMAGE, environment: 's', 'rollback-on-cancel': 'yes' },
      /Input "rollback-on-cancel" has "yes"/
    ],
    // Set but empty: the runner dropped a masked job output.
    [
      { image: '', environment: 's' },
      /^The image input is empty: was it masked by the runner\?/
    ],
    [{ environment: 's' }, /^Input "image" is required/]
  ])('refuses %j', (inputs, message) => {
    setInputs(inputs)
    expect(() => getInputs()).toThrow(message)
  })
})

describe('releaseTags', () => {
  it('tags the commit it is given (not GITHUB_SHA), the ref and run, within ECS tag value rules', () => {
    expect(
      releaseTags(
        {
          GITHUB_SHA: 'f'.repeat(40),
          GITHUB_REF: 'refs/heads/release/2026.1',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'acme/monolith',
          GITHUB_RUN_ID: '42'
        },
        'abc123'
      )
    ).toEqual([
      { key: 'release-train:commit', value: 'abc123' },
      { key: 'release-train:ref', value: 'refs/heads/release/2026.1' },
      {
        key: 'release-train:run',
        value: 'https://github.com/acme/monolith/actions/runs/42'
      }
    ])
    expect(releaseTags({ GITHUB_REF: 'refs/heads/a#b' }, undefined)).toEqual([
      { key: 'release-train:ref', value: 'refs/heads/a_b' }
    ])
  })

  describe('lifecycle-hook-stages', () => {
    it('accepts stage names in any case and rejects others, naming the input', () => {
      setInputs({
        image: IMAGE,
        environment: 'staging',
        'lifecycle-hook-stages': 'post_scale_up, POST_TEST_TRAFFIC_SHIFT'
      })
      expect(getInputs().hookStages).toEqual([
        'POST_SCALE_UP',
        'POST_TEST_TRAFFIC_SHIFT'
      ])
      setInputs({
        image: IMAGE,
        environment: 'staging',
        'lifecycle-hook-stages': 'BAKE_TIME'
      })
      expect(() => getInputs()).toThrow(
        /Input "lifecycle-hook-stages" has "BAKE_TIME"/
      )
    })
  })
})
