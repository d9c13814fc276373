import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** What a test gives the harness: the action's inputs and its surroundings. */
export interface ActionRun {
  /** `dist/<name>/index.js` of this repository, or an explicit bundle path. */
  action?: string
  bundle?: string
  inputs?: Record<string, string | number | boolean | undefined>
  /** Written to a file and passed as GITHUB_EVENT_PATH. */
  event?: unknown
  eventName?: string
  env?: Record<string, string | undefined>
  cwd?: string
  /** Kills the child after this many milliseconds (default 5 minutes). */
  timeoutMs?: number
  /**
   * Interrupts the main step as the runner does on a cancel or a job
   * time-out: once the output contains `whenOutput`, `signal` (SIGINT for a
   * cancel), then SIGTERM after `graceMs` (the runner waits 7.5 s), then
   * SIGKILL after `killAfterMs` more (the runner waits 2.5 s).
   */
  interrupt?: {
    /** Every one of these must have been printed. */
    whenOutput: string | string[]
    /** SIGKILL: killed at once, as a runner does to a step that outlives its grace. */
    signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL'
    graceMs?: number
    killAfterMs?: number
  }
  /**
   * Then runs the action's post step (`runs.post`, `post-if: always()`) the
   * way the runner does: `dist/<action>/post/index.js` in a fresh step,
   * with the main step's saved state as `STATE_<name>` variables.
   */
  post?: boolean
}

/** A GitHub workflow command found on stdout (`::error file=x::text`). */
export interface Annotation {
  level: 'error' | 'warning' | 'notice' | 'debug'
  message: string
}

export interface ActionResult {
  exitCode: number
  outputs: Record<string, string>
  state: Record<string, string>
  /** Variables the action exported through GITHUB_ENV. */
  exportedEnv: Record<string, string>
  summary: string
  annotations: Annotation[]
  stdout: string
  stderr: string
  /** stdout and stderr interleaved as they arrived. */
  output: string
  durationMs: number
  /** Set when the harness killed the action at its time limit. */
  timedOutAfterMs?: number
  /** The signals delivered to the main step, in order. */
  signals?: string[]
  /** The post step's run, when `post` was asked for. */
  post?: ActionResult
}

/** The default time limit of one action run. */
export const DEFAULT_TIMEOUT_MS = 300_000

const repoRoot = resolve(new URL('../..', import.meta.url).pathname)

/** Reads the `name=value` and `name<<DELIM … DELIM` forms the runner reads. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!line) continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) {
        value.push(lines[i])
      }
      result[name] = value.join('\n')
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return result
}

function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** Finds `::error::`, `::warning::`, `::notice::` and `::debug::` lines. */
export function parseAnnotations(stdout: string): Annotation[] {
  const found: Annotation[] = []
  for (const line of stdout.split('\n')) {
    const match = /^::(error|warning|notice|debug)(?: [^:]*)?::(.*)$/.exec(line)
    if (match) {
      found.push({
        level: match[1] as Annotation['level'],
        message: unescapeData(match[2])
      })
    }
  }
  return found
}

/**
 * Runs a built action bundle as a child process, the way the runner does:
 * inputs as `INPUT_<NAME>` (hyphens kept), file commands in temp files, and
 * the event payload on disk. Asynchronous on purpose: the stand-in servers a
 * test starts live in the test's own process and must keep answering.
 */
export async function runAction(run: ActionRun): Promise<ActionResult> {
  const main = await runStep(run, {})
  if (!run.post) return main
  const post = await runStep(
    {
      ...run,
      interrupt: undefined,
      bundle: join(repoRoot, 'dist', run.action ?? '', 'post', 'index.js')
    },
    Object.fromEntries(
      Object.entries(main.state).map(([name, value]) => [
        `STATE_${name}`,
        value
      ])
    )
  )
  return { ...main, post }
}

