import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createGitFixture,
  git,
  removeGitFixture,
  type GitFixture
} from '../support/github-stand-in/git-fixture.js'
import { GitHubStandIn } from '../support/github-stand-in/server.js'
import {
  allNeeds,
  callInputs,
  concurrencyGroup,
  environmentOf,
  load,
  root,
  runStepScript,
  toolkitCheckoutIndex,
  type Job,
  type Step,
  type WorkflowFile
} from './workflow-files.js'

// Issue #12, items 5, 7, 11, 13, 14, 15 and 16: structural checks on the
// parsed workflows, and each `run:` script that guards something executed
// with hostile values. (Item 12 is tested through the notify-release bundle
// in test/notify-release and test/chat.)
jest.setTimeout(60_000)

const REUSABLE = [
  '.github/workflows/build.yml',
  '.github/workflows/deploy-staging.yml',
  '.github/workflows/cherry-pick.yml',
  '.github/workflows/cut-release.yml',
  '.github/workflows/deploy-production.yml'
]
const EXAMPLES = [
  'examples/staging.yml',
  'examples/production.yml',
  'examples/cherry-pick.yml',
  'examples/cut-release.yml'
]
const ALL = [...REUSABLE, '.github/workflows/ci.yml', ...EXAMPLES]

const SHA = 'c0ffee'.repeat(6) + 'c0ff'
const REPOSITORY = 'my-org/monolith'

/** Current node24 majors (see /work/coord/pins.md for where each came from). */
const NODE24_PINS: Record<string, string> = {
  'actions/checkout': '3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1',
  'aws-actions/configure-aws-credentials':
    'e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3',
  'actions/upload-artifact':
    'bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0',
  'actions/download-artifact':
    '3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1',
  'aws-actions/amazon-ecr-login':
    '03f1aad4c6c7ffd436567f42f9384779290529bd # v2.1.7',
  'actions/setup-node': '820762786026740c76f36085b0efc47a31fe5020 # v7.0.0',
  'docker/setup-buildx-action':
    '37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0'
}

const TOOLKIT_WORKFLOW =
  /^ecs-release-train\/ecs-release-train\/\.github\/workflows\/([\w.-]+)@(.+)$/

function jobsOf(file: WorkflowFile): [string, Job][] {
  return Object.entries(file.workflow.jobs)
}

function stepNamed(job: Job, name: string): Step | undefined {
  return (job.steps ?? []).find((step) => step.name === name)
}

/** `${{ inputs.x }}` replaced by the given values; anything else left. */
function resolveInputs(value: string, inputs: Record<string, unknown>): string {
  return value.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (all, name) =>
    name in inputs ? String(inputs[name]) : all
  )
}

function defaults(file: WorkflowFile): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(callInputs(file))
      .filter(([, spec]) => spec.default !== undefined)
      .map(([name, spec]) => [name, spec.default])
  )
}

interface OidcJob {
  workflow: string
  job: string
  environment?: string
}

/**
 * Every job that can mint an OIDC token when the workflow runs with these
 * inputs, following `uses: ./.github/workflows/...` into the called file.
 */
function oidcJobs(path: string, inputs: Record<string, unknown>): OidcJob[] {
  const file = load(path)
  const values = { ...defaults(file), ...inputs }
  return jobsOf(file).flatMap(([name, job]): OidcJob[] => {
    if (job.uses?.startsWith('./.github/workflows/')) {
      if (job.permissions?.['id-token'] !== 'write') return []
      const passed = Object.fromEntries(
        Object.entries(job.with ?? {}).map(([k, v]) => [
          k,
          resolveInputs(String(v), values)
        ])
      )
      return oidcJobs(job.uses.slice(2), passed).map((inner) => ({
        ...inner,
        workflow: `${path.split('/').at(-1)} › ${inner.workflow}`,
        job: `${name} › ${inner.job}`
      }))
    }
    if (job.permissions?.['id-token'] !== 'write') return []
    const environment = environmentOf(job)
    const resolved = environment ? resolveInputs(environment, values) : ''
    return [
      {
        workflow: path.split('/').at(-1) ?? path,
        job: name,
        environment: resolved || undefined
      }
    ]
  })
}

