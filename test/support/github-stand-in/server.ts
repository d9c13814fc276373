import { execFile } from 'node:child_process'
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse
} from 'node:http'
import { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { createRequire } from 'node:module'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

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

async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, maxBuffer: 64 << 20 })
  return stdout
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
      default_branch: 'main'
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
    if (shas.length === 0) return []
    const out = await git(state.bareDir, [
      'show',
      '-s',
      '--format=%x01%H%x00%P%x00%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      ...shas
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
      authorization: req.headers.authorization
    }
    this.log.push(entry)
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
      const [status, payload] = await this.route(entry)
      res.writeHead(status, { 'content-type': 'application/json' })
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

  private async route(request: LoggedRequest): Promise<[number, unknown]> {
    if (request.path === '/graphql' && request.method === 'POST') {
      return [200, this.graphql(request.body as GraphQLBody)]
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
        // The empty old value makes git refuse a ref that already exists.
        await git(state.bareDir, ['update-ref', ref, sha, ''])
      } catch {
        throw new HttpError(422, 'Reference already exists')
      }
      return [201, { ref, object: { sha, type: 'commit' } }]
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
        .map(([name, sha]) => ({
          ref: `refs/heads/${name}`,
          node_id: `REF_${name}`,
          url: `${this.url}/repos/${state.owner}/${state.repo}/git/refs/heads/${name}`,
          object: { sha, type: 'commit', url: '' }
        }))
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
    if ((m = /^\/commits\/([^/]+)$/.exec(rest)) && request.method === 'GET') {
      return [200, await this.commitPayload(state, m[1])]
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
   * The one GraphQL mutation the actions send, answered as GitHub does:
   * errors come back with HTTP 200 and `data.<field>: null`.
   */
  private graphql(body: GraphQLBody): Record<string, unknown> {
    if (!/enablePullRequestAutoMerge/.test(body?.query ?? '')) {
      return { errors: [{ message: 'stand-in: unsupported query' }] }
    }
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
    const { stdout } = await run(
      'git',
      ['commit-tree', tree, '-p', base, '-p', head, '-m', message],
      {
        cwd: state.bareDir,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'octocat',
          GIT_AUTHOR_EMAIL: 'octocat@example.com',
          GIT_COMMITTER_NAME: 'GitHub',
          GIT_COMMITTER_EMAIL: 'noreply@github.com'
        }
      }
    )
    const sha = stdout.trim()
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
