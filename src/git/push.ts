import { Git } from './git.js'

/** Why a push did not land. */
export type PushFailure = 'race' | 'workflow-permission' | 'rejected'

export type PushOutcome =
  | { status: 'pushed' }
  | { status: 'failed'; reason: PushFailure; message: string }

/**
 * Reads git's refusal: `race` when someone else moved the branch first (a
 * fresh fetch and a new pick will do), `workflow-permission` when GitHub
 * refuses a change under `.github/workflows` for a token without the
 * `workflows` permission, `rejected` for anything else (protection, auth).
 */
export function classifyPushFailure(stderr: string): PushFailure {
  if (/refusing to allow .* to create or update workflow/i.test(stderr)) {
    return 'workflow-permission'
  }
  if (
    /\(fetch first\)|\(non-fast-forward\)|stale info|cannot lock ref|failed to update ref|but expected/i.test(
      stderr
    )
  ) {
    return 'race'
  }
  return 'rejected'
}

/** Pushes commit `sha` to `refs/heads/<branch>`; never throws on a refusal. */
export async function pushCommit(
  git: Git,
  sha: string,
  branch: string,
  options: { force?: boolean } = {}
): Promise<PushOutcome> {
  const args = ['push', '--porcelain', '--end-of-options', 'origin']
  args.push(`${options.force ? '+' : ''}${sha}:refs/heads/${branch}`)
  const result = await git.try(args)
  if (result.exitCode === 0) return { status: 'pushed' }
  const message = `${result.stderr}\n${result.stdout}`.trim()
  return { status: 'failed', reason: classifyPushFailure(message), message }
}
