import {
  cherryPickedSources,
  isAlreadyPicked,
  pickMessage
} from '../git/cherry-pick.js'
import {
  LandOutcome,
  LandRequest,
  pushFailed,
  raceBackoff
} from '../git/land-commits.js'
import { classifyPushFailure, PushFailure } from '../git/push.js'
import { GitHubClient, RepoRef } from './client.js'
import {
  ChangedCommit,
  COMMIT_FILES_PAGE,
  createCommit,
  createTree,
  Directory,
  ListedCommit,
  moveBranch,
  readDirectories,
  readHistory,
  Signature,
  TreeChange,
  TreeEntry
} from './git-data.js'

/** Why a pick is left to git: it needs more than new blobs on old paths. */
export interface Declined {
  status: 'declined'
  reason: string
}

/** What a pick through the API made, as git's pick reports it. */
export type ApiPickOutcome =
  | {
      status: 'picked'
      picked: { source: string; sha: string }[]
      empty: string[]
      head: string
    }
  | Declined

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash < 0 ? '' : path.slice(0, slash)
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`: every directory a new path may pass. */
function withAncestors(dir: string): string[] {
  if (dir === '') return []
  const parts = dir.split('/')
  return parts.map((_, index) => parts.slice(0, index + 1).join('/'))
}

function sameEntry(a?: TreeEntry, b?: TreeEntry): boolean {
  return a?.oid === b?.oid && a?.mode === b?.mode
}

/** What only git's merge can pick: the API route declines these up front. */
function needsGit(commit: ChangedCommit): string | undefined {
  if (commit.parents.length !== 1) return `${commit.sha} is a merge commit`
  if (!commit.complete) {
    return `${commit.sha} changes more than ${COMMIT_FILES_PAGE} files`
  }
  // git's push names the missing `workflows` permission; keep its wording.
  const workflow = commit.paths.find((path) =>
    path.startsWith('.github/workflows/')
  )
  return workflow ? `${commit.sha} changes ${workflow}` : undefined
}

/**
 * Picks `commits` onto `base` without a clone when each is clean on the
 * path level: every path a commit changed is, on the target, as the
 * commit's parent had it (the result takes the commit's version) or
 * already as the commit made it (nothing to do). That is exactly when
 * git's three-way merge takes one side without merging content, so the
 * new tree is the target's with those entries set, written by GitHub
 * (one tree and one commit per pick). Anything else is declined for git:
 * a path changed on both sides, a directory renamed or removed on the
 * target (git would follow it), a file where a new directory goes.
 */
export async function pickThroughApi(
  client: GitHubClient,
  repo: RepoRef,
  base: { sha: string; tree: string },
  commits: readonly ChangedCommit[],
  committer: Signature
): Promise<ApiPickOutcome> {
  for (const commit of commits) {
    const reason = needsGit(commit)
    if (reason) return declined(reason)
  }
  const wanted = touchedDirectories(base.sha, commits)
  if (wanted.length > MAX_DIRECTORY_READS) {
    return declined(
      `the picks touch ${wanted.length} directories, more than one request reads`
    )
  }
  const sides = await readDirectoriesAt(client, repo, wanted)
  // What earlier picks of this run set: the target as they left it.
  const written = new Map<string, TreeEntry | undefined>()
  const picked: { source: string; sha: string }[] = []
  const empty: string[] = []
  let head = base.sha
  let tree = base.tree
  for (const commit of commits) {
    const changes = changesOnto(sides, base.sha, written, commit)
    if (!Array.isArray(changes)) return changes
    if (changes.length === 0) {
      // The change is already on the target under another SHA.
      empty.push(commit.sha)
      continue
    }
    tree = await createTree(client, repo, tree, changes)
    head = await createCommit(client, repo, {
      message: pickMessage(commit.message, commit.sha),
      tree,
      parents: [head],
      author: commit.author,
      committer
    })
    for (const change of changes) written.set(change.path, change.entry)
    picked.push({ source: commit.sha, sha: head })
  }
  return { status: 'picked', picked, empty, head }
}

/** Directories at commits, read once: what a path-level pick compares. */
interface Sides {
  directory(sha: string, dir: string): Directory
  entryAt(sha: string, path: string): TreeEntry | undefined
}

/**
 * GraphQL lookups one request makes for a pick: GitHub bounds a query's
 * cost, and a pick this wide is git's.
 */
const MAX_DIRECTORY_READS = 200

/**
 * Every directory the commits touch, at each commit and its parent, and on
 * the target with the directories above it, as `<sha>:<dir>` expressions.
 */
function touchedDirectories(
  target: string,
  commits: readonly ChangedCommit[]
): string[] {
  const wanted = new Set<string>()
  for (const commit of commits) {
    for (const path of commit.paths) {
      const dir = parentOf(path)
      wanted.add(`${commit.parents[0]}:${dir}`)
      wanted.add(`${commit.sha}:${dir}`)
      for (const passed of ['', ...withAncestors(dir)]) {
        wanted.add(`${target}:${passed}`)
      }
    }
  }
  return [...wanted]
}

/** The directories named by `expressions`, read in one GraphQL request. */
async function readDirectoriesAt(
  client: GitHubClient,
  repo: RepoRef,
  expressions: readonly string[]
): Promise<Sides> {
  const read = await readDirectories(client, repo, expressions)
  const directories = new Map<string, Directory>(
    expressions.map((expression, index) => [expression, read[index]])
  )
  const directory = (sha: string, dir: string): Directory =>
    directories.get(`${sha}:${dir}`)
  return {
    directory,
    entryAt: (sha, path) => {
      const found = directory(sha, parentOf(path))
      return found instanceof Map
        ? found.get(path.slice(path.lastIndexOf('/') + 1))
        : undefined
    }
  }
}

/** The entries one commit sets on the target, or why git must pick it. */
function changesOnto(
  sides: Sides,
  target: string,
  written: ReadonlyMap<string, TreeEntry | undefined>,
  commit: ChangedCommit
): TreeChange[] | Declined {
  const { directory, entryAt } = sides
  const parent = commit.parents[0]
  const onTarget = (path: string): TreeEntry | undefined =>
    written.has(path) ? written.get(path) : entryAt(target, path)
  const writtenUnder = (dir: string): boolean =>
    [...written].some(([path, entry]) => entry && path.startsWith(`${dir}/`))
  const changes: TreeChange[] = []
  for (const path of new Set(commit.paths)) {
    const dir = parentOf(path)
    if (
      directory(parent, dir) instanceof Map &&
      !(directory(target, dir) instanceof Map) &&
      !writtenUnder(dir)
    ) {
      return declined(`${dir}/ is gone from the target (moved or removed)`)
    }
    const blocked = withAncestors(dir).find(
      (passed) => directory(target, passed) === 'not-a-tree'
    )
    if (blocked) return declined(`${blocked} is a file on the target`)
    const now = onTarget(path)
    const after = entryAt(commit.sha, path)
    if (sameEntry(now, after)) continue
    if (!sameEntry(now, entryAt(parent, path))) {
      return declined(`${path} was changed on the target too`)
    }
    changes.push({ path, entry: after })
  }
  return changes
}

function declined(reason: string): Declined {
  return { status: 'declined', reason }
}

/**
 * landCommits through the API: reads the target's tip and recent history,
 * leaves out what a `-x` trailer names, picks with pickThroughApi and moves
 * the branch as a fast-forward (or forced, for a branch this action owns);
 * a lost race reads the target again and picks again. Declines, before
 * writing any branch, what git must pick.
 */
export async function landThroughApi(
  client: GitHubClient,
  repo: RepoRef,
  request: LandRequest,
  commits: readonly ChangedCommit[],
  committer: Signature,
  sleep: (ms: number) => Promise<void>,
  /** The target's history read moments ago, for the first attempt. */
  firstRead?: Promise<ListedCommit[]>
): Promise<LandOutcome | Declined> {
  let lastFailure: { reason: PushFailure; message: string } | undefined
  let made = 0
  for (let attempt = 1; attempt <= request.attempts; attempt++) {
    made = attempt
    const history = await ((attempt === 1 && firstRead) ||
      readHistory(client, repo, request.target, request.historyDepth))
    const tip = history[0]
    if (!tip) throw new Error(`${request.target} has no commits`)
    const sources = cherryPickedSources(history.map((c) => c.message))
    const already = request.shas.filter((sha) => isAlreadyPicked(sha, sources))
    const todo = commits.filter((commit) => !already.includes(commit.sha))
    if (todo.length === 0) return { status: 'skipped', alreadyPicked: already }

    const outcome = await pickThroughApi(client, repo, tip, todo, committer)
    if (outcome.status === 'declined') return outcome
    const alreadyPicked = [...already, ...outcome.empty]
    if (outcome.picked.length === 0) {
      return { status: 'skipped', alreadyPicked }
    }
    const moved = await moveBranch(
      client,
      repo,
      request.pushTo,
      outcome.head,
      request.force
    )
    if (moved.status === 'moved') {
      return {
        status: 'pushed',
        picked: outcome.picked,
        alreadyPicked,
        targetSha: outcome.head,
        attempts: attempt
      }
    }
    lastFailure = {
      reason: moved.race ? 'race' : classifyPushFailure(moved.message),
      message: moved.message
    }
    if (lastFailure.reason !== 'race') break
    await sleep(raceBackoff(attempt))
  }
  return pushFailed(lastFailure, made, 'the branch was not moved')
}
