import * as core from '@actions/core'
import type { CommandRunner } from '../common/command-runner.js'
import type { MountCacheStore } from '../docker/mount-cache.js'
import type { Inputs } from './inputs.js'

export interface BuildDeps {
  runner: CommandRunner
  store: MountCacheStore
  now: () => number
}

/** Seconds spent per phase, in order, for the summary. */
export type Timings = [string, number][]

/** One build's shared state: inputs, clients, timings and warnings. */
export interface BuildRun {
  inputs: Inputs
  deps: BuildDeps
  timings: Timings
  warnings: string[]
}

/** Runs one phase of the build and records how long it took. */
export async function timed<T>(
  run: BuildRun,
  phase: string,
  body: () => Promise<T>
): Promise<T> {
  const start = run.deps.now()
  try {
    return await body()
  } finally {
    run.timings.push([phase, (run.deps.now() - start) / 1000])
  }
}

/** A warning both annotated now and listed in the summary. */
export function warn(run: BuildRun, message: string): void {
  run.warnings.push(message)
  core.warning(message)
}
