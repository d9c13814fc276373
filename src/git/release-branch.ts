import picomatch from 'picomatch'
import { Git } from './git.js'

// picomatch gives the glob semantics people know from workflow `branches:`
// filters: `*` stays within one path segment, `**` crosses them, `[...]`
// and `{a,b}` work. `dot` because a branch segment may start with a dot.
const GLOB_OPTIONS = { dot: true }

/** A test for branch names against a glob such as `release/*`. */
export function branchMatcher(pattern: string): (name: string) => boolean {
  const isMatch = picomatch(pattern, GLOB_OPTIONS)
  return (name) => isMatch(name)
}

/** The literal part of a glob up to its last `/`, for a ref prefix query. */
export function globPrefix(pattern: string): string {
  const scan = picomatch.scan(pattern)
  const literal = scan.isGlob ? (scan.base ? `${scan.base}/` : '') : pattern
  // The matching-refs API takes whole path segments best; keep up to the last `/`.
  return literal.slice(0, literal.lastIndexOf('/') + 1)
}

// Runs of digits compare as numbers: `release/1.10` after `release/1.9`,
// `2026-07-01` after `2026-06-30`.
const versionCollator = new Intl.Collator('en', { numeric: true })

/** Compares branch names the way people read versions and dates. */
export function compareVersionAware(a: string, b: string): number {
  return versionCollator.compare(a, b)
}

/** The newest of `branches` matching `pattern`, or undefined when none do. */
export function newestBranch(
  branches: readonly string[],
  pattern: string
): string | undefined {
  const matches = branchMatcher(pattern)
  return branches.filter(matches).sort(compareVersionAware).at(-1)
}

/**
 * Whether git itself accepts `name` as a branch name (`git check-ref-format
 * --branch`), so a label or comment cannot smuggle an option or a
 * revision expression into a git command.
 */
export async function isValidBranchName(
  git: Git,
  name: string
): Promise<boolean> {
  if (!name || name.startsWith('-')) return false
  const result = await git.try(['check-ref-format', '--branch', name])
  return result.exitCode === 0 && result.stdout.trim() === name
}
