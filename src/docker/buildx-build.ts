import type { CommandRunner } from '../common/command-runner.js'
import {
  JsonObjectStream,
  ProgressTracker,
  type RawStatus,
  type StepReport,
  type VertexState
} from './rawjson-progress.js'

/** How a `docker buildx build --progress=rawjson` call went. */
export interface BuildxRun {
  exitCode: number
  report: StepReport
  /** Non-JSON lines buildx wrote on stderr (its `ERROR:` line among them). */
  messages: string[]
  durationSeconds: number
}

/** Receives the build's progress as plain lines, like `--progress=plain`. */
export type ProgressPrinter = (line: string) => void

function formatVertexEvent(
  vertex: VertexState,
  event: 'started' | 'done'
): string {
  if (event === 'started') return `#${vertex.index} ${vertex.name}`
  if (vertex.error) return `#${vertex.index} ERROR: ${vertex.error}`
  if (vertex.cached) return `#${vertex.index} CACHED`
  const seconds =
    vertex.started !== undefined && vertex.completed !== undefined
      ? ((vertex.completed - vertex.started) / 1000).toFixed(1)
      : '?'
  return `#${vertex.index} DONE ${seconds}s`
}

/**
 * Runs buildx with the given arguments (which must ask for rawjson), printing
 * progress as it comes and keeping a per-step report.
 */
export async function runBuildx(
  runner: CommandRunner,
  args: string[],
  options: {
    print?: ProgressPrinter
    now?: () => number
    env?: Record<string, string>
    /** Stage names in Dockerfile order, to order the report. */
    stages?: string[]
  } = {}
): Promise<BuildxRun> {
  const print = options.print ?? (() => undefined)
  const now = options.now ?? Date.now
  const messages: string[] = []
  const tracker = new ProgressTracker(
    (vertex, line) => print(`#${vertex.index} ${line}`),
    (vertex, event) => print(formatVertexEvent(vertex, event))
  )
  const stream = new JsonObjectStream(
    (value) => tracker.apply(value as RawStatus),
    (line) => {
      messages.push(line)
      print(line)
    }
  )
  const started = now()
  const result = await runner('docker', args, {
    env: { BUILDX_METADATA_WARNINGS: 'true', ...(options.env ?? {}) },
    onStderr: (chunk) => stream.push(chunk)
  })
  stream.end()
  return {
    exitCode: result.exitCode,
    report: tracker.report(options.stages),
    messages,
    durationSeconds: (now() - started) / 1000
  }
}

/**
 * The message a failed build fails the action with: the failing step's name
 * and the last lines of its log, else buildx's own last words.
 */
export function buildFailureMessage(run: BuildxRun, logLines = 15): string {
  const failed = run.report.failed
  const buildxError =
    [...run.messages].reverse().find((m) => /^ERROR:/.test(m)) ??
    run.messages[run.messages.length - 1] ??
    `docker buildx build exited with ${run.exitCode}`
  if (!failed) return `The build failed: ${buildxError}`
  const tail = failed.logTail.slice(-logLines)
  return [
    `The build failed at step "${failed.name}": ${failed.error ?? buildxError}`,
    ...(tail.length ? ['Last log lines:', ...tail.map((l) => `  ${l}`)] : [])
  ].join('\n')
}
