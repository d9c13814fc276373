import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

export const root = new URL('../..', import.meta.url).pathname

export interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  env?: Record<string, string>
  with?: Record<string, unknown>
}

export interface Job {
  uses?: string
  with?: Record<string, unknown>
  needs?: string | string[]
  if?: string
  environment?: string | { name: string }
  permissions?: Record<string, string>
  'timeout-minutes'?: number
  concurrency?: string | { group: string }
  services?: Record<string, { image: string }>
  steps?: Step[]
}

export interface InputSpec {
  type?: string
  required?: boolean
  default?: unknown
}

export interface Workflow {
  on: Record<string, { inputs?: Record<string, InputSpec> } | null>
  permissions?: Record<string, string>
  concurrency?: string | { group: string }
  jobs: Record<string, Job>
}

export interface WorkflowFile {
  path: string
  text: string
  workflow: Workflow
}

export function load(path: string): WorkflowFile {
  const text = readFileSync(join(root, path), 'utf8')
  return { path, text, workflow: parse(text) as Workflow }
}

export function callInputs(file: WorkflowFile): Record<string, InputSpec> {
  return file.workflow.on.workflow_call?.inputs ?? {}
}

export function environmentOf(job: Job): string | undefined {
  return typeof job.environment === 'string'
    ? job.environment
    : job.environment?.name
}

export function concurrencyGroup(
  value: string | { group: string } | undefined
): string | undefined {
  return typeof value === 'string' ? value : value?.group
}

/** Every job a job needs, directly or through other jobs. */
export function allNeeds(workflow: Workflow, jobName: string): Set<string> {
  const seen = new Set<string>()
  const visit = (name: string) => {
    for (const need of [workflow.jobs[name]?.needs ?? []].flat()) {
      if (!seen.has(need)) {
        seen.add(need)
        visit(need)
      }
    }
  }
  visit(jobName)
  return seen
}

/** Index of the step that checks out the toolkit, or -1. */
export function toolkitCheckoutIndex(job: Job): number {
  return (job.steps ?? []).findIndex(
    (step) =>
      step.uses?.startsWith('actions/checkout@') &&
      step.with?.repository === '${{ inputs.toolkit-repository }}'
  )
}

export interface ScriptResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a step's `run:` text the way the runner does on Linux
 * (`bash --noprofile --norc -eo pipefail {0}`), with only the given
 * environment plus PATH and HOME. Asynchronous, so a stand-in served by this
 * process can answer the script.
 */
export async function runStepScript(
  script: string,
  env: Record<string, string>,
  cwd?: string
): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ert-step-'))
  const file = join(dir, 'step.sh')
  writeFileSync(file, script)
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', file],
        {
          cwd: cwd ?? dir,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? dir,
            ...env
          }
        }
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('error', reject)
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
