/** git in one repository directory, through the injected command runner. */
import type { CommandResult, CommandRunner } from '../common/command-runner.js'

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

  /**
   * Runs git; the result comes back whatever the exit code. `env` is added
   * for this call (a commit's author, say).
   */
  async try(
    args: readonly string[],
    env: Record<string, string> = {}
  ): Promise<CommandResult> {
    return this.runner('git', args, {
      cwd: this.dir,
      env: {
        // Never wait on a prompt for credentials or an editor in CI.
        GIT_TERMINAL_PROMPT: '0',
        GIT_EDITOR: 'true',
        ...this.env,
        ...env
      }
    })
  }

  /** Runs git and throws `GitError` on a non-zero exit; returns stdout. */
  async run(
    args: readonly string[],
    env: Record<string, string> = {}
  ): Promise<string> {
    const result = await this.try(args, env)
    if (result.exitCode !== 0) throw new GitError(args, result)
    return result.stdout
  }
}
