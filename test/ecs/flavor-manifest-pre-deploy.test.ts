import { describe, expect, it } from '@jest/globals'
import { preDeployOf } from '../../src/ecs/flavor-manifest-pre-deploy.js'
import { parseManifest, resolveFlavors } from '../../src/ecs/flavor-manifest.js'
import { preDeployTarget } from '../../src/deploy-ecs-flavor/rollout-steps.js'

const manifest = (preDeploy: string, flavorExtra = ''): string => `
environments:
  staging:
    cluster: c
    service-name: 'svc-{flavor}'
${preDeploy
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  production: { cluster: p, service-name: 'svc-{flavor}' }
flavors:
  - { name: web, containers: [app, nginx]${flavorExtra} }
  - { name: worker, containers: [app] }
`

describe('pre-deploy in the manifest', () => {
  it('resolves flavor, command, container, network and timeout per environment', () => {
    const m = parseManifest(
      manifest(`pre-deploy:
  flavor: web
  command: [python, manage.py, migrate]
  container: app
  network-configuration:
    subnets: [subnet-1, subnet-2]
    security-groups: [sg-1]
    assign-public-ip: DISABLED
  timeout: 10m`),
      'm.yml'
    )
    expect(preDeployOf(m, 'staging')).toEqual({
      flavor: 'web',
      command: ['python', 'manage.py', 'migrate'],
      container: 'app',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-1', 'subnet-2'],
          securityGroups: ['sg-1'],
          assignPublicIp: 'DISABLED'
        }
      },
      timeoutSeconds: 600
    })
    expect(preDeployOf(m, 'production')).toBeUndefined()
  })

  it('defaults the timeout to 15 minutes', () => {
    const m = parseManifest(manifest('pre-deploy: { flavor: worker }'), 'm.yml')
    expect(preDeployOf(m, 'staging')).toEqual({
      flavor: 'worker',
      timeoutSeconds: 900
    })
  })

  it.each([
    [
      'pre-deploy: { flavor: cron }',
      /pre-deploy\.flavor: "cron" is not a flavor of this manifest; known flavors: web, worker/
    ],
    [
      'pre-deploy: { flavor: web, timeout: soon }',
      /staging\.pre-deploy\.timeout/
    ],
    ['pre-deploy: { command: [migrate] }', /missing required key "flavor"/],
    [
      'pre-deploy: { flavor: web, network-configuration: { security-groups: [sg] } }',
      /missing required key "subnets"/
    ],
    ['pre-deploy: { flavor: web, image: x }', /unknown key "image"/]
  ])('refuses %s', (text, message) => {
    expect(() => parseManifest(manifest(text), 'm.yml')).toThrow(message)
  })

  it('pre-deploy: always without a task in the environment is an input error', () => {
    const m = parseManifest(manifest(''), 'm.yml')
    expect(preDeployTarget(m, 'staging', 'auto')).toBeUndefined()
    expect(() => preDeployTarget(m, 'staging', 'always')).toThrow(
      'Input "pre-deploy" is "always", but environment "staging" has no pre-deploy task in m.yml'
    )
  })
})

describe('desired-count', () => {
  it('is carried to the resolved flavor, and only where set', () => {
    const m = parseManifest(manifest('', ', desired-count: 4'), 'm.yml')
    const [web, worker] = resolveFlavors(m, 'staging', 'all')
    expect(web.desiredCount).toBe(4)
    expect(worker.desiredCount).toBeUndefined()
  })

  it('refuses a negative count', () => {
    expect(() =>
      parseManifest(manifest('', ', desired-count: -1'), 'm.yml')
    ).toThrow(/desired-count: expected a number of at least 0/)
  })
})
