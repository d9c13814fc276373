import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it
} from '@jest/globals'
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startEcsSimulator,
  type EcsSimulator
} from '../support/ecs-sim/index.js'
import {
  createGitFixture,
  git,
  mergePullRequest,
  removeGitFixture,
  type GitFixture
} from '../support/github-stand-in/git-fixture.js'
import {
  GitHubStandIn,
  type WorkflowRunState
} from '../support/github-stand-in/server.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { ensureBundle } from '../support/bundle.js'
import { pushTinyImage } from '../support/registry-images.js'

/**
 * Issue #12 items 1-3 and #14 item 1, end to end: the built deploy bundle
 * against the ECS simulator and the GitHub REST stand-in, the way the
 * production workflow's plan and approved deploy jobs run it.
 */
const SPEED = 30
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com'
const V1 = `${ECR}/monolith@sha256:${'1'.repeat(64)}`
/** The release image: pushed to the loopback registry in beforeAll, so the ECR stand-in finds it. */
let V2 = ''
const FLAVORS = ['web', 'api', 'worker']
/** The commit staging built; GITHUB_SHA of the dispatch is another one. */
const BUILT = 'b'.repeat(40)
const DISPATCH_SHA = 'd'.repeat(40)
const RUN_ID = 4242

const MANIFEST = `
defaults:
  health:
    startup-grace: 3s
    startup-failure-budget: 0
    failure-budget: 0
    stable-for: 1s
    timeout: 12s
environments:
  production:
    cluster: prod
    service-name: 'monolith-{flavor}'
flavors:
  - { name: web, containers: [app], environment: { DJANGO_MODE: web } }
  - { name: api, containers: [app], environment: { DJANGO_MODE: api }, wave: 2 }
  - { name: worker, containers: [app], command: [celery, worker], wave: 3 }
`

let standIn: GitHubStandIn
let fixture: GitFixture
let sim: EcsSimulator | undefined
let workspace: string | undefined

beforeAll(async () => {
  ensureBundle('deploy-ecs-flavor')
  const pushed = await pushTinyImage('monolith', { label: 'production-e2e' })
  V2 = `${ECR}/monolith@${pushed.digest}`
  standIn = await GitHubStandIn.start()
  fixture = await createGitFixture(standIn, ['release/2026.12'])
}, 180_000)

afterAll(async () => {
  await standIn.close()
  await removeGitFixture(fixture)
})

afterEach(async () => {
  await sim?.stop()
  sim = undefined
  if (workspace) rmSync(workspace, { recursive: true, force: true })
  workspace = undefined
})

const GOOD_RUN: WorkflowRunState = {
  id: RUN_ID,
  name: 'staging',
  path: '.github/workflows/staging.yml',
  event: 'push',
  headBranch: 'release/2026.12',
  headSha: BUILT,
  status: 'completed',
  conclusion: 'success'
}

/** Cluster `prod`, three steady services on V1, revision 1 tagged `commit`. */
async function world(
  record: unknown = { image: V2, commit: BUILT },
  commit = 'a'.repeat(40)
): Promise<EcsSimulator> {
  const s = await startEcsSimulator({ speed: SPEED })
  sim = s
  s.createCluster('prod')
  for (const name of FLAVORS) {
    s.registerTaskDefinition({
      family: `monolith-${name}`,
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'app',
          image: V1,
          essential: true,
          memory: 512,
          environment: [
            { name: 'DJANGO_MODE', value: name === 'worker' ? 'worker' : name }
          ],
          ...(name === 'worker' && { command: ['celery', 'worker'] })
        }
      ],
      tags: [{ key: 'release-train:commit', value: commit }]
    })
    s.createService({
      cluster: 'prod',
      serviceName: `monolith-${name}`,
      taskDefinition: `monolith-${name}:1`,
      desiredCount: 1,
      steady: true
    })
  }
  workspace = mkdtempSync(join(tmpdir(), 'sec-prod-'))
  writeFileSync(join(workspace, 'flavors.yml'), MANIFEST)
  writeFileSync(join(workspace, 'release-image.json'), JSON.stringify(record))
  return s
}

