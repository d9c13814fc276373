import type { CommandRunner } from '../common/command-runner.js'
import picomatch from 'picomatch'

/** Installed packages by name. */
export interface PackageSet {
  os: Map<string, string>
  python: Map<string, string>
}

export type PackageKind = 'os' | 'python'

/** One difference between two package sets. */
export interface PackageChange {
  kind: PackageKind
  name: string
  change: 'added' | 'removed' | 'changed'
  before?: string
  after?: string
}

/** Installed packages from `/var/lib/dpkg/status` (multi-arch names kept plain). */
export function parseDpkgStatus(text: string): Map<string, string> {
  const packages = new Map<string, string>()
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(stanza)?.[1]?.trim()
    const name = field('Package')
    const version = field('Version')
    const status = field('Status') ?? ''
    if (
      name &&
      version &&
      /\binstalled$/.test(status) &&
      !/not-installed/.test(status)
    ) {
      packages.set(name, version)
    }
  }
  return packages
}

/** Python's normalised project name (PEP 503). */
export function normalizePythonName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-')
}

/**
 * Python distributions from `*.dist-info` / `*.egg-info` paths: the folder
 * name is `<name>-<version>[-pyX.Y]`, with `-` in names escaped to `_`.
 */
export function parsePythonDists(paths: string[]): Map<string, string> {
  const dists = new Map<string, string>()
  for (const path of paths) {
    const base = path.trim().split('/').pop() ?? ''
    const match =
      /^(.+?)-(\d[^-]*?)(?:-py\d+(?:\.\d+)*)?\.(?:dist|egg)-info$/.exec(base)
    if (match) dists.set(normalizePythonName(match[1]), match[2])
  }
  return dists
}

const MARKER = '--- python distributions ---'
// One shell call per image: dpkg's database, then every distribution folder
// under the usual site-packages roots (a whole-disk find would be slow).
const LIST_SCRIPT = [
  'cat /var/lib/dpkg/status 2>/dev/null',
  `echo '${MARKER}'`,
  'for d in /usr/lib/python3 /usr/lib/python3.* /usr/local/lib /opt /srv /app /venv /root/.local; do',
  '  [ -d "$d" ] && find "$d" -maxdepth 6 \\( -name "*.dist-info" -o -name "*.egg-info" \\) -print 2>/dev/null',
  'done',
  'true'
].join('\n')

/** Splits the listing script's output. */
export function parsePackageListing(output: string): PackageSet {
  const at = output.indexOf(MARKER)
  const dpkg = at < 0 ? output : output.slice(0, at)
  const python = at < 0 ? '' : output.slice(at + MARKER.length)
  return {
    os: parseDpkgStatus(dpkg),
    python: parsePythonDists(python.split('\n').filter(Boolean))
  }
}

/** Lists an image's packages by running a shell in it, without network. */
export async function listImagePackages(
  runner: CommandRunner,
  image: string
): Promise<PackageSet> {
  const result = await runner('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    LIST_SCRIPT
  ])
  if (result.exitCode !== 0) {
    throw new Error(
      `listing the packages of ${image} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`
    )
  }
  return parsePackageListing(result.stdout)
}

function diffMaps(
  kind: PackageKind,
  before: Map<string, string>,
  after: Map<string, string>
): PackageChange[] {
  const changes: PackageChange[] = []
  for (const [name, version] of after) {
    const old = before.get(name)
    if (old === undefined)
      changes.push({ kind, name, change: 'added', after: version })
    else if (old !== version) {
      changes.push({
        kind,
        name,
        change: 'changed',
        before: old,
        after: version
      })
    }
  }
  for (const [name, version] of before) {
    if (!after.has(name))
      changes.push({ kind, name, change: 'removed', before: version })
  }
  return changes.sort(
    (a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)
  )
}

/** Every added, removed or changed package, OS packages first, by name. */
export function diffPackages(
  before: PackageSet,
  after: PackageSet
): PackageChange[] {
  return [
    ...diffMaps('os', before.os, after.os),
    ...diffMaps('python', before.python, after.python)
  ]
}

/**
 * The changes matching any pattern (`libpq*`, `python:django`, `os:openssl`):
 * a `kind:` prefix limits a pattern to OS or Python packages.
 */
export function matchingChanges(
  changes: PackageChange[],
  patterns: string[]
): PackageChange[] {
  const compiled = patterns.map((pattern) => {
    const prefixed = /^(os|python):(.+)$/.exec(pattern)
    return {
      kind: prefixed?.[1] as PackageKind | undefined,
      // Case-insensitive: pip and apt treat `Django` and `django` alike.
      matches: picomatch(prefixed ? prefixed[2] : pattern, { nocase: true })
    }
  })
  return changes.filter((change) =>
    compiled.some(
      (p) => (!p.kind || p.kind === change.kind) && p.matches(change.name)
    )
  )
}
