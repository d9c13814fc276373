/**
 * Turns a branch glob (`release/*`, `v*.x`, `release/**`) into an anchored
 * regular expression: `*` stays within one path segment, `**` crosses them.
 */
export function branchGlobToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*'
      i++
    } else if (char === '*') {
      source += '[^/]*'
    } else if (char === '?') {
      source += '[^/]'
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    }
  }
  return new RegExp(`^${source}$`)
}

/** The literal part of a glob before its first wildcard, for a ref prefix query. */
export function globPrefix(pattern: string): string {
  const index = pattern.search(/[*?[]/)
  const literal = index === -1 ? pattern : pattern.slice(0, index)
  // The matching-refs API takes whole path segments best; keep up to the last `/`.
  return literal.slice(0, literal.lastIndexOf('/') + 1)
}

/**
 * Compares branch names the way people read versions and dates: runs of
 * digits as numbers (`release/1.10` after `release/1.9`, `2026-07-01` after
 * `2026-06-30`), everything else as text.
 */
export function compareVersionAware(a: string, b: string): number {
  const split = (text: string): string[] => text.match(/\d+|\D+/g) ?? []
  const left = split(a)
  const right = split(b)
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i]
    const y = right[i]
    if (x === y) continue
    const bothNumbers = /^\d/.test(x) && /^\d/.test(y)
    if (bothNumbers) {
      const diff = Number(x) - Number(y)
      if (diff !== 0) return diff < 0 ? -1 : 1
      // `01` vs `1`: equal value, the longer spelling sorts later.
      return x.length - y.length < 0 ? -1 : 1
    }
    return x < y ? -1 : 1
  }
  return left.length - right.length
}

/** The newest of `branches` matching `pattern`, or undefined when none do. */
export function newestBranch(
  branches: readonly string[],
  pattern: string
): string | undefined {
  const matcher = branchGlobToRegExp(pattern)
  const matching = branches.filter((name) => matcher.test(name))
  return matching.sort(compareVersionAware).at(-1)
}
