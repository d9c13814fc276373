import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * A static check that a workflow's inputs, outputs and needs point at things
 * that exist. A typo in a workflow otherwise only shows on GitHub, at 2 a.m.
 */
const root = new URL('../..', import.meta.url).pathname

interface Step {
  id?: string
  uses?: string
  with?: Record<string, unknown>
}
interface Job {
  uses?: string
  with?: Record<string, unknown>
  needs?: string | string[]
  steps?: Step[]
  outputs?: Record<string, string>
}
type InputSpec = { required?: boolean; default?: unknown }
export interface Workflow {
  on?: Record<
    string,
    {
      inputs?: Record<string, InputSpec>
      outputs?: Record<string, unknown>
    } | null
  >
  jobs: Record<string, Job>
}
interface ActionMeta {
  inputs?: Record<string, InputSpec>
  outputs?: Record<string, unknown>
}

/** Maps a `uses:` to one of this repository's actions, if it is one. */
export function localActionName(uses: string | undefined): string | undefined {
  const match =
    /^(?:\.\/(?:[^/]+\/)?|[^/@]+\/ecs-release-train\/)actions\/([a-z0-9-]+)(?:@.*)?$/.exec(
      uses ?? ''
    )
  return match?.[1]
}

function loadAction(name: string): ActionMeta | undefined {
  const file = join(root, 'actions', name, 'action.yml')
  return existsSync(file)
    ? (parse(readFileSync(file, 'utf8')) as ActionMeta)
    : undefined
}

/** Maps a `uses:` to one of this repository's reusable workflows. */
function localWorkflow(uses: string | undefined): Workflow | undefined {
  const match =
    /^(?:\.\/|[^/@]+\/ecs-release-train\/)\.github\/workflows\/([a-z0-9-]+\.ya?ml)(?:@.*)?$/.exec(
      uses ?? ''
    )
  if (!match) return undefined
  const file = join(root, '.github/workflows', match[1])
  return existsSync(file)
    ? (parse(readFileSync(file, 'utf8')) as Workflow)
    : undefined
}

function expressions(value: unknown): string[] {
  const text = JSON.stringify(value ?? '')
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1])
}

/** What is mis-wired in one workflow's text; empty when all is well. */
export function wiringProblems(text: string): string[] {
  const workflow = parse(text) as Workflow
  const problems: string[] = []
  for (const [jobName, job] of Object.entries(workflow.jobs)) {
    const needs = [job.needs ?? []].flat()
    for (const need of needs) {
      if (!workflow.jobs[need])
        problems.push(`${jobName}: needs unknown job ${need}`)
    }
    for (const expr of expressions(job)) {
      for (const [, other, output] of expr.matchAll(
        /needs\.([\w-]+)\.outputs\.([\w-]+)/g
      )) {
        if (!needs.includes(other)) {
          problems.push(`${jobName}: reads needs.${other} without needing it`)
        }
        const target = workflow.jobs[other]
        const callee = localWorkflow(target?.uses)
        const declared = callee
          ? callee.on?.workflow_call?.outputs
          : target?.outputs
        if (!declared || !(output in declared)) {
          problems.push(
            `${jobName}: needs.${other}.outputs.${output} is not declared`
          )
        }
      }
    }
    if (job.uses?.includes('.github/workflows/')) {
      const callee = localWorkflow(job.uses)
      if (!callee) {
        problems.push(`${jobName}: ${job.uses} does not exist`)
      } else {
        const inputs = callee.on?.workflow_call?.inputs ?? {}
        for (const name of Object.keys(job.with ?? {})) {
          if (!(name in inputs))
            problems.push(`${jobName}: ${job.uses} has no input ${name}`)
        }
        for (const [name, spec] of Object.entries(inputs)) {
          if (spec.required && !(name in (job.with ?? {}))) {
            problems.push(`${jobName}: ${job.uses} needs input ${name}`)
          }
        }
      }
    }
    const steps = job.steps ?? []
    const stepsById = new Map(
      steps.filter((s) => s.id).map((s) => [s.id as string, s])
    )
    for (const step of steps) {
      const action = localActionName(step.uses)
      if (!action) continue
      const meta = loadAction(action)
      if (!meta) {
        problems.push(`${jobName}: action ${action} does not exist`)
        continue
      }
      for (const name of Object.keys(step.with ?? {})) {
        if (!(name in (meta.inputs ?? {})))
          problems.push(`${jobName}: ${action} has no input ${name}`)
      }
      for (const [name, spec] of Object.entries(meta.inputs ?? {})) {
        if (
          spec.required &&
          spec.default === undefined &&
          !(name in (step.with ?? {}))
        ) {
          problems.push(`${jobName}: ${action} needs input ${name}`)
        }
      }
    }
    for (const expr of expressions(job)) {
      for (const [, id, output] of expr.matchAll(
        /steps\.([\w-]+)\.outputs\.([\w-]+)/g
      )) {
        const step = stepsById.get(id)
        if (!step) {
          problems.push(`${jobName}: steps.${id} does not exist`)
          continue
        }
        const action = localActionName(step.uses)
        const meta = action ? loadAction(action) : undefined
        if (meta && !(output in (meta.outputs ?? {}))) {
          problems.push(`${jobName}: ${action} has no output ${output}`)
        }
      }
    }
  }
  // A reusable workflow's declared inputs must all be used somewhere.
  for (const name of Object.keys(workflow.on?.workflow_call?.inputs ?? {})) {
    if (!new RegExp(`inputs\\.${name.replace(/-/g, '\\-')}\\b`).test(text)) {
      problems.push(`input ${name} is declared but never used`)
    }
  }
  return problems
}

