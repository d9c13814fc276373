import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('../..', import.meta.url).pathname

/** Newest modification time under `path` (a file or a directory tree). */
function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce(
    (newest, entry) => Math.max(newest, newestMtime(join(path, entry))),
    stat.mtimeMs
  )
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Holds a lock directory while `body` runs: jest runs test files in
 * parallel workers, and two of them rebuilding one bundle at once would
 * let a third run a half-written file. A lock older than ten minutes is
 * left over from a killed run.
 */
function withLock(lock: string, body: () => void): void {
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      const age =
        Date.now() -
        (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > 600_000) rmSync(lock, { recursive: true, force: true })
      else sleepSync(200)
    }
  }
  try {
    body()
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/**
 * Makes `dist/<action>/index.js` current with the sources and returns its
 * path. End-to-end tests run the bundle the runner runs, so a bundle older
 * than src/ would test code that is not there any more; rebuilding only when
 * stale keeps CI (which has just built every bundle in check-dist) from
 * paying ncc once per test file.
 */
export function ensureBundle(action: string): string {
  const bundle = join(root, 'dist', action, 'index.js')
  const stale = (): boolean =>
    newestMtime(bundle) <=
    Math.max(
      newestMtime(join(root, 'src')),
      newestMtime(join(root, 'actions', action)),
      newestMtime(join(root, 'scripts', 'build.mjs')),
      newestMtime(join(root, 'package-lock.json'))
    )
  if (!stale()) return bundle
  withLock(join(root, 'dist', `.${action}.lock`), () => {
    // Another worker may have built it while this one waited.
    if (!stale()) return
    execFileSync(process.execPath, ['scripts/build.mjs', action], {
      cwd: root,
      stdio: 'ignore'
    })
  })
  return bundle
}
