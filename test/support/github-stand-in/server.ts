import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import {
  createServer,
  IncomingMessage,
  OutgoingHttpHeaders,
  Server,
  ServerResponse
} from 'node:http'
import { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** What the stand-in serves as every repository's default branch. */
const DEFAULT_BRANCH = 'main'

/** The identity GitHub gives commits made with a workflow's GITHUB_TOKEN. */
const ACTIONS_BOT = {
  name: 'github-actions[bot]',
  email: '41898282+github-actions[bot]@users.noreply.github.com'
}

/** The modes the git-data API takes for a tree entry. */
const TREE_MODES = new Set(['100644', '100755', '120000', '160000', '040000'])

interface WebhookExample {
  name: string
  examples: { action?: string; pull_request?: Record<string, unknown> }[]
}

// Real payload shapes: every pull request starts as GitHub's own example and
// only the fields this project reads are overwritten.
const examples =
  require('@octokit/webhooks-examples/api.github.com/index.json') as WebhookExample[]
const closedExample = examples
  .find((entry) => entry.name === 'pull_request')
  ?.examples.find((example) => example.action === 'closed')
if (!closedExample?.pull_request) {
  throw new Error(
    'no closed pull_request example in @octokit/webhooks-examples'
  )
}
const PULL_TEMPLATE = closedExample.pull_request
const runExample = (
  examples.find((entry) => entry.name === 'workflow_run')?.examples as
    { action?: string; workflow_run?: Record<string, unknown> }[] | undefined
)?.find((example) => example.action === 'completed')?.workflow_run
if (!runExample) {
  throw new Error(
    'no completed workflow_run example in @octokit/webhooks-examples'
  )
}
const RUN_TEMPLATE = runExample

/** One logged API call. */
export interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  authorization?: string
  /** When the request arrived (epoch ms) and how long it took to answer. */
  at?: number
  ms?: number
}

/**
 * A scripted failure of the next `count` requests matching `method` and
 * `path` (a RegExp source tested against the path): GitHub's secondary rate
 * limit (403 with `retry-after`) or a server error.
 */
export interface GitHubFault {
  method?: string
  path: string
  kind: 'secondary-rate-limit' | 'server-error'
  count?: number
  /** Seconds in `retry-after` for a rate limit (default 1). */
  retryAfter?: number
}

/** A pull request as the stand-in keeps it. */
export interface PullState {
  number: number
  title: string
  body: string
  author: string
  state: 'open' | 'closed'
  merged: boolean
  mergeCommitSha: string | null
  headRef: string
  headSha: string
  baseRef: string
  /** Where the PR branch started; its commits are baseSha..headSha. */
  baseSha: string
  labels: string[]
  assignees: string[]
  draft: boolean
  milestone?: number
  requestedReviewers?: string[]
  requestedTeams?: string[]
  /** Set by the GraphQL `enablePullRequestAutoMerge` mutation. */
  autoMergeMethod?: string
}

/** A comment on an issue or pull request. */
export interface CommentState {
  id: number
  body: string
  user: string
}

/** A workflow_dispatch the action asked for. */
export interface DispatchState {
  workflow: string
  ref: string
  inputs: Record<string, string>
  /** The run it started, when the caller asked for `return_run_details`. */
  runId?: number
}

/**
 * How dispatched runs of a workflow behave: completed with `conclusion`
 * after the run was read `polls` times (queued/in progress before that).
 */
export interface DispatchedRunScript {
  polls: number
  conclusion: 'success' | 'failure' | 'cancelled'
}

interface DispatchedRun {
  id: number
  workflow: string
  ref: string
  headSha: string
  reads: number
  script: DispatchedRunScript
}

/** A label added to an issue or pull request, and by whom. */
export interface LabelEventState {
  number: number
  label: string
  actor: string
}

/** A workflow run as the stand-in keeps it (GET /actions/runs/{id}). */
export interface WorkflowRunState {
  id: number
  name: string
  /** `.github/workflows/staging.yml`, as the API reports it. */
  path: string
  event: string
  headBranch: string
  headSha: string
  status: 'queued' | 'in_progress' | 'completed'
  conclusion: 'success' | 'failure' | 'cancelled' | null
  /** `owner/name` the head commit came from; a fork's for its pull request. */
  headRepository?: string
}

interface RepoState {
  owner: string
  repo: string
  bareDir: string
  pulls: Map<number, PullState>
  comments: Map<number, CommentState[]>
  permissions: Map<string, string>
  dispatches: DispatchState[]
  labelEvents: LabelEventState[]
  dispatchedRuns: Map<number, DispatchedRun>
  runScripts: Map<string, DispatchedRunScript>
  allowAutoMerge: boolean
  runs: Map<number, WorkflowRunState>
  nextNumber: number
}

interface GraphQLBody {
  query?: string
  variables?: Record<string, unknown>
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

interface Exit {
  code: number
  stdout: Buffer
  stderr: string
}

/** Runs `file` in `cwd` with `input` on stdin; any exit code resolves. */
function exec(
  file: string,
  args: readonly string[],
  cwd: string,
  input = '',
  env: Record<string, string> = {}
): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env } })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    // A hook may exit without reading its stdin; the broken pipe is no error.
    child.stdin.on('error', () => undefined)
    child.stdin.end(input)
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8')
      })
    )
  })
}

async function git(
  dir: string,
  args: readonly string[],
  input?: string,
  env?: Record<string, string>
): Promise<string> {
  const { code, stdout, stderr } = await exec('git', args, dir, input, env)
  if (code !== 0) throw new Error(`git ${args[0]}: ${stderr.trim()}`)
  return stdout.toString('utf8')
}

const isSha = (value: unknown): value is string =>
  typeof value === 'string' && /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(value)

/** Each object's type, `undefined` for one git does not have. */
async function objectTypes(
  dir: string,
  shas: readonly string[]
): Promise<(string | undefined)[]> {
  const out = await git(
    dir,
    ['cat-file', '--batch-check=%(objecttype)'],
    shas.map((sha) => `${sha}\n`).join('')
  )
  return out
    .split('\n')
    .slice(0, shas.length)
    .map((line) => (/ (missing|ambiguous)$/.test(line) ? undefined : line))
}

/** A tree entry as `git ls-tree` prints it and `git mktree` reads it. */
interface TreeEntry {
  mode: string
  type: string
  sha: string
  path: string
}

async function lsTree(dir: string, tree: string): Promise<TreeEntry[]> {
  return (await git(dir, ['ls-tree', '-z', tree]))
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t')
      const [mode, type, sha] = line.slice(0, tab).split(' ')
      return { mode, type, sha, path: line.slice(tab + 1) }
    })
}