/** The OIDC `sub` GitHub puts in the token of a job on a release branch. */
function subjectOf(job: OidcJob): string {
  return job.environment
    ? `repo:${REPOSITORY}:environment:${job.environment}`
    : `repo:${REPOSITORY}:ref:refs/heads/release/2026-12-01`
}

interface TrustPolicy {
  Statement: {
    Effect: string
    Action: string | string[]
    Condition: Record<string, Record<string, string | string[]>>
  }[]
}

/** IAM's StringEquals / StringLike on the token's claims, for one statement. */
function trusts(policy: TrustPolicy, claims: Record<string, string>): boolean {
  return policy.Statement.some((statement) => {
    if (statement.Effect !== 'Allow') return false
    if (![statement.Action].flat().includes('sts:AssumeRoleWithWebIdentity'))
      return false
    return Object.entries(statement.Condition).every(([operator, keys]) =>
      Object.entries(keys).every(([key, wanted]) => {
        const claim =
          claims[key.replace(/^token\.actions\.githubusercontent\.com:/, '')]
        if (claim === undefined) return false
        return [wanted].flat().some((value) => {
          if (operator === 'StringEquals') return claim === value
          if (operator === 'StringLike') {
            const pattern = value
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '.*')
              .replace(/\?/g, '.')
            return new RegExp(`^${pattern}$`).test(claim)
          }
          return false
        })
      })
    )
  })
}

/** The JSON trust policies in a markdown file, by the role named before each. */
function trustPolicies(markdown: string): Map<string, TrustPolicy> {
  const found = new Map<string, TrustPolicy>()
  for (const match of markdown.matchAll(
    /trust policy of the (\w+) role[\s\S]*?```json\n([\s\S]*?)\n```/g
  )) {
    found.set(match[1], JSON.parse(match[2]) as TrustPolicy)
  }
  return found
}

function read(path: string): string {
  return existsSync(join(root, path))
    ? readFileSync(join(root, path), 'utf8')
    : ''
}

describe('#12 item 5: every job that assumes a role gets a subject its role trusts', () => {
  it('runs the staging build and deploy in the staging environment, which the documented staging role trusts', () => {
    const jobs = oidcJobs('.github/workflows/deploy-staging.yml', {})
    expect(jobs.map((j) => j.job).sort()).toEqual(['build › build', 'deploy'])
    for (const job of jobs) expect(job.environment).toBe('staging')

    const security = read('docs/security.md')
    const staging = trustPolicies(security).get('staging')
    expect(staging).toBeDefined()
    for (const job of jobs) {
      expect({
        job: job.job,
        trusted: trusts(staging as TrustPolicy, {
          aud: 'sts.amazonaws.com',
          sub: subjectOf(job)
        })
      }).toEqual({ job: job.job, trusted: true })
    }
    // A workflow pushed to any branch, outside the environment, is not trusted.
    expect(
      trusts(staging as TrustPolicy, {
        aud: 'sts.amazonaws.com',
        sub: `repo:${REPOSITORY}:ref:refs/heads/release/2026-12-01`
      })
    ).toBe(false)

    // The role table names each of those jobs and the subject it presents.
    const rows = security.split('\n').filter((line) => line.startsWith('|'))
    for (const job of jobs) {
      const [outer] = job.job.split(' › ')
      expect(
        rows.some(
          (row) =>
            row.includes('`deploy-staging.yml`') &&
            row.includes(`\`${outer}\``) &&
            row.includes('environment:staging')
        )
      ).toBe(true)
    }
    // The quick start names the same subject and links the threat model.
    const readme = read('README.md')
    expect(readme).toContain(':environment:staging')
    expect(readme).toContain('docs/security.md')
  })

  it('lets build.yml run in a caller-chosen environment, so its subject is not the bare branch', () => {
    const build = load('.github/workflows/build.yml')
    expect(callInputs(build).environment).toBeDefined()
    expect(environmentOf(build.workflow.jobs.build)).toBe(
      '${{ inputs.environment }}'
    )
  })
})

