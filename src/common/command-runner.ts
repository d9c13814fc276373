/** The one way src/ runs a program, injected so unit tests can script its answers. */
import { getExecOutput } from '@actions/exec'

/** What a finished command left behind. Failures are values, not exceptions. */
export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Options a runner honours. */
export interface CommandOptions {
  cwd?: string
  /** Added to the action's own environment. */
  env?: Record<string, string>
  input?: Buffer
  onStdout?: (chunk: string) => void
  onStderr?: (chunk: string) => void
}

/**
 * Runs a program to completion and never throws on a non-zero exit: callers
 * decide what a failure means (a cache failure is only a warning, a failed
 * git command an error).
 */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: CommandOptions
) => Promise<CommandResult>

/** The runner actions use: `@actions/exec`, silent, output captured. */
export const actionsCommandRunner: CommandRunner = async (
  command,
  args,
  options = {}
) => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined) env[key] = value
  }
  Object.assign(env, options.env ?? {})
  const result = await getExecOutput(command, [...args], {
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
