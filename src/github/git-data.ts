import { GitHubClient, httpStatus, RepoRef } from './client.js'

/** GitHub lists at most this many files of one commit on its first page. */
export const COMMIT_FILES_PAGE = 300

/** A commit as the REST API shows it, with the paths it changed. */
export interface ChangedCommit {
  sha: string
  parents: string[]
  message: string
  author: { name: string; email: string; date: string }
  /** Every path changed against the first parent; a rename gives both. */
  paths: string[]
  /** False when GitHub's list was cut at its first page. */
  complete: boolean
}

/** Reads one commit and the paths it changed. */
export async function readChangedCommit(
  client: GitHubClient,
  repo: RepoRef,
  sha: string
): Promise<ChangedCommit> {
  const { data } = await client.rest.repos.getCommit({
    ...repo,
    ref: sha,
    per_page: COMMIT_FILES_PAGE
  })
  const files = data.files ?? []
  const paths = files.flatMap((file) =>
    file.previous_filename
      ? [file.previous_filename, file.filename]
      : [file.filename]
  )
  return {
    sha: data.sha,
    parents: data.parents.map((parent) => parent.sha),
    message: data.commit.message,
    author: {
      name: data.commit.author?.name ?? '',
      email: data.commit.author?.email ?? '',
      date: data.commit.author?.date ?? ''
    },
    paths,
    complete: files.length < COMMIT_FILES_PAGE
  }
}

/** A commit of a listed history. */
export interface ListedCommit {
  sha: string
  parents: string[]
  tree: string
  message: string
}

const HISTORY_PAGE = 100

/**
 * The newest `count` commits of `ref` as `git log` lists them (all
 * parents). The pages are asked for side by side: each is a round trip.
 */
export async function readHistory(
  client: GitHubClient,
  repo: RepoRef,
  ref: string,
  count: number
): Promise<ListedCommit[]> {
  const perPage = Math.min(count, HISTORY_PAGE)
  const pages = Math.ceil(count / perPage)
  const read = await Promise.all(
    Array.from({ length: pages }, (_, index) =>
      client.rest.repos.listCommits({
        ...repo,
        sha: ref,
        per_page: perPage,
        page: index + 1
      })
    )
  )
  return read
    .flatMap(({ data }) => data)
    .slice(0, count)
    .map((commit) => ({
      sha: commit.sha,
      parents: commit.parents.map((parent) => parent.sha),
      tree: commit.commit.tree.sha,
      message: commit.commit.message
    }))
}

/**
 * The first-parent chain from `sha`, newest first, `count` long (shorter
 * only at a root commit), or undefined when one page of history did not
 * hold it: a branch with many merges interleaves other commits.
 */
export async function readFirstParents(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  count: number
): Promise<ListedCommit[] | undefined> {
  const listed = await readHistory(
    client,
    repo,
    sha,
    count === 1 ? 1 : HISTORY_PAGE
  )
  const bySha = new Map(listed.map((commit) => [commit.sha, commit]))
  const chain: ListedCommit[] = []
  let next = bySha.get(listed[0]?.sha ?? '')
  while (next && chain.length < count) {
    chain.push(next)
    const parent = next.parents[0]
    if (parent === undefined) return chain
    next = bySha.get(parent)
  }
  return chain.length === count ? chain : undefined
}

/** One entry of a directory, as git stores it. */
export interface TreeEntry {
  oid: string
  /** Git's octal mode, `100644`, `100755`, `120000`, `160000`, `40000`. */
  mode: string
  type: 'blob' | 'tree' | 'commit'
}

/**
 * A directory's entries by name; `not-a-tree` when the path names a file,
 * undefined when nothing is there.
 */
export type Directory = Map<string, TreeEntry> | 'not-a-tree' | undefined

interface GraphQLEntries {
  repository: Record<
    string,
    {
      entries?: { name: string; oid: string; mode: number; type: string }[]
    } | null
  >
}

/**
 * Directories at given commits in one GraphQL request, each asked for as
 * `<commit>:<path>` (`<commit>:` the root). GraphQL gives a mode as the
 * number git's octal spells.
 */