/**
 * A raw tree object's entries as GraphQL's `Tree.entries` shows them: the
 * mode is the octal git mode read as a number (100644 is 33188).
 */
function graphqlEntries(
  content: Buffer,
  hashBytes: number
): { name: string; oid: string; mode: number; type: string }[] {
  const entries = []
  for (let at = 0; at < content.length;) {
    const space = content.indexOf(0x20, at)
    const nul = content.indexOf(0, space)
    const mode = parseInt(content.toString('latin1', at, space), 8)
    entries.push({
      name: content.toString('utf8', space + 1, nul),
      oid: content.toString('hex', nul + 1, nul + 1 + hashBytes),
      mode,
      type: mode === 0o40000 ? 'tree' : mode === 0o160000 ? 'commit' : 'blob'
    })
    at = nul + 1 + hashBytes
  }
  return entries
}

/**
 * A GitHub REST stand-in on 127.0.0.1 (port 0), backed by real bare git
 * repositories: refs, branches and pull request commits come from git, the
 * rest (pull requests, comments, labels, permissions, dispatches) is kept in
 * memory. Actions reach it through `GITHUB_API_URL`.
 */
export class GitHubStandIn {
  readonly log: LoggedRequest[] = []
  private readonly repos = new Map<string, RepoState>()
  private nextCommentId = 1
  private readonly landed = new Map<string, string[]>()
  private faults: Required<GitHubFault>[] = []
  private constructor(
    private readonly server: Server,
    readonly url: string
  ) {}

