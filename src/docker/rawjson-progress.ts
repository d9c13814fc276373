/**
 * BuildKit's `--progress=rawjson` stream: pretty-printed SolveStatus objects
 * written one after another on stderr (not one per line), interleaved with
 * plain text such as buildx's final `ERROR:` line. The same vertex repeats as
 * it progresses, so state is merged by digest.
 */

/** One vertex as BuildKit reports it; every field may be absent in an update. */
export interface RawVertex {
  digest: string
  name?: string
  inputs?: string[]
  started?: string
  completed?: string
  cached?: boolean
  error?: string
}

export interface RawLog {
  vertex: string
  stream?: number
  /** Base64, as Go encodes a byte slice. */
  data?: string
}

export interface RawStatus {
  vertexes?: RawVertex[]
  logs?: RawLog[]
}

/**
 * Splits a character stream into top-level JSON objects and the text between
 * them. Tracks strings and escapes, so braces inside log data do not count.
 */
export class JsonObjectStream {
  private buffer = ''
  private depth = 0
  private inString = false
  private escaped = false
  private text = ''

  constructor(
    private readonly onObject: (value: unknown) => void,
    private readonly onText: (line: string) => void = () => undefined
  ) {}

  push(chunk: string): void {
    for (const char of chunk) {
      if (this.depth === 0) {
        if (char === '{') {
          this.depth = 1
          this.buffer = char
        } else if (char === '\n') {
          this.flushText()
        } else {
          this.text += char
        }
        continue
      }
      this.buffer += char
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (char === '\\') this.escaped = true
        else if (char === '"') this.inString = false
        continue
      }
      if (char === '"') this.inString = true
      else if (char === '{') this.depth++
      else if (char === '}') {
        this.depth--
        if (this.depth === 0) this.emit()
      }
    }
  }

  /** Flushes trailing text; an unfinished object is reported as text. */
  end(): void {
    if (this.depth > 0) this.text += this.buffer
    this.depth = 0
    this.buffer = ''
    this.flushText()
  }

  private emit(): void {
    const raw = this.buffer
    this.buffer = ''
    try {
      this.onObject(JSON.parse(raw))
    } catch {
      this.onText(raw)
    }
  }

  private flushText(): void {
    const line = this.text.trimEnd()
    this.text = ''
    if (line.trim() !== '') this.onText(line)
  }
}

/** A vertex after merging every update seen for its digest. */
export interface VertexState {
  digest: string
  name: string
  /** Order of first appearance; what `#N` means in plain progress. */
  index: number
  started?: number
  completed?: number
  cached: boolean
  error?: string
  /** The last lines it logged (bounded). */
  logTail: string[]
}

/** A Dockerfile step in the cache report. */
export interface StepResult {
  name: string
  cached: boolean
  /** Undefined when the step never completed. */
  durationSeconds?: number
  error?: string
  logTail: string[]
}

export interface StepReport {
  steps: StepResult[]
  totalSteps: number
  cachedSteps: number
  /** cachedSteps / totalSteps, 0 when there are no steps. */
  hitRatio: number
  /** The first step (in build order) that had to run. */
  firstMiss?: StepResult
  /** The step that failed, if any. */
  failed?: StepResult
  /**
   * The error a cache exporter left on its vertex: with `ignore-error=true`
   * the build succeeds and this is the only trace of a cache not written.
   */
  cacheExportError?: string
}

/** Cache exporters' vertexes: `exporting cache to registry`, `exporting to GitHub Actions Cache`. */
const CACHE_EXPORTER = /^exporting (cache\b|to GitHub Actions Cache)/

const LOG_TAIL_LINES = 30

/**
 * Dockerfile steps are named `[stage n/m] INSTRUCTION ...`; `[internal]`
 * vertexes, exporters and base-image resolution are not steps. FROM is left
 * out: pulling a base is not a cache hit or miss of the build's own work.
 */
export function isBuildStep(name: string): boolean {
  const match = /^\[(?:[^\]]* )?\d+\/\d+\]\s+(\S+)/.exec(name)
  return match !== null && match[1].toUpperCase() !== 'FROM'
}

/** Merges SolveStatus updates into vertex states and renders the report. */
export class ProgressTracker {
  private readonly vertexes = new Map<string, VertexState>()
  private readonly partialLine = new Map<string, string>()

  constructor(
    private readonly onLog: (vertex: VertexState, line: string) => void = () =>
      undefined,
    /** Called when a vertex first starts, and when it completes or is cached. */
    private readonly onVertex: (
      vertex: VertexState,
      event: 'started' | 'done'
    ) => void = () => undefined
  ) {}