export async function readDirectories(
  client: GitHubClient,
  repo: RepoRef,
  expressions: readonly string[]
): Promise<Directory[]> {
  if (expressions.length === 0) return []
  const names = expressions.map((_, index) => `e${index}`)
  const query = `query($owner: String!, $name: String!, ${names
    .map((name) => `$${name}: String!`)
    .join(', ')}) {
  repository(owner: $owner, name: $name) {
${names
  .map(
    (name) =>
      `    ${name}: object(expression: $${name}) { ... on Tree { entries { name oid mode type } } }`
  )
  .join('\n')}
  }
}`
  const variables = Object.fromEntries(
    names.map((name, index) => [name, expressions[index]])
  )
  const data = await client.graphql<GraphQLEntries>(query, {
    owner: repo.owner,
    name: repo.repo,
    ...variables
  })
  return names.map((name) => {
    const found = data.repository[name]
    if (!found) return undefined
    const entries = found.entries
    if (!entries) return 'not-a-tree'
    return new Map(
      entries.map((entry) => [
        entry.name,
        {
          oid: entry.oid,
          mode: entry.mode.toString(8),
          type: entry.type as TreeEntry['type']
        }
      ])
    )
  })
}

/** A path to set in a new tree, or to delete (`entry` undefined). */
export interface TreeChange {
  path: string
  entry?: TreeEntry
}

/** Writes `base` with `changes` applied as a new tree; returns its SHA. */
export async function createTree(
  client: GitHubClient,
  repo: RepoRef,
  base: string,
  changes: readonly TreeChange[]
): Promise<string> {
  const { data } = await client.rest.git.createTree({
    ...repo,
    base_tree: base,
    tree: changes.map(({ path, entry }) => ({
      path,
      mode: (entry?.mode.padStart(6, '0') ?? '100644') as '100644',
      type: entry?.type ?? 'blob',
      sha: entry?.oid ?? null
    }))
  })
  return data.sha
}

/** Someone who wrote or committed a change. */
export interface Signature {
  name: string
  email: string
  /** ISO 8601; GitHub uses the time of the request when absent. */
  date?: string
}

/** Writes a commit object; returns its SHA. */
export async function createCommit(
  client: GitHubClient,
  repo: RepoRef,
  commit: {
    message: string
    tree: string
    parents: string[]
    author: Signature
    committer: Signature
  }
): Promise<string> {
  const { data } = await client.rest.git.createCommit({ ...repo, ...commit })
  return data.sha
}

/** Whether a branch moved, and GitHub's words when it did not. */
export type BranchUpdate =
  { status: 'moved' } | { status: 'refused'; race: boolean; message: string }

/**
 * Points `branch` at `sha`: only as a fast-forward unless `force`, which
 * also creates a missing branch. A refusal is an outcome, not a throw: a
 * lost race (GitHub's "not a fast forward") is retried by the caller.
 */
export async function moveBranch(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  sha: string,
  force: boolean
): Promise<BranchUpdate> {
  try {
    await client.rest.git.updateRef({
      ...repo,
      ref: `heads/${branch}`,
      sha,
      force
    })
    return { status: 'moved' }
  } catch (error) {
    if (httpStatus(error) !== 422) throw error
    const message = error instanceof Error ? error.message : String(error)
    if (force && /reference does not exist/i.test(message)) {
      return createBranch(client, repo, branch, sha)
    }
    return {
      status: 'refused',
      race: /not a fast.forward/i.test(message),
      message
    }
  }
}

async function createBranch(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  sha: string
): Promise<BranchUpdate> {
  try {
    await client.rest.git.createRef({
      ...repo,
      ref: `refs/heads/${branch}`,
      sha
    })
    return { status: 'moved' }
  } catch (error) {
    if (httpStatus(error) !== 422) throw error
    const message = error instanceof Error ? error.message : String(error)
    // Created by another run in between: a race the caller retries.
    return { status: 'refused', race: /already exists/i.test(message), message }
  }
}