/** What a job's `if:` sees: `github`, `inputs` and the like. */
export type ExpressionContext = Record<string, unknown>

type Token = { kind: 'op' | 'string' | 'number' | 'name'; text: string }

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  const pattern =
    /\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|(==|!=|&&|\|\||[!(),])|([A-Za-z_][\w.*-]*))/y
  let at = 0
  while (at < text.length) {
    pattern.lastIndex = at
    const match = pattern.exec(text)
    if (!match) {
      if (/^\s*$/.test(text.slice(at))) break
      throw new Error(`cannot read the expression at: ${text.slice(at)}`)
    }
    at = pattern.lastIndex
    if (match[1]) {
      tokens.push({
        kind: 'string',
        text: match[1].slice(1, -1).replace(/''/g, "'")
      })
    } else if (match[2]) tokens.push({ kind: 'number', text: match[2] })
    else if (match[3]) tokens.push({ kind: 'op', text: match[3] })
    else if (match[4]) tokens.push({ kind: 'name', text: match[4] })
  }
  return tokens
}

function lookup(path: string, context: ExpressionContext): unknown {
  let values: unknown[] = [context]
  let spread = false
  for (const part of path.split('.')) {
    if (part === '*') {
      values = values.flatMap((v) => (Array.isArray(v) ? v : []))
      spread = true
      continue
    }
    values = values.map((v) =>
      v !== null && typeof v === 'object'
        ? (v as Record<string, unknown>)[part]
        : undefined
    )
  }
  return spread ? values : values[0]
}

function truthy(value: unknown): boolean {
  return !(
    value === undefined ||
    value === null ||
    value === false ||
    value === '' ||
    value === 0
  )
}

function same(a: unknown, b: unknown): boolean {
  // GitHub compares strings case-insensitively; null equals null only.
  if (typeof a === 'string' && typeof b === 'string') {
    return a.toLowerCase() === b.toLowerCase()
  }
  return (a ?? null) === (b ?? null)
}

/**
 * Evaluates a job's `if:` as GitHub does, for the subset this project's
 * workflows use: `==`, `!=`, `&&`, `||`, `!`, parentheses, string literals,
 * property paths with `.*.`, `startsWith` and `contains`. The `${{ }}` is
 * optional, as in `if:`.
 */
export function evaluateIf(
  expression: string,
  context: ExpressionContext
): boolean {
  const tokens = tokenize(
    expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
  )
  let at = 0
  const peek = (): Token | undefined => tokens[at]
  const take = (text?: string): Token => {
    const token = tokens[at++]
    if (!token || (text !== undefined && token.text !== text)) {
      throw new Error(`expected ${text ?? 'more'} in ${expression}`)
    }
    return token
  }
  const primary = (): unknown => {
    const token = take()
    if (token.kind === 'string') return token.text
    if (token.kind === 'number') return Number(token.text)
    if (token.text === '(') {
      const value = or()
      take(')')
      return value
    }
    if (token.text === '!') return !truthy(primary())
    if (token.kind === 'name' && peek()?.text === '(') {
      take('(')
      const args: unknown[] = [or()]
      while (peek()?.text === ',') {
        take(',')
        args.push(or())
      }
      take(')')
      const [left, right] = args
      const name = token.text.toLowerCase()
      if (name === 'startswith') {
        return String(left ?? '')
          .toLowerCase()
          .startsWith(String(right ?? '').toLowerCase())
      }
      if (name === 'contains') {
        return Array.isArray(left)
          ? left.some((item) => same(item, right))
          : String(left ?? '')
              .toLowerCase()
              .includes(String(right ?? '').toLowerCase())
      }
      throw new Error(`function ${token.text} is not supported`)
    }
    if (token.text === 'true' || token.text === 'false')
      return token.text === 'true'
    if (token.text === 'null') return null
    return lookup(token.text, context)
  }
  const comparison = (): unknown => {
    const left = primary()
    const op = peek()?.text
    if (op === '==' || op === '!=') {
      take()
      const right = primary()
      return op === '==' ? same(left, right) : !same(left, right)
    }
    return left
  }
  const and = (): unknown => {
    let value = comparison()
    while (peek()?.text === '&&') {
      take()
      const right = comparison()
      value = truthy(value) ? right : value
    }
    return value
  }
  const or = (): unknown => {
    let value = and()
    while (peek()?.text === '||') {
      take()
      const right = and()
      value = truthy(value) ? value : right
    }
    return value
  }
  const value = or()
  if (at !== tokens.length) throw new Error(`unread input in ${expression}`)
  return truthy(value)
}