async function deploy(
  s: EcsSimulator | undefined,
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {}
): Promise<ActionResult> {
  return runAction({
    action: 'deploy-ecs-flavor',
    cwd: workspace,
    eventName: 'workflow_dispatch',
    inputs: {
      manifest: 'flavors.yml',
      environment: 'production',
      'ecr-repository': 'monolith',
      token: 'ghs_test',
      'poll-interval': '0.5',
      ...inputs
    },
    env: {
      ...(s?.env ?? {}),
      GITHUB_API_URL: standIn.url,
      GITHUB_REPOSITORY: fixture.fullName,
      GITHUB_SHA: DISPATCH_SHA,
      GITHUB_REF: 'refs/heads/main',
      ...env
    },
    timeoutMs: 90_000
  })
}

function ecsWrites(s: EcsSimulator): string[] {
  return s.requestLog
    .map((r) => r.operation)
    .filter((op) => ['RegisterTaskDefinition', 'UpdateService'].includes(op))
}

function serviceImage(s: EcsSimulator, name: string): string {
  return s.service('prod', `monolith-${name}`)?.taskDefinition ?? ''
}

async function commitTagOf(s: EcsSimulator, arn: string): Promise<string> {
  const ecs = new ECSClient({
    endpoint: s.url,
    region: s.region,
    credentials: s.credentials
  })
  try {
    const { tags } = await ecs.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: arn,
        include: ['TAGS']
      })
    )
    return tags?.find((t) => t.key === 'release-train:commit')?.value ?? ''
  } finally {
    ecs.destroy()
  }
}

