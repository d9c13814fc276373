/** What a main step leaves its post step (`runs.post`, `post-if: always()`), and the signals that cut a main step short. */
import * as core from '@actions/core'

/** Saves `value` as JSON under `name`; the runner keeps the last value saved. */
export function saveJsonState(name: string, value: unknown): void {
  core.saveState(name, JSON.stringify(value))
}

/** The value a main step saved under `name`, or undefined when it saved none. */
export function readJsonState<T>(name: string): T | undefined {
  const text = core.getState(name)
  if (!text) return undefined
  try {
    return JSON.parse(text) as T
  } catch {
    return undefined
  }
}

/**
 * On a cancel or a job time-out the runner sends SIGINT, then SIGTERM
 * 7.5 s later, then kills the process. The main step then records that it
 * was interrupted, says so, and exits non-zero at once: it stops polling
 * and leaves the report (and any rollback) to the post step, which the
 * runner still runs. Returns a function that removes the handlers.
 */
export function handOverOnInterrupt(what: string): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    core.saveState('interrupted', signal)
    core.error(
      `${what} was interrupted (${signal}: the run was cancelled or timed out) before a verdict; the post step reports what was left unverified.`
    )
    process.exit(1)
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