  apply(status: RawStatus): void {
    for (const raw of status.vertexes ?? []) {
      if (!raw?.digest) continue
      const vertex = this.vertex(raw.digest)
      const wasDone = vertex.completed !== undefined || vertex.cached
      const wasStarted = vertex.started !== undefined || wasDone
      if (raw.name) vertex.name = raw.name
      if (raw.started) vertex.started = Date.parse(raw.started)
      if (raw.completed) vertex.completed = Date.parse(raw.completed)
      if (raw.cached) vertex.cached = true
      if (raw.error) vertex.error = raw.error
      const done = vertex.completed !== undefined || vertex.cached
      if (!wasStarted && (vertex.started !== undefined || done)) {
        this.onVertex(vertex, 'started')
      }
      if (!wasDone && done) this.onVertex(vertex, 'done')
    }
    for (const log of status.logs ?? []) {
      if (!log?.vertex || !log.data) continue
      const vertex = this.vertex(log.vertex)
      const text =
        (this.partialLine.get(log.vertex) ?? '') +
        Buffer.from(log.data, 'base64').toString('utf8')
      const lines = text.split(/\r?\n/)
      this.partialLine.set(log.vertex, lines.pop() ?? '')
      for (const line of lines) this.addLine(vertex, line)
    }
  }

  /** Every vertex in order of first appearance. */
  all(): VertexState[] {
    for (const [digest, rest] of this.partialLine) {
      if (rest) {
        const vertex = this.vertex(digest)
        this.addLine(vertex, rest)
        this.partialLine.set(digest, '')
      }
    }
    return [...this.vertexes.values()].sort((a, b) => a.index - b.index)
  }

  /**
   * The per-step report. `stageOrder` (stage names as the Dockerfile declares
   * them) puts steps in Dockerfile order, which is what "first miss" means;
   * without it steps keep the order BuildKit first mentioned them.
   */
  report(stageOrder: string[] = []): StepReport {
    const position = (name: string): [number, number] => {
      const match = /^\[(?:(\S+) )?(\d+)\/\d+\]/.exec(name)
      const stage = match?.[1] ? stageOrder.indexOf(match[1]) : 0
      return [stage < 0 ? stageOrder.length : stage, Number(match?.[2] ?? 0)]
    }
    const steps: StepResult[] = this.all()
      .filter((v) => isBuildStep(v.name))
      .sort((a, b) => {
        const [sa, na] = position(a.name)
        const [sb, nb] = position(b.name)
        return sa - sb || na - nb || a.index - b.index
      })
      .map((v) => ({
        name: v.name,
        cached: v.cached,
        durationSeconds:
          v.started !== undefined && v.completed !== undefined
            ? Math.max(0, (v.completed - v.started) / 1000)
            : undefined,
        error: v.error,
        logTail: v.logTail
      }))
    const cachedSteps = steps.filter((s) => s.cached).length
    return {
      steps,
      totalSteps: steps.length,
      cachedSteps,
      hitRatio: steps.length ? cachedSteps / steps.length : 0,
      firstMiss: steps.find((s) => !s.cached),
      failed: steps.find((s) => s.error) ?? this.failedVertex(),
      // Not `failed`: a cache import that failed first (a service that is
      // down) leaves its error on an earlier vertex.
      cacheExportError: this.all().find(
        (v) => v.error && CACHE_EXPORTER.test(v.name)
      )?.error
    }
  }

  /** A failure outside the Dockerfile steps (an exporter, a cache export). */
  private failedVertex(): StepResult | undefined {
    const vertex = this.all().find(
      (v) => v.error && !v.error.includes('context canceled')
    )
    if (!vertex) return undefined
    return {
      name: vertex.name,
      cached: vertex.cached,
      error: vertex.error,
      logTail: vertex.logTail
    }
  }

  private vertex(digest: string): VertexState {
    let vertex = this.vertexes.get(digest)
    if (!vertex) {
      vertex = {
        digest,
        name: '',
        index: this.vertexes.size + 1,
        cached: false,
        logTail: []
      }
      this.vertexes.set(digest, vertex)
    }
    return vertex
  }

  private addLine(vertex: VertexState, line: string): void {
    vertex.logTail.push(line)
    if (vertex.logTail.length > LOG_TAIL_LINES) vertex.logTail.shift()
    this.onLog(vertex, line)
  }
}

/** Parses a whole captured rawjson stream; for tests and after-the-fact use. */
export function parseRawJson(text: string): {
  tracker: ProgressTracker
  text: string[]
} {
  const tracker = new ProgressTracker()
  const lines: string[] = []
  const stream = new JsonObjectStream(
    (value) => tracker.apply(value as RawStatus),
    (line) => lines.push(line)
  )
  stream.push(text)
  stream.end()
  return { tracker, text: lines }
}