describe('production promotion: a forged staging run is refused before any ECS call', () => {
  it.each<[string, Partial<WorkflowRunState>, RegExp]>([
    [
      "a fork's pull_request run",
      {
        event: 'pull_request',
        headRepository: 'mallory/monolith',
        headBranch: 'release/2026.12'
      },
      /started by pull_request.*|commit comes from mallory\/monolith/
    ],
    [
      'a run on a branch outside the release pattern',
      { headBranch: 'feature/sneaky' },
      /branch "feature\/sneaky" does not match release\/\*/
    ],
    [
      'a run of another workflow',
      { path: '.github/workflows/ci.yml', name: 'ci' },
      /run of \.github\/workflows\/ci\.yml, not of the staging workflow/
    ],
    [
      'a run that failed',
      { conclusion: 'failure' },
      /ended failure, not successfully/
    ],
    [
      'a run still in progress',
      { status: 'in_progress', conclusion: null },
      /is in_progress/
    ]
  ])(
    '%s',
    async (_label, forged, reason) => {
      const id = RUN_ID + Math.floor(Math.random() * 1e6)
      standIn.addWorkflowRun(fixture.fullName, { ...GOOD_RUN, ...forged, id })
      const s = await world()
      const result = await deploy(s, {
        'staging-run-id': String(id),
        'release-image-file': 'release-image.json',
        // Even the image given outright does not bypass the run check.
        image: V2
      })
      expect(result.exitCode).toBe(1)
      const error = messages(result, 'error').join('\n')
      expect(error).toContain(`Input "staging-run-id" has "${id}"`)
      expect(error).toMatch(reason)
      expect(s.requestLog).toEqual([])
      for (const name of FLAVORS) {
        expect(serviceImage(s, name)).toMatch(`monolith-${name}:1`)
      }
    },
    60_000
  )

  it('a run id of no run in this repository', async () => {
    const s = await world()
    const result = await deploy(s, {
      'staging-run-id': '999999999',
      'release-image-file': 'release-image.json',
      image: V2
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error').join('\n')).toContain(
      'Input "staging-run-id" has "999999999", which is not a workflow run of acme/monolith'
    )
    expect(ecsWrites(s)).toEqual([])
  }, 60_000)

  it('a record whose commit is not the run it came from', async () => {
    standIn.addWorkflowRun(fixture.fullName, GOOD_RUN)
    const s = await world({ image: V2, commit: 'e'.repeat(40) })
    const result = await deploy(s, {
      'staging-run-id': String(RUN_ID),
      'release-image-file': 'release-image.json',
      image: V2
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error').join('\n')).toContain(
      `records commit ${'e'.repeat(40)}, but staging run ${RUN_ID} built ${BUILT}`
    )
    expect(s.requestLog).toEqual([])
  }, 60_000)
})

describe('production promotion: only a digest in the release repository', () => {
  it.each([
    ['a tag', `${ECR}/monolith:1.0`, /not a reference by digest alone/],
    [
      'a tag and a digest',
      `${ECR}/monolith:1.0@sha256:${'2'.repeat(64)}`,
      /not a reference by digest alone/
    ],
    [
      'another repository',
      `${ECR}/other@sha256:${'2'.repeat(64)}`,
      /not in the ECR repository monolith/
    ],
    [
      'a registry that is not ECR',
      `evil.example/monolith@sha256:${'2'.repeat(64)}`,
      /not in an ECR registry/
    ]
  ])(
    'refuses %s (input image) before any ECS call',
    async (_label, image, why) => {
      const s = await world()
      const result = await deploy(s, { image, commit: BUILT })
      expect(result.exitCode).toBe(1)
      const error = messages(result, 'error').join('\n')
      expect(error).toContain(`Input "image" has "${image}"`)
      expect(error).toMatch(why)
      expect(s.requestLog).toEqual([])
    },
    60_000
  )

  it('refuses a non-digest image in the staging run record', async () => {
    standIn.addWorkflowRun(fixture.fullName, GOOD_RUN)
    const s = await world({ image: `${ECR}/monolith:latest`, commit: BUILT })
    const result = await deploy(s, {
      'staging-run-id': String(RUN_ID),
      'release-image-file': 'release-image.json'
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error').join('\n')).toContain(
      `Input "release-image-file" has "${ECR}/monolith:latest", which is not a reference by digest alone`
    )
    expect(s.requestLog).toEqual([])
  }, 60_000)

  it('refuses an image promoted without the commit it was built from', async () => {
    const s = await world()
    const result = await deploy(s, { image: V2 })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error').join('\n')).toContain(
      'Input "commit" is required when "image" is promoted without "staging-run-id"'
    )
    expect(s.requestLog).toEqual([])
  }, 60_000)
})

describe('production promotion: the approved deploy', () => {
  it("tags the staging run's head commit, not the dispatching GITHUB_SHA", async () => {
    standIn.addWorkflowRun(fixture.fullName, GOOD_RUN)
    const s = await world()
    const result = await deploy(s, {
      'staging-run-id': String(RUN_ID),
      'release-image-file': 'release-image.json'
    })
    expect(messages(result, 'error')).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.image).toBe(V2)
    expect(result.outputs.commit).toBe(BUILT)
    for (const name of FLAVORS) {
      const arn = serviceImage(s, name)
      expect(arn).toMatch(`monolith-${name}:2`)
      expect(await commitTagOf(s, arn)).toBe(BUILT)
    }
    // The run was checked through the API before any ECS call.
    expect(
      standIn.log.some(
        (r) =>
          r.method === 'GET' &&
          r.path === `/repos/acme/monolith/actions/runs/${RUN_ID}`
      )
    ).toBe(true)

    // The next release reads it back as what production runs.
    const next = await deploy(s, {
      image: V2,
      commit: 'c'.repeat(40),
      'dry-run': 'true'
    })
    expect(next.outputs['previous-commit']).toBe(BUILT)
  }, 90_000)

  it('an explicit commit with image is tagged, GITHUB_SHA never', async () => {
    const s = await world()
    const result = await deploy(s, { image: V2, commit: BUILT })
    expect(result.exitCode).toBe(0)
    expect(await commitTagOf(s, serviceImage(s, 'web'))).toBe(BUILT)
  }, 90_000)

  it('deploys every wave in one call, halts at the failing wave, rolls back only that wave and says so', async () => {
    const s = await world()
    writeFileSync(
      join(workspace ?? '', 'flavors.yml'),
      MANIFEST.replace(
        '{ DJANGO_MODE: api }, wave: 2',
        "{ DJANGO_MODE: api, SIM_BEHAVIOR: 'crash:2s' }, wave: 2"
      )
    )
    const result = await deploy(s, {
      image: V2,
      commit: BUILT,
      'rollback-scope': 'wave'
    })
    expect(result.exitCode).toBe(1)
    const flavors = JSON.parse(result.outputs.flavors) as {
      flavor: string
      result: string
      changed: boolean
      rolledBack: boolean
    }[]
    expect(
      flavors.map((f) => [f.flavor, f.result, f.changed, f.rolledBack])
    ).toEqual([
      ['web', 'success', true, false],
      ['api', 'failed', true, true],
      ['worker', 'skipped', false, false]
    ])
    expect(serviceImage(s, 'web')).toMatch('monolith-web:2')
    expect(serviceImage(s, 'api')).toMatch('monolith-api:1')
    expect(serviceImage(s, 'worker')).toMatch('monolith-worker:1')
    // Wave 3 never got a revision.
    expect(
      s.requestLog.filter(
        (r) =>
          r.operation === 'RegisterTaskDefinition' &&
          JSON.stringify(r).includes('monolith-worker')
      )
    ).toEqual([])
    const error = messages(result, 'error').join('\n')
    expect(error).toContain('Changed by this run: web, api.')
    // The deployment was still under way: ECS's own rollback, not a new one.
    expect(error).toContain(
      'Rolled back to the previous task definition: api (via StopServiceDeployment(ROLLBACK), healthy).'
    )
    expect(error).toMatch(
      /Still on the new task definition: web \(.*monolith-web:2\)/
    )
    expect(error).toContain('Not deployed: worker.')
    expect(result.summary).toContain('| Wave |')
  }, 90_000)
})

describe('production plan: what reviewers see before they approve', () => {
  it('without AWS credentials: image, commit, staging run and waves, and no ECS call', async () => {
    standIn.addWorkflowRun(fixture.fullName, GOOD_RUN)
    const s = await world()
    const result = await deploy(
      undefined,
      {
        'staging-run-id': String(RUN_ID),
        'release-image-file': 'release-image.json',
        'dry-run': 'true',
        'read-current': 'false'
      },
      { AWS_ENDPOINT_URL_ECS: s.url, AWS_REGION: 'us-east-1' }
    )
    expect(messages(result, 'error')).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(s.requestLog).toEqual([])
    expect(result.outputs.image).toBe(V2)
    expect(result.outputs.commit).toBe(BUILT)
    expect(JSON.parse(result.outputs.waves)).toEqual([
      { wave: 1, flavors: ['web'] },
      { wave: 2, flavors: ['api'] },
      { wave: 3, flavors: ['worker'] }
    ])
    expect(result.summary).toContain('## Plan for production')
    expect(result.summary).toContain(`Image: \`${V2}\``)
    expect(result.summary).toContain(`Commit: \`${BUILT}\``)
    expect(result.summary).toContain(`[run ${RUN_ID}]`)
    expect(result.summary).toContain('| 2 | api |')
    expect(result.summary).toContain('not read (read-current: false')
  }, 60_000)

  it('with a read-only role: what production runs now and the pull requests since', async () => {
    const before = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    const pr = await mergePullRequest(fixture, 'squash', {
      title: 'Checkout <b>faster</b> @channel',
      commits: [
        { file: 'app/checkout.py', content: 'FAST = 1\n', message: 'Faster' }
      ]
    })
    const after = await git(fixture.bare, 'rev-parse', 'refs/heads/main')
    const id = RUN_ID + 1
    standIn.addWorkflowRun(fixture.fullName, {
      ...GOOD_RUN,
      id,
      headSha: after
    })
    const s = await world({ image: V2, commit: after }, before)
    const result = await deploy(s, {
      'staging-run-id': String(id),
      'release-image-file': 'release-image.json',
      'dry-run': 'true'
    })
    expect(messages(result, 'error')).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(ecsWrites(s)).toEqual([])
    expect(result.outputs['previous-commit']).toBe(before)
    expect(result.summary).toContain(`since \`${before}\``)
    expect(result.summary).toContain(`[#${pr.number}]`)
    expect(result.summary).not.toContain('<b>')
    // What runs now: every flavor's current image, and what would change.
    expect(result.summary).toContain(`| web | [monolith-web]`)
    expect(result.summary).toContain(V1)
  }, 60_000)
})