async function runStep(
  run: ActionRun,
  stateEnv: Record<string, string>
): Promise<ActionResult> {
  const bundle =
    run.bundle ?? join(repoRoot, 'dist', run.action ?? '', 'index.js')
  const work = await mkdtemp(join(tmpdir(), 'ert-runner-'))
  const files = {
    output: join(work, 'output'),
    state: join(work, 'state'),
    env: join(work, 'env'),
    path: join(work, 'path'),
    summary: join(work, 'summary.md'),
    event: join(work, 'event.json')
  }
  await Promise.all([
    writeFile(files.output, ''),
    writeFile(files.state, ''),
    writeFile(files.env, ''),
    writeFile(files.path, ''),
    writeFile(files.summary, ''),
    writeFile(files.event, JSON.stringify(run.event ?? {}))
  ])
  const runnerTemp = join(work, 'runner-temp')
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    // A test's own inputs must not leak into the child.
    if (value !== undefined && !key.startsWith('INPUT_')) env[key] = value
  }
  Object.assign(env, {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_ENV: files.env,
    GITHUB_PATH: files.path,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: run.eventName ?? 'push',
    GITHUB_REPOSITORY: 'acme/monolith',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_RUN_ID: '1001',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKFLOW: 'test',
    GITHUB_JOB: 'test',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: run.cwd ?? repoRoot,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux'
  })
  for (const [name, value] of Object.entries(run.inputs ?? {})) {
    if (value !== undefined) {
      env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = String(value)
    }
  }
  for (const [key, value] of Object.entries(run.env ?? {})) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  Object.assign(env, stateEnv)

  const started = Date.now()
  const child = spawn(process.execPath, [bundle], {
    cwd: run.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let output = ''
  const signals: string[] = []
  const escalation: NodeJS.Timeout[] = []
  const interrupt = run.interrupt
  const deliver = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null) return
    signals.push(signal)
    child.kill(signal)
  }
  const maybeInterrupt = (): void => {
    if (!interrupt || signals.length > 0) return
    const wanted = [interrupt.whenOutput].flat()
    if (!wanted.every((text) => output.includes(text))) return
    deliver(interrupt.signal)
    const grace = interrupt.graceMs ?? 7_500
    const kill = interrupt.killAfterMs ?? 2_500
    if (interrupt.signal === 'SIGINT') {
      escalation.push(setTimeout(() => deliver('SIGTERM'), grace))
      escalation.push(setTimeout(() => deliver('SIGKILL'), grace + kill))
    } else if (interrupt.signal === 'SIGTERM') {
      escalation.push(setTimeout(() => deliver('SIGKILL'), kill))
    }
  }
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    output += chunk.toString()
    maybeInterrupt()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    output += chunk.toString()
  })
  const limitMs = run.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, limitMs)
  const exitCode = await new Promise<number>((resolveExit, reject) => {
    child.on('error', reject)
    // A signal is reported as a shell does: 128 + its number (137 for KILL).
    child.on('close', (code, signal) =>
      resolveExit(code ?? 128 + (signal ? constants.signals[signal] : 0))
    )
  })
  clearTimeout(timer)
  for (const t of escalation) clearTimeout(t)

  const result: ActionResult = {
    exitCode,
    outputs: parseFileCommands(await readFile(files.output, 'utf8')),
    state: parseFileCommands(await readFile(files.state, 'utf8')),
    exportedEnv: parseFileCommands(await readFile(files.env, 'utf8')),
    summary: await readFile(files.summary, 'utf8'),
    annotations: parseAnnotations(stdout),
    stdout,
    stderr,
    output,
    durationMs: Date.now() - started,
    ...(timedOut ? { timedOutAfterMs: limitMs } : {}),
    ...(signals.length > 0 ? { signals } : {})
  }
  await rm(work, { recursive: true, force: true })
  return result
}

/** The messages of one level, for compact assertions. */
export function messages(
  result: ActionResult,
  level: Annotation['level']
): string[] {
  return result.annotations
    .filter((a) => a.level === level)
    .map((a) => a.message)
}

/** The last `count` non-empty lines of an action's output. */
export function lastLines(result: ActionResult, count = 15): string[] {
  return result.output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
}

/**
 * Why an action run failed, in words a person can act on: the time limit
 * that stopped it, or its exit code and error annotations, and in both cases
 * the last lines it printed when that is all there is to go on.
 */
export function failureMessage(action: string, result: ActionResult): string {
  const tail = lastLines(result)
    .map((line) => `  ${line}`)
    .join('\n')
  if (result.timedOutAfterMs !== undefined) {
    return (
      `${action} was stopped by its time limit of ${result.timedOutAfterMs / 1000} s ` +
      `(killed, exit ${result.exitCode}); the last lines of its output:\n${tail}`
    )
  }
  const errors = messages(result, 'error')
  if (errors.length > 0) {
    return `${action} failed (exit ${result.exitCode}): ${errors.join('; ')}`
  }
  return `${action} failed (exit ${result.exitCode}) without an error message; the last lines of its output:\n${tail}`
}