describe('#12 item 7: staging deploys release branches only', () => {
  const staging = load('.github/workflows/deploy-staging.yml')
  const guardJob = jobsOf(staging).find(([, job]) =>
    (job.steps ?? []).some(
      (s) => s.name === 'Refuse a ref that is not a release branch'
    )
  )

  it('checks the ref first, before any job that builds or holds credentials', () => {
    expect(guardJob).toBeDefined()
    const [guardName, guard] = guardJob as [string, Job]
    expect(guard.permissions).toEqual({})
    for (const [name] of jobsOf(staging)) {
      if (name === guardName) continue
      expect({
        name,
        needsGuard: allNeeds(staging.workflow, name).has(guardName)
      }).toEqual({
        name,
        needsGuard: true
      })
    }
    expect(callInputs(staging)['release-branch-pattern']?.default).toBe(
      'release/*'
    )
  })

  it('refuses a dispatch from any other ref, whatever its name holds', async () => {
    const step = stepNamed(
      (guardJob as [string, Job])[1],
      'Refuse a ref that is not a release branch'
    ) as Step
    expect(step.env?.REF).toBe('${{ github.ref }}')
    const dir = mkdtempSync(join(tmpdir(), 'ert-sec-'))
    try {
      const check = (ref: string) =>
        runStepScript(step.run ?? '', { REF: ref, PATTERN: 'release/*' }, dir)
      expect((await check('refs/heads/release/2026-12-01')).status).toBe(0)
      for (const ref of [
        'refs/heads/main',
        'refs/heads/feature/release/x',
        'refs/tags/release/1',
        'refs/pull/7/merge',
        `refs/heads/$(touch ${dir}/pwned)`,
        ''
      ]) {
        const result = await check(ref)
        expect({ ref, status: result.status }).toEqual({ ref, status: 1 })
        expect(result.stdout).toMatch(
          /^::error::Staging deploys only release branches/
        )
        expect(result.stdout.trim().split('\n')).toHaveLength(1)
      }
      expect(existsSync(join(dir, 'pwned'))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('documents the staging environment as limited to release branches', () => {
    const readme = read('README.md')
    expect(readme).toMatch(
      /`staging`[^\n]*(limited|restricted) to `release\/\*`/
    )
    const example = load('examples/staging.yml')
    expect(example.workflow.on.push).toEqual({ branches: ['release/**'] })
  })
})

describe('#12 item 11: cut-release creates the branch through the API and starts staging', () => {
  const cut = load('.github/workflows/cut-release.yml')
  let standIn: GitHubStandIn
  let fixture: GitFixture
  let work: string

  beforeAll(async () => {
    standIn = await GitHubStandIn.start()
    fixture = await createGitFixture(standIn, ['release/2026-11-24'])
    work = join(fixture.root, 'checkout')
    await git(
      fixture.root,
      'clone',
      '--quiet',
      '--branch',
      'main',
      fixture.bare,
      work
    )
  })

  afterAll(async () => {
    await standIn.close()
    await removeGitFixture(fixture)
  })

  const cutStep = () =>
    (cut.workflow.jobs.cut.steps ?? []).find((s) => s.id === 'cut') as Step
  const dispatchJob = () =>
    jobsOf(cut).find(([, job]) => job.permissions?.actions === 'write')

  it('keeps no credential in the checkout, never git-pushes, and only one job may start workflows', () => {
    const checkout = (cut.workflow.jobs.cut.steps ?? []).find((s) =>
      s.uses?.startsWith('actions/checkout@')
    )
    expect(checkout?.with?.['persist-credentials']).toBe(false)
    for (const [, job] of jobsOf(cut)) {
      for (const step of job.steps ?? [])
        expect(step.run ?? '').not.toMatch(/git\s+push/)
    }
    expect(cut.workflow.jobs.cut.permissions).toEqual({ contents: 'write' })
    const dispatcher = dispatchJob()
    expect(dispatcher).toBeDefined()
    expect((dispatcher as [string, Job])[1].permissions).toEqual({
      actions: 'write'
    })
    expect(
      allNeeds(cut.workflow, (dispatcher as [string, Job])[0]).has('cut')
    ).toBe(true)
    const example = load('examples/cut-release.yml')
    expect(example.workflow.jobs.cut.with?.['dispatch-workflow']).toBe(
      'staging.yml'
    )
    expect(example.workflow.jobs.cut.permissions).toEqual({
      contents: 'write',
      actions: 'write'
    })
  })

  it('cuts today’s branch through the API and dispatches staging on it', async () => {
    const out = join(fixture.root, 'output')
    const summary = join(fixture.root, 'summary')
    writeFileSync(out, '')
    writeFileSync(summary, '')
    const env = {
      PREFIX: 'release/',
      GH_TOKEN: 'ghs_test',
      REPOSITORY: fixture.fullName,
      GITHUB_API_URL: standIn.url,
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: summary
    }
    const today = new Date().toISOString().slice(0, 10)
    const branch = `release/${today}`
    const result = await runStepScript(cutStep().run ?? '', env, work)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(`branch=${branch}\n`)
    expect(await git(fixture.bare, 'rev-parse', `refs/heads/${branch}`)).toBe(
      await git(work, 'rev-parse', 'HEAD')
    )
    expect(
      standIn.log.filter((r) => r.method === 'POST').map((r) => r.path)
    ).toEqual([`/repos/${fixture.fullName}/git/refs`])
    expect(readFileSync(summary, 'utf8')).toContain(
      'Commits since `release/2026-11-24`'
    )

    const [, dispatcher] = dispatchJob() as [string, Job]
    const step = (dispatcher.steps ?? []).find((s) => s.run) as Step
    const started = await runStepScript(
      step.run ?? '',
      {
        BRANCH: branch,
        WORKFLOW: 'staging.yml',
        GH_TOKEN: 'ghs_test',
        REPOSITORY: fixture.fullName,
        GITHUB_API_URL: standIn.url
      },
      work
    )
    expect(started.status).toBe(0)
    expect(standIn.dispatches(fixture.fullName)).toEqual([
      { workflow: 'staging.yml', ref: branch, inputs: {} }
    ])
  })

  it('refuses a hostile branch prefix or workflow name before calling the API', async () => {
    const calls = standIn.log.length
    const out = join(fixture.root, 'output2')
    writeFileSync(out, '')
    for (const prefix of [
      `release/$(touch ${fixture.root}/pwned)/`,
      'release/\nx',
      'release/ x',
      '../'
    ]) {
      const result = await runStepScript(
        cutStep().run ?? '',
        {
          PREFIX: prefix,
          GH_TOKEN: 'ghs_test',
          REPOSITORY: fixture.fullName,
          GITHUB_API_URL: standIn.url,
          GITHUB_OUTPUT: out,
          GITHUB_STEP_SUMMARY: out
        },
        work
      )
      expect({ prefix, status: result.status }).toEqual({ prefix, status: 1 })
      expect(result.stdout).toContain('::error::Input "branch-prefix"')
    }
    const [, dispatcher] = dispatchJob() as [string, Job]
    const step = (dispatcher.steps ?? []).find((s) => s.run) as Step
    for (const workflow of [
      '../../../x.yml',
      'staging.yml?ref=main',
      `$(touch ${fixture.root}/pwned)`
    ]) {
      const result = await runStepScript(
        step.run ?? '',
        {
          BRANCH: 'release/2026-11-24',
          WORKFLOW: workflow,
          GH_TOKEN: 'ghs_test',
          REPOSITORY: fixture.fullName,
          GITHUB_API_URL: standIn.url
        },
        work
      )
      expect({ workflow, status: result.status }).toEqual({
        workflow,
        status: 1
      })
    }
    expect(standIn.log.length).toBe(calls)
    expect(readFileSync(out, 'utf8')).toBe('')
    expect(existsSync(join(fixture.root, 'pwned'))).toBe(false)
  })
})

describe('#12 item 13: ci.yml', () => {
  const ci = load('.github/workflows/ci.yml')

  it('starts from no permissions, pins service images by digest and bounds every job (and every reusable workflow job)', () => {
    expect(ci.workflow.permissions).toEqual({})
    for (const [name, job] of jobsOf(ci)) {
      expect({ name, timeout: typeof job['timeout-minutes'] }).toEqual({
        name,
        timeout: 'number'
      })
      expect({ name, permissions: job.permissions }).toEqual({
        name,
        permissions: { contents: 'read' }
      })
      for (const service of Object.values(job.services ?? {})) {
        expect(service.image).toMatch(/^[\w./:-]+@sha256:[0-9a-f]{64}$/)
      }
    }
    // The reusable workflows' jobs are bounded too.
    for (const path of REUSABLE) {
      for (const [name, job] of jobsOf(load(path))) {
        if (job.uses) continue
        expect({ path, name, timeout: typeof job['timeout-minutes'] }).toEqual({
          path,
          name,
          timeout: 'number'
        })
      }
    }
  })
})

describe('#12 item 14: the toolkit is pinned to a commit', () => {
  it('makes toolkit-ref required and allow-unpinned-toolkit an explicit, documented opt-in', () => {
    for (const path of REUSABLE) {
      const inputs = callInputs(load(path))
      if (!inputs['toolkit-ref']) continue
      expect({
        path,
        required: inputs['toolkit-ref'].required,
        default: inputs['toolkit-ref'].default
      }).toEqual({
        path,
        required: true,
        default: undefined
      })
      expect({ path, allow: inputs['allow-unpinned-toolkit'] }).toEqual({
        path,
        allow: expect.objectContaining({ type: 'boolean', default: false })
      })
    }
    expect(read('docs/security.md')).toMatch(/allow-unpinned-toolkit/)
  })

  it('refuses an unpinned toolkit in every job before checking it out, without expressions in run:', async () => {
    let checked = 0
    for (const path of REUSABLE) {
      const file = load(path)
      for (const [name, job] of jobsOf(file)) {
        for (const step of job.steps ?? []) {
          expect({ path, name, run: step.run ?? '' }).not.toEqual({
            path,
            name,
            run: expect.stringContaining('${{')
          })
        }
        if (job.uses?.startsWith('./.github/workflows/')) {
          if ('toolkit-ref' in (job.with ?? {})) {
            expect(job.with?.['allow-unpinned-toolkit']).toBe(
              '${{ inputs.allow-unpinned-toolkit }}'
            )
          }
          continue
        }
        const at = toolkitCheckoutIndex(job)
        if (at < 0) continue
        const guard = (job.steps ?? []).findIndex(isToolkitGuard)
        if (guard >= 0 && guard < at) {
          const step = (job.steps ?? [])[guard]
          expect(step.env?.ALLOW_UNPINNED).toBe(
            '${{ inputs.allow-unpinned-toolkit }}'
          )
          await expectRefusesUnpinned(step.run ?? '', `${path} ${name}`)
          checked++
          continue
        }
        // Otherwise a job it needs must have refused first, and no status
        // function may run this job after that job failed.
        const guarded = [...allNeeds(file.workflow, name)].some((need) =>
          (file.workflow.jobs[need]?.steps ?? []).some(isToolkitGuard)
        )
        expect({
          path,
          name,
          guarded:
            guarded && !/always\(|failure\(|cancelled\(/.test(job.if ?? '')
        }).toEqual({ path, name, guarded: true })
      }
    }
    // build, deploy, notify (staging) and pick check their own.
    expect(checked).toBeGreaterThanOrEqual(4)
  })

  it('pins the examples to the same toolkit commit as the workflow they call', () => {
    for (const path of EXAMPLES) {
      const file = load(path)
      for (const [name, job] of jobsOf(file)) {
        const match = TOOLKIT_WORKFLOW.exec(job.uses ?? '')
        if (!match) continue
        expect({ path, name, ref: match[2] }).toEqual({
          path,
          name,
          ref: expect.stringMatching(/^[0-9a-f]{40}$/)
        })
        const called = load(`.github/workflows/${match[1]}`)
        if (callInputs(called)['toolkit-ref']) {
          expect({ path, toolkitRef: job.with?.['toolkit-ref'] }).toEqual({
            path,
            toolkitRef: match[2]
          })
        }
      }
    }
  })
})

/** A step that checks `inputs.toolkit-ref` in its shell, whatever its name. */
function isToolkitGuard(step: Step): boolean {
  return !!step.run && step.env?.TOOLKIT_REF === '${{ inputs.toolkit-ref }}'
}

async function expectRefusesUnpinned(
  script: string,
  where: string
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ert-sec-'))
  try {
    const check = (ref: string, allow = 'false') =>
      runStepScript(script, { TOOLKIT_REF: ref, ALLOW_UNPINNED: allow }, dir)
    expect({ where, status: (await check(SHA)).status }).toEqual({
      where,
      status: 0
    })
    for (const ref of [
      'main',
      'v1',
      SHA.toUpperCase(),
      SHA.slice(0, 39),
      `${SHA}\nmain`,
      `main\n::add-mask::x`,
      `$(touch ${dir}/pwned)`,
      `${SHA}$(touch ${dir}/pwned)`,
      ''
    ]) {
      const result = await check(ref)
      expect({ where, ref, status: result.status }).toEqual({
        where,
        ref,
        status: 1
      })
      // One line only: a newline in the value cannot start a workflow command.
      expect(result.stdout.trim().split('\n')).toHaveLength(1)
      expect(result.stdout).toMatch(/^::error::.*toolkit-ref/)
    }
    const allowed = await check('main', 'true')
    expect({ where, status: allowed.status }).toEqual({ where, status: 0 })
    expect(allowed.stdout).toMatch(/^::warning::.*toolkit-ref/)
    expect(existsSync(join(dir, 'pwned'))).toBe(false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('#12 item 15: concurrency groups carry the toolkit prefix', () => {
  it('names every group in the reusable workflows ecs-release-train-…', () => {
    let groups = 0
    for (const path of REUSABLE) {
      const file = load(path)
      const all = [
        concurrencyGroup(file.workflow.concurrency),
        ...jobsOf(file).map(([, job]) => concurrencyGroup(job.concurrency))
      ].filter((g): g is string => !!g)
      for (const group of all) {
        expect({ path, group }).toEqual({
          path,
          group: expect.stringMatching(/^ecs-release-train-/)
        })
        groups++
      }
    }
    expect(groups).toBeGreaterThanOrEqual(3)
  })
})

describe('#12 item 16: actions are current node24 majors pinned by SHA', () => {
  it('pins each action in every workflow and example by SHA with its version, at the node24 major', () => {
    let pins = 0
    for (const path of ALL) {
      const lines = load(path)
        .text.split('\n')
        .map((line) => /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line))
        .filter((m): m is RegExpExecArray => !!m)
        .filter(
          ([, uses]) => !uses.startsWith('./') && !TOOLKIT_WORKFLOW.test(uses)
        )
      for (const [line, uses, rest] of lines) {
        expect({ path, line }).toEqual({
          path,
          line: expect.stringMatching(/@[0-9a-f]{40} # v\d/)
        })
        const [action, ref] = uses.split('@')
        expect({ path, action, pin: `${ref}${rest}`.trim() }).toEqual({
          path,
          action,
          pin: NODE24_PINS[action] ?? 'an action not known to run on node24'
        })
        pins++
      }
    }
    expect(pins).toBeGreaterThanOrEqual(10)
  })
})