  /** Starts the server on a free loopback port. */
  static async start(): Promise<GitHubStandIn> {
    const holder: { standIn?: GitHubStandIn } = {}
    const server = createServer((req, res) => {
      void holder.standIn?.handle(req, res)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    holder.standIn = new GitHubStandIn(server, `http://127.0.0.1:${port}`)
    return holder.standIn
  }

  /** Answers the next matching requests with a fault (see GitHubFault). */
  failNext(fault: GitHubFault): void {
    this.faults.push({
      method: fault.method ?? '',
      count: fault.count ?? 1,
      retryAfter: fault.retryAfter ?? 1,
      ...fault
    } as Required<GitHubFault>)
  }

  /** Drops every scripted fault not used up yet. */
  clearFaults(): void {
    this.faults = []
  }

  /** The first scripted fault matching a request, used up by one. */
  private faultFor(
    entry: LoggedRequest
  ): [number, Record<string, string>, string] | undefined {
    const fault = this.faults.find(
      (f) =>
        f.count > 0 &&
        (!f.method || f.method === entry.method) &&
        new RegExp(f.path).test(entry.path)
    )
    if (!fault) return undefined
    fault.count--
    return fault.kind === 'secondary-rate-limit'
      ? [
          403,
          { 'retry-after': String(fault.retryAfter) },
          'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
        ]
      : [502, {}, 'Server Error']
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** Serves `owner/repo` from a bare repository. */
  addRepository(fullName: string, bareDir: string): void {
    const [owner, repo] = fullName.split('/')
    this.repos.set(fullName, {
      owner,
      repo,
      bareDir,
      pulls: new Map(),
      comments: new Map(),
      permissions: new Map(),
      dispatches: [],
      labelEvents: [],
      dispatchedRuns: new Map(),
      runScripts: new Map(),
      allowAutoMerge: true,
      runs: new Map(),
      nextNumber: 1
    })
  }

  /**
   * Registers a pull request (usually already merged by the fixture); its
   * labels count as added by `labeledBy` (default `octocat`).
   */
  addPullRequest(
    fullName: string,
    pull: Omit<PullState, 'number' | 'assignees' | 'draft' | 'labels'> &
      Partial<Pick<PullState, 'number' | 'labels'>>,
    labeledBy = 'octocat'
  ): PullState {
    const state = this.repo(fullName)
    const number = pull.number ?? state.nextNumber
    state.nextNumber = Math.max(state.nextNumber, number + 1)
    const stored: PullState = {
      ...pull,
      number,
      labels: pull.labels ?? [],
      assignees: [],
      draft: false
    }
    state.pulls.set(number, stored)
    for (const label of stored.labels) {
      state.labelEvents.push({ number, label, actor: labeledBy })
    }
    return stored
  }

  /** Adds a label as `actor` did, with its `labeled` issue event. */
  addLabel(
    fullName: string,
    number: number,
    label: string,
    actor: string
  ): void {
    const pull = this.pull(fullName, number)
    if (!pull.labels.includes(label)) pull.labels.push(label)
    this.repo(fullName).labelEvents.push({ number, label, actor })
  }

  /** Records a finished (or running) workflow run of `fullName`. */
  addWorkflowRun(fullName: string, run: WorkflowRunState): void {
    this.repo(fullName).runs.set(run.id, run)
  }

  /** Reserves the next issue/PR number. */
  nextNumber(fullName: string): number {
    return this.repo(fullName).nextNumber
  }

  /** The repository setting "Allow auto-merge" (on unless turned off). */
  setAllowAutoMerge(fullName: string, allowed: boolean): void {
    this.repo(fullName).allowAutoMerge = allowed
  }

  /** How runs dispatched for `workflow` (a file name) progress. */
  scriptDispatchedRuns(
    fullName: string,
    workflow: string,
    script: DispatchedRunScript
  ): void {
    this.repo(fullName).runScripts.set(workflow, script)
  }

  setPermission(fullName: string, user: string, permission: string): void {
    this.repo(fullName).permissions.set(user, permission)
  }

  pull(fullName: string, number: number): PullState {
    const found = this.repo(fullName).pulls.get(number)
    if (!found) throw new Error(`no pull request #${number}`)
    return found
  }

  pulls(fullName: string): PullState[] {
    return [...this.repo(fullName).pulls.values()]
  }

  comments(fullName: string, number: number): CommentState[] {
    return this.repo(fullName).comments.get(number) ?? []
  }

  dispatches(fullName: string): DispatchState[] {
    return this.repo(fullName).dispatches
  }

  /** The webhook payload GitHub would send for this pull request. */
  async pullRequestEvent(
    fullName: string,
    number: number,
    action: string,
    extra: Record<string, unknown> = {}
  ): Promise<Record<string, unknown>> {
    const state = this.repo(fullName)
    return {
      action,
      number,
      pull_request: await this.pullPayload(state, this.pull(fullName, number)),
      repository: this.repositoryPayload(state),
      sender: { login: 'octocat', type: 'User' },
      ...extra
    }
  }

  /** The webhook payload of a new comment on a pull request. */
  issueCommentEvent(
    fullName: string,
    number: number,
    body: string,
    user: string
  ): Record<string, unknown> {
    const state = this.repo(fullName)
    return {
      action: 'created',
      issue: {
        number,
        title: this.pull(fullName, number).title,
        pull_request: {
          url: `${this.url}/repos/${fullName}/pulls/${number}`
        }
      },
      comment: { id: 99, body, user: { login: user, type: 'User' } },
      repository: this.repositoryPayload(state),
      sender: { login: user, type: 'User' }
    }
  }

  private repo(fullName: string): RepoState {
    const state = this.repos.get(fullName)
    if (!state) throw new HttpError(404, `Not Found: ${fullName}`)
    return state
  }

  private repositoryPayload(state: RepoState): Record<string, unknown> {
    return {
      name: state.repo,
      full_name: `${state.owner}/${state.repo}`,
      owner: { login: state.owner },
      default_branch: DEFAULT_BRANCH
    }
  }

  private async pullPayload(
    state: RepoState,
    pull: PullState
  ): Promise<Record<string, unknown>> {
    const api = `${this.url}/repos/${state.owner}/${state.repo}`
    const html = `https://github.com/${state.owner}/${state.repo}/pull/${pull.number}`
    const commits = await this.pullCommits(state, pull)
    const user = { login: pull.author, type: 'User' }
    return {
      ...structuredClone(PULL_TEMPLATE),
      url: `${api}/pulls/${pull.number}`,
      html_url: html,
      number: pull.number,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      user,
      draft: pull.draft,
      merged: pull.merged,
      merged_at: pull.merged ? new Date().toISOString() : null,
      merge_commit_sha: pull.mergeCommitSha,
      node_id: `PR_node_${state.owner}_${state.repo}_${pull.number}`,
      labels: pull.labels.map((name, index) => ({ id: index + 1, name })),
      assignees: pull.assignees.map((login) => ({ login })),
      milestone: pull.milestone
        ? { number: pull.milestone, title: `Milestone ${pull.milestone}` }
        : null,
      requested_reviewers: (pull.requestedReviewers ?? []).map((login) => ({
        login,
        type: 'User'
      })),
      requested_teams: (pull.requestedTeams ?? []).map((slug) => ({
        slug,
        name: slug
      })),
      auto_merge: pull.autoMergeMethod
        ? { merge_method: pull.autoMergeMethod.toLowerCase() }
        : null,
      head: {
        label: `${state.owner}:${pull.headRef}`,
        ref: pull.headRef,
        sha: pull.headSha,
        user: { login: state.owner },
        repo: this.repositoryPayload(state)
      },
      base: {
        label: `${state.owner}:${pull.baseRef}`,
        ref: pull.baseRef,
        sha: pull.baseSha,
        user: { login: state.owner },
        repo: this.repositoryPayload(state)
      },
      commits: commits.length
    }
  }

  private runPayload(
    state: RepoState,
    run: WorkflowRunState
  ): Record<string, unknown> {
    const fullName = `${state.owner}/${state.repo}`
    const api = `${this.url}/repos/${fullName}/actions/runs/${run.id}`
    const headRepository = run.headRepository ?? fullName
    const [headOwner, headName] = headRepository.split('/')
    const template = structuredClone(RUN_TEMPLATE)
    return {
      ...template,
      id: run.id,
      name: run.name,
      path: run.path,
      display_title: run.name,
      event: run.event,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      status: run.status,
      conclusion: run.conclusion,
      url: api,
      html_url: `https://github.com/${fullName}/actions/runs/${run.id}`,
      artifacts_url: `${api}/artifacts`,
      jobs_url: `${api}/jobs`,
      logs_url: `${api}/logs`,
      pull_requests: [],
      repository: {
        ...(template.repository as Record<string, unknown>),
        ...this.repositoryPayload(state)
      },
      head_repository: {
        ...(template.head_repository as Record<string, unknown>),
        name: headName,
        full_name: headRepository,
        owner: { login: headOwner }
      }
    }
  }

  private async commitPayload(
    state: RepoState,
    sha: string
  ): Promise<Record<string, unknown>> {
    return (await this.commitPayloads(state, [sha]))[0]
  }

  /** Several commits with one `git show`, as a compare page needs. */
  private async commitPayloads(
    state: RepoState,
    shas: readonly string[]
  ): Promise<Record<string, unknown>[]> {
    return shas.length ? this.commitsOf(state, 'show', shas) : []
  }

  /** The commits `git show` or `git log` prints for `args`, in its order. */
  private async commitsOf(
    state: RepoState,
    command: 'show' | 'log',
    args: readonly string[]
  ): Promise<Record<string, unknown>[]> {
    const out = await git(state.bareDir, [
      command,
      '-s',
      '--format=%x01%H%x00%P%x00%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      ...args
    ])
    return out
      .split('\x01')
      .slice(1)
      .map((record) => {
        const [hash, parents, tree, an, ae, ad, cn, ce, cd, message] =
          record.split('\x00')
        return {
          sha: hash,
          url: `${this.url}/repos/${state.owner}/${state.repo}/commits/${hash}`,
          commit: {
            message: message.replace(/\n+$/, ''),
            tree: { sha: tree },
            author: { name: an, email: ae, date: ad },
            committer: { name: cn, email: ce, date: cd }
          },
          parents: parents.trim()
            ? parents
                .trim()
                .split(' ')
                .map((parent) => ({ sha: parent }))
            : []
        }
      })
  }

  /**
   * A commit's `files` as GitHub's single-commit API lists them: the diff
   * against the first parent (a root commit's against the empty tree), with
   * renames, cut to GitHub's first page of 300.
   */
  private async commitFiles(
    state: RepoState,
    ref: string
  ): Promise<Record<string, string>[]> {
    const fields = (
      await git(state.bareDir, [
        'diff-tree',
        ...['-r', '-M', '-z', '--raw', '--no-commit-id', '--root'],
        '--diff-merges=first-parent',
        '--end-of-options',
        ref
      ])
    ).split('\0')
    const files: Record<string, string>[] = []
    for (let i = 0; fields[i]?.startsWith(':') && files.length < 300;) {
      const [, , oldSha, newSha, letter] = fields[i].split(' ')
      const renamed = letter.startsWith('R')
      files.push({
        filename: fields[i + (renamed ? 2 : 1)],
        // The same blob under another mode is GitHub's `changed`.
        status:
          { A: 'added', D: 'removed', R: 'renamed' }[letter[0]] ??
          (oldSha === newSha ? 'changed' : 'modified'),
        sha: letter === 'D' ? oldSha : newSha,
        ...(renamed ? { previous_filename: fields[i + 1] } : {})
      })
      i += renamed ? 3 : 2
    }
    return files
  }

  private async refSha(
    state: RepoState,
    ref: string
  ): Promise<string | undefined> {
    // show-ref takes only a full ref name, never a revision like `main^`.
    const { code, stdout } = await exec(
      'git',
      ['show-ref', '--verify', '--hash', ref],
      state.bareDir
    )
    return code === 0 ? stdout.toString().trim() : undefined
  }

  private api(state: RepoState): string {
    return `${this.url}/repos/${state.owner}/${state.repo}`
  }

  private refPayload(
    state: RepoState,
    ref: string,
    sha: string
  ): Record<string, unknown> {
    const api = this.api(state)
    return {
      ref,
      node_id: `REF_${ref}`,
      url: `${api}/git/${ref}`,
      object: { sha, type: 'commit', url: `${api}/git/commits/${sha}` }
    }
  }

  /**
   * Moves `ref` from `old` (empty: a new ref) to `sha` as GitHub does for
   * the API: through the branch rules first, which tests write as the bare
   * repository's pre-receive hook (it also sees their pushes), then as one
   * compare-and-swap, so of two updates from the same tip only one lands.
   */
  private async moveRef(
    state: RepoState,
    ref: string,
    sha: string,
    old: string,
    lost: string
  ): Promise<void> {
    const hook = join(state.bareDir, 'hooks', 'pre-receive')
    const runnable = await access(hook, constants.X_OK).then(
      () => true,
      () => false
    )
    if (runnable) {
      const zero = '0'.repeat(sha.length)
      const { code, stdout, stderr } = await exec(
        hook,
        [],
        state.bareDir,
        `${old || zero} ${sha} ${ref}\n`
      )
      if (code !== 0) {
        throw new HttpError(
          422,
          (stderr + stdout.toString()).trim() || 'pre-receive hook declined'
        )
      }
    }
    try {
      await git(state.bareDir, ['update-ref', ref, sha, old])
    } catch {
      throw new HttpError(422, lost)
    }
  }

  /**
   * Writes the tree `base` becomes with `edits` (paths below `prefix`; null
   * deletes), one `git mktree` per directory that changes, deepest first
   * since a parent names its children's new SHAs. A directory left empty is
   * dropped (undefined), as git keeps no empty directories; the root stays.
   */
  private async writeTree(
    dir: string,
    base: string | undefined,
    edits: ReadonlyMap<string, TreeEntry | null>,
    prefix = ''
  ): Promise<string | undefined> {
    const entries = new Map(
      (base ? await lsTree(dir, base) : []).map((entry) => [entry.path, entry])
    )
    const nested = new Map<string, Map<string, TreeEntry | null>>()
    for (const [path, edit] of edits) {
      const [name, ...below] = path.split('/')
      if (below.length) {
        const sub = nested.get(name) ?? new Map<string, TreeEntry | null>()
        nested.set(name, sub.set(below.join('/'), edit))
      } else if (edit) {
        entries.set(name, { ...edit, path: name })
      } else if (!entries.delete(name)) {
        throw new HttpError(422, `Cannot delete ${prefix}${name}: not there`)
      }
    }
    await Promise.all(
      [...nested].map(async ([name, sub]) => {
        const current = entries.get(name)
        const sha = await this.writeTree(
          dir,
          current?.type === 'tree' ? current.sha : undefined,
          sub,
          `${prefix}${name}/`
        )
        if (sha) {
          entries.set(name, { mode: '040000', type: 'tree', sha, path: name })
        } else {
          entries.delete(name)
        }
      })
    )
    if (prefix && entries.size === 0) return undefined
    const input = [...entries.values()]
      .map(({ mode, type, sha, path }) => `${mode} ${type} ${sha}\t${path}\0`)
      .join('')
    return (await git(dir, ['mktree', '-z'], input)).trim()
  }

  private async createTree(
    state: RepoState,
    input: Record<string, unknown>
  ): Promise<Record<string, unknown>> {
    if (!Array.isArray(input.tree)) {
      throw new HttpError(422, 'Invalid request: tree is not an array')
    }
    const edits = new Map<string, TreeEntry | null>()
    for (const item of input.tree as Record<string, unknown>[]) {
      const path = String(item.path ?? '')
      const mode = String(item.mode ?? '')
      if (!TREE_MODES.has(mode) || !/^[^/]+(\/[^/]+)*$/.test(path)) {
        throw new HttpError(422, `Invalid tree entry: ${mode} ${path}`)
      }
      const sha =
        typeof item.content === 'string'
          ? (
              await git(
                state.bareDir,
                ['hash-object', '-w', '--stdin'],
                item.content
              )
            ).trim()
          : item.sha
      edits.set(
        path,
        sha === null
          ? null
          : { mode, type: String(item.type), sha: String(sha), path }
      )
    }
    const base = input.base_tree ? String(input.base_tree) : undefined
    let sha: string | undefined
    let entries: TreeEntry[]
    try {
      sha = await this.writeTree(state.bareDir, base, edits)
      entries = sha ? await lsTree(state.bareDir, sha) : []
    } catch (error) {
      if (error instanceof HttpError) throw error
      // GitHub's answer to a base tree or an entry git does not have.
      throw new HttpError(422, 'GitRPC::BadObjectState')
    }
    return {
      sha,
      url: `${this.api(state)}/git/trees/${sha}`,
      tree: entries,
      truncated: false
    }
  }

  private async createCommit(
    state: RepoState,
    input: Record<string, unknown>
  ): Promise<Record<string, unknown>> {
    const tree = input.tree
    const parents = Array.isArray(input.parents) ? input.parents : []
    const types = await objectTypes(
      state.bareDir,
      [tree, ...parents].filter(isSha)
    )
    if (!isSha(tree) || types[0] !== 'tree') {
      throw new HttpError(422, 'Tree SHA does not exist')
    }
    if (!parents.every((p, i) => isSha(p) && types[i + 1] === 'commit')) {
      throw new HttpError(
        422,
        'Parent SHA does not exist or is not a commit object'
      )
    }
    type Person = { name?: string; email?: string; date?: string }
    const committer = (input.committer as Person | undefined) ?? ACTIONS_BOT
    const author = (input.author as Person | undefined) ?? committer
    const now = new Date().toISOString()
    const identity = (
      role: string,
      person: Person
    ): Record<string, string> => ({
      [`GIT_${role}_NAME`]: person.name ?? '',
      [`GIT_${role}_EMAIL`]: person.email ?? '',
      [`GIT_${role}_DATE`]: person.date ?? now
    })
    const message = String(input.message ?? '')
    let sha: string
    try {
      sha = (
        await git(
          state.bareDir,
          ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p])],
          message,
          { ...identity('AUTHOR', author), ...identity('COMMITTER', committer) }
        )
      ).trim()
    } catch (error) {
      throw new HttpError(422, (error as Error).message)
    }
    // Read back, so the answer shows what git stored (dates as git parsed).
    const [stored] = await this.commitPayloads(state, [sha])
    const commit = stored.commit as Record<string, unknown>
    const api = this.api(state)
    return {
      sha,
      node_id: `C_${sha}`,
      url: `${api}/git/commits/${sha}`,
      html_url: `https://github.com/${state.owner}/${state.repo}/commit/${sha}`,
      author: commit.author,
      committer: commit.committer,
      message,
      tree: { sha: tree, url: `${api}/git/trees/${tree}` },
      parents: (parents as string[]).map((parent) => ({
        sha: parent,
        url: `${api}/git/commits/${parent}`
      })),
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null
      }
    }
  }

  private async pullCommits(
    state: RepoState,
    pull: PullState
  ): Promise<string[]> {
    const out = await git(state.bareDir, [
      'rev-list',
      '--reverse',
      pull.headSha,
      `^${pull.baseSha}`
    ])
    return out.split('\n').filter(Boolean)
  }

  /**
   * Whether GitHub would list `sha` under the pull request: its own commits,
   * its merge commit, or the commits a squash or rebase put on the base.
   */
  private async pullContains(
    state: RepoState,
    pull: PullState,
    sha: string
  ): Promise<boolean> {
    return (await this.pullShas(state, pull)).some((c) => c.startsWith(sha))
  }

  /**
   * A pull request's own commits plus, once merged, what landed on the base;
   * kept per merge, since a merged pull request no longer changes.
   */
  private async pullShas(state: RepoState, pull: PullState): Promise<string[]> {
    const key = `${state.bareDir}#${pull.number}#${pull.mergeCommitSha}`
    const cached = pull.mergeCommitSha ? this.landed.get(key) : undefined
    if (cached) return cached
    const commits = await this.pullCommits(state, pull)
    if (!pull.mergeCommitSha) return commits
    const parents = await git(state.bareDir, [
      'rev-list',
      '--parents',
      '-n',
      '1',
      pull.mergeCommitSha
    ])
    // A merge commit stands alone; a squash or rebase put N commits on base.
    const merged = parents.trim().split(' ').length > 2
    const landed = await git(state.bareDir, [
      'rev-list',
      '--first-parent',
      `--max-count=${merged ? 1 : Math.max(1, commits.length)}`,
      pull.mergeCommitSha
    ])
    const shas = [...commits, ...landed.split('\n').filter(Boolean)]
    this.landed.set(key, shas)
    return shas
  }

  private async branches(state: RepoState): Promise<Map<string, string>> {
    const out = await git(state.bareDir, [
      'for-each-ref',
      '--format=%(refname) %(objectname)',
      'refs/heads/'
    ])
    const found = new Map<string, string>()
    for (const line of out.split('\n').filter(Boolean)) {
      const [ref, sha] = line.split(' ')
      found.set(ref.replace(/^refs\/heads\//, ''), sha)
    }
    return found
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse
  ): Promise<void> {
    const address = new URL(req.url ?? '/', this.url)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: unknown = undefined
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = text
    }
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(address.pathname),
      query: Object.fromEntries(address.searchParams),
      body,
      authorization: req.headers.authorization,
      at: Date.now()
    }
    this.log.push(entry)
    res.on('finish', () => (entry.ms = Date.now() - (entry.at ?? 0)))
    const fault = this.faultFor(entry)
    if (fault) {
      const [status, headers, message] = fault
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(
        JSON.stringify({
          message,
          documentation_url: 'https://docs.github.com/rest'
        })
      )
      return
    }
    try {
      const [status, payload, headers] = await this.route(entry)
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(payload === undefined ? '' : JSON.stringify(payload))
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          message: error instanceof Error ? error.message : String(error),
          documentation_url: 'https://docs.github.com/rest'
        })
      )
    }
  }

  private async route(
    request: LoggedRequest
  ): Promise<[number, unknown, OutgoingHttpHeaders?]> {
    if (request.path === '/graphql' && request.method === 'POST') {
      return [200, await this.graphql(request.body as GraphQLBody)]
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(request.path)
    if (!match) throw new HttpError(404, 'Not Found')
    const state = this.repo(`${match[1]}/${match[2]}`)
    const rest = match[3] ?? ''
    const input = (request.body ?? {}) as Record<string, unknown>
    let m: RegExpExecArray | null

    if ((m = /^\/pulls\/(\d+)$/.exec(rest)) && request.method === 'GET') {
      return [200, await this.pullPayload(state, this.pullOf(state, m[1]))]
    }
    if ((m = /^\/pulls\/(\d+)\/commits$/.exec(rest))) {
      const pull = this.pullOf(state, m[1])
      const shas = await this.pullCommits(state, pull)
      const page = Number(request.query.page ?? 1)
      const perPage = Number(request.query.per_page ?? 30)
      const slice = shas.slice((page - 1) * perPage, page * perPage)
      return [
        200,
        await Promise.all(slice.map((sha) => this.commitPayload(state, sha)))
      ]
    }
    if (rest === '/pulls' && request.method === 'GET') {
      const head = request.query.head?.split(':').pop()
      const wanted = request.query.state ?? 'open'
      const found = [...state.pulls.values()].filter(
        (pull) =>
          (wanted === 'all' || pull.state === wanted) &&
          (!head || pull.headRef === head)
      )
      return [
        200,
        await Promise.all(found.map((pull) => this.pullPayload(state, pull)))
      ]
    }
    if (rest === '/pulls' && request.method === 'POST') {
      return [201, await this.createPull(state, input)]
    }
    if (
      (m = /^\/pulls\/(\d+)\/merge$/.exec(rest)) &&
      request.method === 'PUT'
    ) {
      return [200, await this.mergePull(state, this.pullOf(state, m[1]))]
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const number = Number(m[1])
      const list = state.comments.get(number) ?? []
      if (request.method === 'POST') {
        const comment: CommentState = {
          id: this.nextCommentId++,
          body: String(input.body ?? ''),
          user: 'github-actions[bot]'
        }
        list.push(comment)
        state.comments.set(number, list)
        return [201, this.commentPayload(state, number, comment)]
      }
      return [200, list.map((c) => this.commentPayload(state, number, c))]
    }
    if (
      (m = /^\/issues\/(\d+)\/labels$/.exec(rest)) &&
      request.method === 'POST'
    ) {
      const pull = this.pullOf(state, m[1])
      for (const name of (input.labels as string[]) ?? []) {
        if (!pull.labels.includes(name)) pull.labels.push(name)
        state.labelEvents.push({
          number: pull.number,
          label: name,
          actor: 'github-actions[bot]'
        })
      }
      return [200, pull.labels.map((name, id) => ({ id, name }))]
    }
    if (
      (m = /^\/issues\/(\d+)\/labels\/(.+)$/.exec(rest)) &&
      request.method === 'DELETE'
    ) {
      const pull = this.pullOf(state, m[1])
      if (!pull.labels.includes(m[2])) {
        throw new HttpError(404, 'Label does not exist')
      }
      pull.labels = pull.labels.filter((name) => name !== m?.[2])
      return [200, pull.labels.map((name, id) => ({ id, name }))]
    }
    if (
      (m = /^\/issues\/(\d+)\/assignees$/.exec(rest)) &&
      request.method === 'POST'
    ) {
      const pull = this.pullOf(state, m[1])
      for (const login of (input.assignees as string[]) ?? []) {
        if (!pull.assignees.includes(login)) pull.assignees.push(login)
      }
      return [201, await this.pullPayload(state, pull)]
    }
    if (rest === '/git/refs' && request.method === 'POST') {
      const ref = String(input.ref ?? '')
      const sha = String(input.sha ?? '')
      if (!/^refs\/heads\/./.test(ref) || !/^[0-9a-f]{40}$/.test(sha)) {
        throw new HttpError(422, 'Invalid request: ref and sha required')
      }
      try {
        await git(state.bareDir, ['cat-file', '-e', `${sha}^{commit}`])
      } catch {
        throw new HttpError(422, 'Object does not exist')
      }
      try {
        await git(state.bareDir, ['check-ref-format', ref])
      } catch {
        throw new HttpError(422, 'Reference already exists')
      }
      // Checked before the hook, so it never sees a create that cannot land.
      if (await this.refSha(state, ref)) {
        throw new HttpError(422, 'Reference already exists')
      }
      // The empty old value makes git refuse a ref created meanwhile.
      await this.moveRef(state, ref, sha, '', 'Reference already exists')
      return [201, this.refPayload(state, ref, sha)]
    }
    if (
      (m = /^\/git\/refs\/(heads\/.+)$/.exec(rest)) &&
      request.method === 'PATCH'
    ) {
      const ref = `refs/${m[1]}`
      const sha = input.sha
      const [old, [type]] = await Promise.all([
        this.refSha(state, ref),
        isSha(sha) ? objectTypes(state.bareDir, [sha]) : [undefined]
      ])
      if (!old) throw new HttpError(422, 'Reference does not exist')
      if (!isSha(sha) || type !== 'commit') {
        throw new HttpError(422, 'Object does not exist')
      }
      const forward =
        input.force === true ||
        (
          await exec(
            'git',
            ['merge-base', '--is-ancestor', old, sha],
            state.bareDir
          )
        ).code === 0
      if (!forward) throw new HttpError(422, 'Update is not a fast forward')
      await this.moveRef(state, ref, sha, old, 'Update is not a fast forward')
      return [200, this.refPayload(state, ref, sha)]
    }
    if (rest === '/git/trees' && request.method === 'POST') {
      return [201, await this.createTree(state, input)]
    }
    if (rest === '/git/commits' && request.method === 'POST') {
      return [201, await this.createCommit(state, input)]
    }
    if ((m = /^\/issues\/(\d+)\/events$/.exec(rest))) {
      const number = Number(m[1])
      const events = state.labelEvents
        .filter((event) => event.number === number)
        .map((event, index) => ({
          id: index + 1,
          event: 'labeled',
          actor: { login: event.actor, type: 'User' },
          label: { name: event.label, color: 'ededed' },
          created_at: new Date().toISOString()
        }))
      const page = Number(request.query.page ?? 1)
      const perPage = Number(request.query.per_page ?? 30)
      return [200, events.slice((page - 1) * perPage, page * perPage)]
    }
    if ((m = /^\/git\/matching-refs\/heads\/?(.*)$/.exec(rest))) {
      const prefix = m[1]
      const branches = await this.branches(state)
      const refs = [...branches]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, sha]) => this.refPayload(state, `refs/heads/${name}`, sha))
      const page = Number(request.query.page ?? 1)
      const perPage = Number(request.query.per_page ?? 30)
      return [200, refs.slice((page - 1) * perPage, page * perPage)]
    }
    if (rest === '/branches' && request.method === 'GET') {
      const branches = await this.branches(state)
      return [
        200,
        [...branches].map(([name, sha]) => ({
          name,
          commit: { sha },
          protected: false
        }))
      ]
    }
    if ((m = /^\/branches\/(.+)$/.exec(rest))) {
      const sha = (await this.branches(state)).get(m[1])
      if (!sha) throw new HttpError(404, 'Branch not found')
      return [
        200,
        {
          name: m[1],
          commit: await this.commitPayload(state, sha),
          protected: false
        }
      ]
    }
    if ((m = /^\/commits\/([0-9a-f]{7,40})\/pulls$/.exec(rest))) {
      const found: Record<string, unknown>[] = []
      for (const pull of state.pulls.values()) {
        if (await this.pullContains(state, pull, m[1])) {
          found.push(await this.pullPayload(state, pull))
        }
      }
      return [200, found]
    }
    if (rest === '/commits' && request.method === 'GET') {
      const ref = request.query.sha || DEFAULT_BRANCH
      const perPage = Math.min(100, Number(request.query.per_page) || 30)
      const page = Math.max(1, Number(request.query.page) || 1)
      // One commit past the page tells whether GitHub would link a next one.
      const commits = await this.commitsOf(state, 'log', [
        `--skip=${(page - 1) * perPage}`,
        `--max-count=${perPage + 1}`,
        '--end-of-options',
        ref,
        '--'
      ]).catch(() => {
        throw new HttpError(404, `No commit found for SHA: ${ref}`)
      })
      const next = new URLSearchParams({
        ...request.query,
        page: String(page + 1)
      })
      return [
        200,
        commits.slice(0, perPage),
        commits.length > perPage
          ? { link: `<${this.api(state)}/commits?${next}>; rel="next"` }
          : {}
      ]
    }
    if ((m = /^\/commits\/([^/]+)$/.exec(rest)) && request.method === 'GET') {
      const ref = m[1]
      const [commit, files] = await Promise.all([
        this.commitPayload(state, ref),
        this.commitFiles(state, ref)
      ]).catch(() => {
        throw new HttpError(422, `No commit found for SHA: ${ref}`)
      })
      return [200, { ...commit, files }]
    }
    if ((m = /^\/compare\/([^.]+)\.\.\.(.+)$/.exec(rest))) {
      // As GitHub: oldest first; without paging parameters at most 250
      // commits; with `page`/`per_page` (default 30, at most 100) one page of
      // all of them, `total_commits` counting all.
      const all = (
        await git(state.bareDir, ['rev-list', '--reverse', m[2], `^${m[1]}`])
      )
        .split('\n')
        .filter(Boolean)
      const paged =
        request.query.page !== undefined || request.query.per_page !== undefined
      const perPage = paged
        ? Math.min(100, Number(request.query.per_page ?? 30))
        : 250
      const page = paged ? Number(request.query.page ?? 1) : 1
      const shas = paged
        ? all.slice((page - 1) * perPage, page * perPage)
        : all.slice(-250)
      return [
        200,
        {
          status: all.length ? 'ahead' : 'identical',
          ahead_by: all.length,
          total_commits: all.length,
          commits: await this.commitPayloads(state, shas)
        }
      ]
    }
    if (
      (m = /^\/actions\/runs\/(\d+)$/.exec(rest)) &&
      request.method === 'GET' &&
      state.runs.has(Number(m[1]))
    ) {
      const found = state.runs.get(Number(m[1]))
      if (found) return [200, this.runPayload(state, found)]
    }
    if ((m = /^\/collaborators\/([^/]+)\/permission$/.exec(rest))) {
      const permission = state.permissions.get(m[1]) ?? 'read'
      return [
        200,
        {
          permission: permission === 'maintain' ? 'write' : permission,
          role_name: permission,
          user: { login: m[1], type: 'User' }
        }
      ]
    }
    if (
      (m = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest)) &&
      request.method === 'POST'
    ) {
      const ref = String(input.ref ?? '').replace(/^refs\/heads\//, '')
      if (!(await this.branches(state)).has(ref)) {
        throw new HttpError(422, `No ref found for: ${input.ref}`)
      }
      const dispatch: DispatchState = {
        workflow: m[1],
        ref,
        inputs: (input.inputs as Record<string, string>) ?? {}
      }
      state.dispatches.push(dispatch)
      if (input.return_run_details !== true) return [204, undefined]
      // Since 2026-02 GitHub answers 200 with the run it started.
      const id = 7_000_000 + state.dispatches.length
      dispatch.runId = id
      state.dispatchedRuns.set(id, {
        id,
        workflow: m[1],
        ref,
        headSha: (await this.branches(state)).get(ref) ?? '',
        reads: 0,
        script: state.runScripts.get(m[1]) ?? {
          polls: 1,
          conclusion: 'success'
        }
      })
      const fullName = `${state.owner}/${state.repo}`
      return [
        200,
        {
          workflow_run_id: id,
          run_url: `${this.url}/repos/${fullName}/actions/runs/${id}`,
          html_url: `https://github.com/${fullName}/actions/runs/${id}`
        }
      ]
    }
    if (
      (m = /^\/actions\/runs\/(\d+)$/.exec(rest)) &&
      request.method === 'GET' &&
      state.dispatchedRuns.has(Number(m[1]))
    ) {
      const run = state.dispatchedRuns.get(Number(m[1]))
      if (run) return [200, this.dispatchedRunPayload(state, run)]
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest)) && request.method === 'PATCH') {
      const pull = this.pullOf(state, m[1])
      if (typeof input.milestone === 'number') pull.milestone = input.milestone
      return [200, await this.pullPayload(state, pull)]
    }
    if (
      (m = /^\/pulls\/(\d+)\/requested_reviewers$/.exec(rest)) &&
      request.method === 'POST'
    ) {
      const pull = this.pullOf(state, m[1])
      const reviewers = (input.reviewers as string[]) ?? []
      if (reviewers.includes(pull.author)) {
        throw new HttpError(
          422,
          'Review cannot be requested from pull request author.'
        )
      }
      pull.requestedReviewers = [
        ...new Set([...(pull.requestedReviewers ?? []), ...reviewers])
      ]
      pull.requestedTeams = [
        ...new Set([
          ...(pull.requestedTeams ?? []),
          ...((input.team_reviewers as string[]) ?? [])
        ])
      ]
      return [201, await this.pullPayload(state, pull)]
    }
    throw new HttpError(404, `Not Found: ${request.method} ${request.path}`)
  }

  /**
   * The GraphQL the actions send, answered as GitHub does: errors come back
   * with HTTP 200 and `data.<field>: null`.
   */
  private async graphql(body: GraphQLBody): Promise<Record<string, unknown>> {
    const query = body?.query ?? ''
    if (/enablePullRequestAutoMerge/.test(query)) {
      return this.enableAutoMerge(body)
    }
    if (/object\(expression:/.test(query)) return this.treeObjects(body)
    return { errors: [{ message: 'stand-in: unsupported query' }] }
  }

  /**
   * `repository(owner: $owner, name: $name) { eN: object(expression: $eN)
   * { ... on Tree { entries { name oid mode type } } } }`, every expression
   * (`<commit>:<dir>`) read by one `git cat-file --batch`. A missing object
   * is null; any other object than a tree is `{}`, as the fragment does not
   * apply to it.
   */
  private async treeObjects(
    body: GraphQLBody
  ): Promise<Record<string, unknown>> {
    const variables = body.variables ?? {}
    const fullName = `${variables.owner}/${variables.name}`
    const state = this.repos.get(fullName)
    if (!state) {
      return {
        data: { repository: null },
        errors: [
          {
            type: 'NOT_FOUND',
            path: ['repository'],
            locations: [{ line: 2, column: 3 }],
            message: `Could not resolve to a Repository with the name '${fullName}'.`
          }
        ]
      }
    }
    const aliases = [
      ...(body.query ?? '').matchAll(
        /(\w+)\s*:\s*object\(expression:\s*\$(\w+)\)/g
      )
    ].map(([, alias, name]) => [alias, variables[name]] as const)
    const repository: Record<string, unknown> = Object.fromEntries(
      aliases.map(([alias]) => [alias, null])
    )
    let pending = aliases.filter(
      (pair): pair is readonly [string, string] =>
        typeof pair[1] === 'string' && /^[^\n]+$/.test(pair[1])
    )
    while (pending.length) {
      const { code, stdout } = await exec(
        'git',
        ['cat-file', '--batch'],
        state.bareDir,
        pending.map(([, expression]) => `${expression}\n`).join('')
      )
      let at = 0
      let answered = 0
      for (const [alias] of pending) {
        const eol = stdout.indexOf(10, at)
        if (eol < 0) break
        const header = stdout.toString('utf8', at, eol)
        at = eol + 1
        answered++
        if (/ (missing|ambiguous)$/.test(header)) continue
        const [oid, type, size] = header.split(' ')
        const content = stdout.subarray(at, at + Number(size))
        at += Number(size) + 1
        repository[alias] =
          type === 'tree'
            ? { entries: graphqlEntries(content, oid.length / 2) }
            : {}
      }
      // git dies on some expressions (a reflog, a relative path) and answers
      // none after them: that one stays null, the rest are asked again.
      pending = code === 0 ? [] : pending.slice(answered + 1)
    }
    return { data: { repository } }
  }

  private enableAutoMerge(body: GraphQLBody): Record<string, unknown> {
    const id = String(body.variables?.pullRequestId ?? '')
    const method = String(body.variables?.mergeMethod ?? 'MERGE')
    for (const state of this.repos.values()) {
      for (const pull of state.pulls.values()) {
        if (`PR_node_${state.owner}_${state.repo}_${pull.number}` !== id) {
          continue
        }
        if (!state.allowAutoMerge) {
          return {
            data: { enablePullRequestAutoMerge: null },
            errors: [
              {
                type: 'UNPROCESSABLE',
                path: ['enablePullRequestAutoMerge'],
                locations: [{ line: 2, column: 3 }],
                message: 'Auto merge is not allowed for this repository'
              }
            ]
          }
        }
        pull.autoMergeMethod = method
        return {
          data: {
            enablePullRequestAutoMerge: {
              pullRequest: {
                number: pull.number,
                autoMergeRequest: { mergeMethod: method }
              }
            }
          }
        }
      }
    }
    return {
      data: { enablePullRequestAutoMerge: null },
      errors: [
        {
          type: 'NOT_FOUND',
          path: ['enablePullRequestAutoMerge'],
          message: `Could not resolve to a node with the global id of '${id}'.`
        }
      ]
    }
  }

  private dispatchedRunPayload(
    state: RepoState,
    run: DispatchedRun
  ): Record<string, unknown> {
    run.reads++
    const done = run.reads > run.script.polls
    const fullName = `${state.owner}/${state.repo}`
    return {
      id: run.id,
      name: run.workflow,
      path: `.github/workflows/${run.workflow}`,
      event: 'workflow_dispatch',
      head_branch: run.ref,
      head_sha: run.headSha,
      status: done ? 'completed' : run.reads > 1 ? 'in_progress' : 'queued',
      conclusion: done ? run.script.conclusion : null,
      url: `${this.url}/repos/${fullName}/actions/runs/${run.id}`,
      html_url: `https://github.com/${fullName}/actions/runs/${run.id}`,
      repository: this.repositoryPayload(state)
    }
  }

  private pullOf(state: RepoState, number: string): PullState {
    const pull = state.pulls.get(Number(number))
    if (!pull) throw new HttpError(404, 'Not Found')
    return pull
  }

  private commentPayload(
    state: RepoState,
    number: number,
    comment: CommentState
  ): Record<string, unknown> {
    return {
      id: comment.id,
      body: comment.body,
      user: { login: comment.user, type: 'Bot' },
      html_url: `https://github.com/${state.owner}/${state.repo}/pull/${number}#issuecomment-${comment.id}`
    }
  }

  /**
   * Merges an open pull request as the merge button does (a merge commit,
   * made with real git in the bare repository, moving the base branch).
   */
  private async mergePull(
    state: RepoState,
    pull: PullState
  ): Promise<Record<string, unknown>> {
    if (pull.state !== 'open') {
      throw new HttpError(405, 'Pull Request is not mergeable')
    }
    const base = (
      await git(state.bareDir, ['rev-parse', `refs/heads/${pull.baseRef}`])
    ).trim()
    const head = (
      await git(state.bareDir, ['rev-parse', `refs/heads/${pull.headRef}`])
    ).trim()
    let tree: string
    try {
      tree = (
        await git(state.bareDir, ['merge-tree', '--write-tree', base, head])
      )
        .split('\n')[0]
        .trim()
    } catch {
      throw new HttpError(405, 'Pull Request is not mergeable')
    }
    const message = `Merge pull request #${pull.number} from ${state.owner}/${pull.headRef}\n\n${pull.title}`
    const sha = (
      await git(
        state.bareDir,
        ['commit-tree', tree, '-p', base, '-p', head, '-m', message],
        undefined,
        {
          GIT_AUTHOR_NAME: 'octocat',
          GIT_AUTHOR_EMAIL: 'octocat@example.com',
          GIT_COMMITTER_NAME: 'GitHub',
          GIT_COMMITTER_EMAIL: 'noreply@github.com'
        }
      )
    ).trim()
    await git(state.bareDir, [
      'update-ref',
      `refs/heads/${pull.baseRef}`,
      sha,
      base
    ])
    Object.assign(pull, {
      state: 'closed',
      merged: true,
      mergeCommitSha: sha,
      headSha: head,
      baseSha: base
    })
    return { sha, merged: true, message: 'Pull Request successfully merged' }
  }

  private async createPull(
    state: RepoState,
    input: Record<string, unknown>
  ): Promise<Record<string, unknown>> {
    const head =
      String(input.head ?? '')
        .split(':')
        .pop() ?? ''
    const base = String(input.base ?? '')
    const branches = await this.branches(state)
    const headSha = branches.get(head)
    const baseSha = branches.get(base)
    if (!headSha || !baseSha) {
      throw new HttpError(
        422,
        `Validation Failed: head ${head} or base ${base} missing`
      )
    }
    if (
      [...state.pulls.values()].some(
        (p) => p.state === 'open' && p.headRef === head
      )
    ) {
      throw new HttpError(
        422,
        `A pull request already exists for ${state.owner}:${head}.`
      )
    }
    const pull: PullState = {
      number: state.nextNumber++,
      title: String(input.title ?? ''),
      body: String(input.body ?? ''),
      author: 'github-actions[bot]',
      state: 'open',
      merged: false,
      mergeCommitSha: null,
      headRef: head,
      headSha,
      baseRef: base,
      baseSha,
      labels: [],
      assignees: [],
      draft: input.draft === true
    }
    state.pulls.set(pull.number, pull)
    return this.pullPayload(state, pull)
  }
}
