import { getExecOutput } from '@actions/exec'

/** What one process run gave back. Failures are values, not exceptions. */
export interface CommandResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Options a runner honours; `env` is added to the parent environment. */
export interface CommandOptions {
  cwd?: string
  env?: Record<string, string>
}

/**
 * Runs a program and never throws on a non-zero exit. Injected into the git
 * domain so unit tests can script git's answers without a process.
 */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: CommandOptions
) => Promise<CommandResult>

/** The runner actions use: `@actions/exec`, quiet, output captured. */
export const actionsExecRunner: CommandRunner = async (
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
    ignoreReturnCode: true,
    silent: true
  })
  return {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr
  }
}

/** A git command that failed where failure was not expected. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: CommandResult
  ) {
    super(
      `git ${args.join(' ')} failed with exit code ${result.exitCode}: ${
        result.stderr.trim() || result.stdout.trim()
      }`
    )
    this.name = 'GitError'
  }
}

/** One repository directory and the runner that drives git in it. */
export class Git {
  constructor(
    readonly dir: string,
    private readonly runner: CommandRunner,
    private readonly env: Record<string, string> = {}
  ) {}

  /** Runs git; the result comes back whatever the exit code. */
  async try(args: readonly string[]): Promise<CommandResult> {
    return this.runner('git', args, {
      cwd: this.dir,
      env: {
        // Never wait on a prompt for credentials or an editor in CI.
        GIT_TERMINAL_PROMPT: '0',
        GIT_EDITOR: 'true',
        ...this.env
      }
    })
  }

  /** Runs git and throws `GitError` on a non-zero exit; returns stdout. */
  async run(args: readonly string[]): Promise<string> {
    const result = await this.try(args)
    if (result.exitCode !== 0) throw new GitError(args, result)
    return result.stdout
  }
}
