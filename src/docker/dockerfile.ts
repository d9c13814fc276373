/** One Dockerfile instruction with its continuation lines joined. */
export interface Instruction {
  keyword: string
  /** Everything after the keyword, continuations joined with a space. */
  args: string
  /** 1-based line where it starts. */
  line: number
}

/**
 * Splits a Dockerfile into instructions: comments dropped, backslash
 * continuations joined. Heredocs are not interpreted (their lines would be
 * read as instructions), which is enough for finding mounts and COPY sources.
 */
export function parseDockerfile(text: string): Instruction[] {
  const escape = /^#\s*escape\s*=\s*`/m.test(text.split('\n', 5).join('\n'))
    ? '`'
    : '\\'
  const result: Instruction[] = []
  let current: string[] = []
  let start = 0
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, i) => {
    const trimmed = raw.trim()
    if (current.length === 0 && (trimmed === '' || trimmed.startsWith('#'))) {
      return
    }
    if (current.length > 0 && trimmed.startsWith('#')) return
    if (current.length === 0) start = i + 1
    if (trimmed.endsWith(escape)) {
      current.push(trimmed.slice(0, -1).trim())
      return
    }
    current.push(trimmed)
    const joined = current.join(' ').trim()
    current = []
    if (!joined) return
    const match = /^(\S+)\s*(.*)$/.exec(joined)
    if (match) {
      result.push({
        keyword: match[1].toUpperCase(),
        args: match[2],
        line: start
      })
    }
  })
  return result
}

/** `--flag=value` options at the start of RUN/COPY arguments, and the rest. */
export function splitFlags(args: string): { flags: string[]; rest: string } {
  const flags: string[] = []
  let rest = args.trim()
  for (;;) {
    const match = /^--(\S+)\s*/.exec(rest)
    if (!match) break
    flags.push(match[1])
    rest = rest.slice(match[0].length)
  }
  return { flags, rest }
}

/** `key=value,key=value` as a map; a bare key maps to `true`. */
export function parseCsvOptions(text: string): Map<string, string> {
  const options = new Map<string, string>()
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) options.set(part.trim(), 'true')
    else options.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  return options
}

/**
 * Replaces `$NAME` and `${NAME}` with build-args, else the Dockerfile's ARG
 * defaults; unknown names become empty, as BuildKit does.
 */
export function substituteArgs(
  text: string,
  values: Record<string, string>
): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_, braced?: string, fallback?: string, bare?: string) => {
      const name = braced ?? bare ?? ''
      return values[name] ?? fallback ?? ''
    }
  )
}

/** ARG defaults of a Dockerfile, overridden by the build-args given. */
export function argValues(
  instructions: Instruction[],
  buildArgs: Record<string, string>
): Record<string, string> {
  const values: Record<string, string> = {}
  for (const instruction of instructions) {
    if (instruction.keyword !== 'ARG') continue
    for (const token of instruction.args.split(/\s+/)) {
      const eq = token.indexOf('=')
      const name = eq < 0 ? token : token.slice(0, eq)
      if (!name) continue
      if (eq >= 0 && values[name] === undefined) {
        values[name] = token.slice(eq + 1).replace(/^"(.*)"$/, '$1')
      }
    }
  }
  return { ...values, ...buildArgs }
}

/** The image of the first FROM, with ARGs resolved. */
export function firstBaseImage(
  instructions: Instruction[],
  buildArgs: Record<string, string>
): string | undefined {
  const from = instructions.find((i) => i.keyword === 'FROM')
  if (!from) return undefined
  const { rest } = splitFlags(from.args)
  const image = rest.split(/\s+/)[0]
  return substituteArgs(image, argValues(instructions, buildArgs)) || undefined
}

/**
 * Stage names in declaration order, as BuildKit labels steps: the AS name,
 * else `stage-<n>`.
 */
export function stageNames(instructions: Instruction[]): string[] {
  return instructions
    .filter((i) => i.keyword === 'FROM')
    .map((from, n) => {
      const match = /\s+as\s+(\S+)\s*$/i.exec(from.args)
      return match ? match[1] : `stage-${n}`
    })
}
