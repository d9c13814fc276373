import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigurationError } from '../../src/common/errors.js'
import { flavorManifestSchema } from '../../src/ecs/flavor-manifest-schema.js'
import {
  loadManifest,
  parseManifest,
  resolveFlavors
} from '../../src/ecs/flavor-manifest.js'

const root = new URL('../..', import.meta.url).pathname
const fixture = `${root}test/fixtures/ecs-flavors.yml`

function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return (error as Error).message
  }
  throw new Error('expected a ConfigurationError')
}

const minimal = `environments:
  staging: { cluster: c, service-name: 'svc-{flavor}' }
flavors:
  - name: web
    containers: [app]
`

describe('flavor manifest schema', () => {
  it('ships in schemas/ identical to the one in code', () => {
    const shipped: unknown = JSON.parse(
      readFileSync(`${root}schemas/ecs-flavors.schema.json`, 'utf8')
    )
    expect(shipped).toEqual(flavorManifestSchema)
  })

  it('accepts the example manifest in test/fixtures', () => {
    const validate = new Ajv({ strict: true, allowUnionTypes: true }).compile(
      flavorManifestSchema
    )
    expect(validate(parse(readFileSync(fixture, 'utf8')))).toBe(true)
  })
})

describe('loadManifest', () => {
  it('loads the example manifest', async () => {
    const manifest = await loadManifest(fixture)
    expect(manifest.file).toBe(fixture)
    expect(manifest.flavors.map((f) => f.name)).toEqual([
      'admin',
      'taskworker',
      'web',
      'api'
    ])
  })

  it('names a missing file and the input to fix', async () => {
    await expect(loadManifest('/nonexistent/ecs-flavors.yml')).rejects.toThrow(
      /\/nonexistent\/ecs-flavors.yml cannot be read \(ENOENT\).*"manifest" input/
    )
  })

  it('reports YAML syntax errors with file and line', () => {
    const message = errorOf(() =>
      parseManifest('flavors:\n  - name: [web\n', 'm.yml')
    )
    expect(message).toMatch(/m\.yml is not valid YAML/)
    expect(message).toMatch(/m\.yml:\d+:\d+: /)
  })

  it('names file, line, path and expectation for every schema error at once', () => {
    const text = `environments:
  staging: { cluster: c, service-name: 'svc-{flavor}', rollout: sometimes }
flavors:
  - name: web
    containers: [app]
  - name: api
    wave: two
    containers: []
    colour: blue
    health: { startup-grace: soon }
`
    const message = errorOf(() =>
      parseManifest(text, '.github/ecs-flavors.yml')
    )
    expect(message).toContain(
      '.github/ecs-flavors.yml:7: flavors[1].wave: expected integer'
    )
    expect(message).toContain(
      '.github/ecs-flavors.yml:6: flavors[1]: unknown key "colour"'
    )
    expect(message).toMatch(
      /ecs-flavors\.yml:8: flavors\[1\]\.containers: expected at least 1 item\(s\)/
    )
    expect(message).toContain(
      'flavors[1].health.startup-grace: expected a duration'
    )
    expect(message).toContain(
      ':2: environments.staging.rollout: expected one of "waves", "all-at-once"'
    )
  })

  it('reports a missing required key at its parent', () => {
    const message = errorOf(() =>
      parseManifest('environments:\n  staging: { cluster: c }\n', 'm.yml')
    )
    expect(message).toContain(
      'm.yml:1: (top level): missing required key "flavors"'
    )
    expect(message).toContain(
      'm.yml:2: environments.staging: missing required key "service-name"'
    )
  })

  it('rejects duplicate flavor names and an empty document', () => {
    expect(
      errorOf(() =>
        parseManifest(
          `${minimal}  - name: web\n    containers: [app]\n`,
          'm.yml'
        )
      )
    ).toContain('flavors[1].name: "web" is already the name of flavors[0]')
    expect(errorOf(() => parseManifest('', 'm.yml'))).toContain(
      '(top level): expected object'
    )
  })

  it('rejects a duration that passes the pattern but means nothing', () => {
    expect(
      errorOf(() =>
        parseManifest(
          `defaults: { health: { timeout: '' } }\n${minimal}`,
          'm.yml'
        )
      )
    ).toContain('defaults.health.timeout')
  })
})

describe('resolveFlavors', () => {
  const manifest = parseManifest(readFileSync(fixture, 'utf8'), 'flavors.yml')

  it('resolves all flavors by wave, then manifest order, with merged health', () => {
    const flavors = resolveFlavors(manifest, 'production', 'all')
    expect(flavors.map((f) => [f.name, f.wave, f.service])).toEqual([
      ['admin', 1, 'monolith-admin'],
      ['taskworker', 1, 'monolith-taskworker'],
      ['web', 2, 'monolith-web'],
      ['api', 2, 'monolith-mobile-api-production']
    ])
    const web = flavors.find((f) => f.name === 'web')
    expect(web).toMatchObject({
      cluster: 'monolith-prod',
      region: 'us-east-1',
      containers: ['app'],
      cpu: '1024',
      memory: '2048',
      environmentVariables: { DJANGO_MODE: 'web' },
      command: ['gunicorn', 'monolith.wsgi', '--workers', '4'],
      rollout: 'waves',
      policy: {
        startupGraceSeconds: 600,
        startupFailureBudget: 3,
        failureBudget: 0,
        stableForSeconds: 60,
        timeoutSeconds: 1200
      }
    })
    expect(flavors.find((f) => f.name === 'taskworker')).toMatchObject({
      containerMemory: { app: 3584 },
      policy: { startupGraceSeconds: 120, failureBudget: 1 }
    })
  })

  it('applies the environment health between defaults and flavor', () => {
    const [admin] = resolveFlavors(manifest, 'staging', 'admin')
    expect(admin.service).toBe('monolith-admin-staging')
    expect(admin.policy.stableForSeconds).toBe(30)
    expect(admin.rollout).toBe('all-at-once')
  })

  it('selects a comma or newline list and a wave', () => {
    expect(
      resolveFlavors(manifest, 'production', 'web,\nadmin').map((f) => f.name)
    ).toEqual(['admin', 'web'])
    expect(
      resolveFlavors(manifest, 'production', 'wave:2').map((f) => f.name)
    ).toEqual(['web', 'api'])
  })

  it('names unknown flavors, waves and environments and lists the known ones', () => {
    expect(
      errorOf(() => resolveFlavors(manifest, 'production', 'web, mobile, cron'))
    ).toBe(
      'Unknown flavors "mobile", "cron" (not in flavors.yml); known flavors: admin, taskworker, web, api'
    )
    expect(errorOf(() => resolveFlavors(manifest, 'prod', 'all'))).toBe(
      'Environment "prod" is not in flavors.yml; known environments: staging, production'
    )
    expect(
      errorOf(() => resolveFlavors(manifest, 'production', 'wave:7'))
    ).toBe('No flavor in flavors.yml is in wave 7; known waves: 1, 2')
    expect(
      errorOf(() => resolveFlavors(manifest, 'production', 'wave:x'))
    ).toMatch(/not a whole number/)
  })

  it('refuses two flavors on one service', () => {
    const same = parseManifest(
      `environments:\n  s: { cluster: c, service-name: shared }\nflavors:\n  - { name: a, containers: [app] }\n  - { name: b, containers: [app] }\n`,
      'm.yml'
    )
    expect(errorOf(() => resolveFlavors(same, 's', 'all'))).toMatch(
      /"a" and "b" both resolve to service shared/
    )
  })
})
