import * as exec from '@actions/exec'

/** What a finished command left behind. */
export interface ExecResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface ExecOptions {
  cwd?: string
  /** Added to the action's own environment. */
  env?: Record<string, string>
  input?: Buffer
  onStdout?: (chunk: string) => void
  onStderr?: (chunk: string) => void
}

/**
 * Runs a command to completion and never throws on a non-zero exit: callers
 * decide what a failure means (a cache failure is only a warning).
 */
export type ExecRunner = (
  command: string,
  args: string[],
  options?: ExecOptions
) => Promise<ExecResult>

/** The runner the action uses: `@actions/exec`, silent, output captured. */
export const execRunner: ExecRunner = async (command, args, options = {}) => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined) env[key] = value
  }
  Object.assign(env, options.env ?? {})
  const result = await exec.getExecOutput(command, args, {
    cwd: options.cwd,
    env,
    input: options.input,
    ignoreReturnCode: true,
    silent: true,
    listeners: {
      stdout: (data: Buffer) => options.onStdout?.(data.toString()),
      stderr: (data: Buffer) => options.onStderr?.(data.toString())
    }
  })
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr
  }
}
