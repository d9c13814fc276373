import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it
} from '@jest/globals'
import { getOctokit } from '@actions/github'
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createGitFixture,
  git,
  GitFixture,
  mergePullRequest,
  removeGitFixture
} from './github-stand-in/git-fixture.js'
import { GitHubStandIn } from './github-stand-in/server.js'

// The git-data API a clone-free cherry-pick uses, served from real git.

let standIn: GitHubStandIn
let fx: GitFixture
let octokit: ReturnType<typeof getOctokit>
const repo = { owner: 'acme', repo: 'monolith' }

beforeAll(async () => {
  standIn = await GitHubStandIn.start()
  octokit = getOctokit('ghs_token', { baseUrl: standIn.url })
})
afterAll(async () => standIn.close())
beforeEach(async () => {
  fx = await createGitFixture(standIn)
})
afterEach(async () => removeGitFixture(fx))

/** The status and message of a request GitHub would refuse. */
async function refusal(
  request: Promise<unknown>
): Promise<{ status: number; message: string }> {
  try {
    await request
  } catch (error) {
    const { status, response } = error as {
      status: number
      response: { data: { message: string } }
    }
    return { status, message: response.data.message }
  }
  throw new Error('the request succeeded')
}

/** Commits the work clone's staged state to main and pushes it. */
async function pushCommit(message: string): Promise<string> {
  await git(fx.work, 'commit', '--quiet', '-m', message)
  await git(fx.work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main')
  return git(fx.work, 'rev-parse', 'HEAD')
}

const tip = (branch: string): Promise<string> =>
  git(fx.bare, 'rev-parse', `refs/heads/${branch}`)

/** A commit on `parent` in the bare repository, made by git itself. */
async function childOf(parent: string, message: string): Promise<string> {
  return git(
    fx.bare,
    'commit-tree',
    `${parent}^{tree}`,
    '-p',
    parent,
    '-m',
    message
  )
}

const blob = (commit: string, path: string): Promise<string> =>
  git(fx.bare, 'rev-parse', `${commit}:${path}`)

describe('GET /commits/{ref}', () => {
  it('lists files against the first parent: modified, added, removed, renamed, mode-only', async () => {
    const work = fx.work
    await writeFile(join(work, 'app/settings.py'), 'DEBUG = True\n')
    await writeFile(join(work, 'app/urls.py'), 'urlpatterns = []\n')
    await git(work, 'rm', '--quiet', 'app/models.py')
    await git(work, 'mv', 'app/views.py', 'app/pages.py')
    await chmod(join(work, 'app/urls.py'), 0o755)
    await git(work, 'add', '-A')
    const first = await pushCommit('Reshape the app')
    await chmod(join(work, 'app/urls.py'), 0o644)
    await git(work, 'add', '-A')
    const second = await pushCommit('urls.py is no script')
    const parent = `${first}^`

    const { data } = await octokit.rest.repos.getCommit({ ...repo, ref: first })
    const byName = (a: { filename: string }, b: { filename: string }) =>
      a.filename.localeCompare(b.filename)
    expect(data.sha).toBe(first)
    expect(data.parents.map((p) => p.sha)).toEqual([
      await git(fx.bare, 'rev-parse', parent)
    ])
    expect([...(data.files ?? [])].sort(byName)).toEqual(
      [
        {
          filename: 'app/models.py',
          status: 'removed',
          sha: await blob(parent, 'app/models.py')
        },
        {
          filename: 'app/pages.py',
          status: 'renamed',
          previous_filename: 'app/views.py',
          sha: await blob(first, 'app/pages.py')
        },
        {
          filename: 'app/settings.py',
          status: 'modified',
          sha: await blob(first, 'app/settings.py')
        },
        {
          filename: 'app/urls.py',
          status: 'added',
          sha: await blob(first, 'app/urls.py')
        }
      ].sort(byName)
    )

    const modeOnly = await octokit.rest.repos.getCommit({
      ...repo,
      ref: second
    })
    expect(modeOnly.data.files).toEqual([
      {
        filename: 'app/urls.py',
        status: 'changed',
        sha: await blob(second, 'app/urls.py')
      }
    ])
  })

  it('diffs a root commit against the empty tree and a merge against its first parent', async () => {
    const root = await git(fx.bare, 'rev-list', '--max-parents=0', 'main')
    const rootFiles = await octokit.rest.repos.getCommit({ ...repo, ref: root })
    const rootTree = await git(fx.bare, 'ls-tree', '-r', '--name-only', root)
    expect(rootFiles.data.files).toEqual(
      await Promise.all(
        rootTree.split('\n').map(async (filename) => ({
          filename,
          status: 'added',
          sha: await blob(root, filename)
        }))
      )
    )

    const pull = await mergePullRequest(fx, 'merge', {
      title: 'Add a report',
      commits: [
        { file: 'app/report.py', content: 'REPORT = 1\n', message: 'report' }
      ]
    })
    const merge = pull.mergeCommitSha ?? ''
    const { data } = await octokit.rest.repos.getCommit({ ...repo, ref: merge })
    expect(data.parents).toHaveLength(2)
    expect(data.files).toEqual([
      {
        filename: 'app/report.py',
        status: 'added',
        sha: await blob(merge, 'app/report.py')
      }
    ])
  })

  it('answers an unknown commit with 422, as GitHub does', async () => {
    expect(
      await refusal(
        octokit.rest.repos.getCommit({ ...repo, ref: 'f'.repeat(40) })
      )
    ).toEqual({
      status: 422,
      message: `No commit found for SHA: ${'f'.repeat(40)}`
    })
  })
})

describe('GET /commits', () => {
  it('pages git log from a branch, the default branch without sha', async () => {
    await mergePullRequest(fx, 'merge', {
      title: 'Add a report',
      commits: [
        { file: 'app/report.py', content: 'REPORT = 1\n', message: 'report' },
        { file: 'app/report.py', content: 'REPORT = 2\n', message: 'report 2' }
      ]
    })
    const log = (await git(fx.bare, 'log', '--format=%H', 'main')).split('\n')
    expect(log.length).toBeGreaterThan(4)

    const first = await octokit.rest.repos.listCommits({ ...repo, per_page: 3 })
    expect(first.data.map((c) => c.sha)).toEqual(log.slice(0, 3))
    expect(first.data[0].commit.tree.sha).toBe(
      await git(fx.bare, 'rev-parse', 'main^{tree}')
    )
    expect(first.headers.link).toContain('page=2')
    const second = await octokit.rest.repos.listCommits({
      ...repo,
      sha: 'main',
      per_page: 3,
      page: 2
    })
    expect(second.data.map((c) => c.sha)).toEqual(log.slice(3, 6))
    const all = await octokit.paginate(octokit.rest.repos.listCommits, {
      ...repo,
      per_page: 2
    })
    expect(all.map((c) => c.sha)).toEqual(log)

    const release = await octokit.rest.repos.listCommits({
      ...repo,
      sha: 'release/1.9'
    })
    expect(release.data.map((c) => c.sha)).toEqual(
      (await git(fx.bare, 'log', '--format=%H', 'release/1.9')).split('\n')
    )
  })

  it('answers an unknown ref with 404', async () => {
    expect(
      await refusal(octokit.rest.repos.listCommits({ ...repo, sha: 'nope' }))
    ).toEqual({ status: 404, message: 'No commit found for SHA: nope' })
  })
})

describe('POST /graphql tree entries', () => {
  const query = (count: number): string =>
    `query($owner: String!, $name: String!, ${[...Array(count).keys()].map((i) => `$e${i}: String!`).join(', ')}) {
      repository(owner: $owner, name: $name) {
        ${[...Array(count).keys()].map((i) => `e${i}: object(expression: $e${i}) { ... on Tree { entries { name oid mode type } } }`).join('\n        ')}
      }
    }`

  it('lists a root and a subdirectory with GitHub modes; what is missing is null, a blob {}', async () => {
    const work = fx.work
    await writeFile(join(work, 'manage.py'), '#!/usr/bin/env python\n')
    await chmod(join(work, 'manage.py'), 0o755)
    await symlink('app/settings.py', join(work, 'settings.py'))
    await git(work, 'add', 'manage.py', 'settings.py')
    const gitlink = await git(work, 'rev-parse', 'HEAD')
    await git(
      work,
      'update-index',
      '--add',
      '--cacheinfo',
      `160000,${gitlink},vendor`
    )
    const sha = await pushCommit('Tooling')
    // git cat-file dies on a revision like `main@{upstream}`: the
    // expressions after it must still be answered.
    const expressions = [
      `${sha}:`,
      `${sha}:nope`,
      'main@{upstream}:app',
      `${sha}:app`,
      `${sha}:manage.py`
    ]

    const result: {
      repository: Record<string, { entries?: unknown[] } | null>
    } = await octokit.graphql(query(expressions.length), {
      owner: 'acme',
      name: 'monolith',
      ...Object.fromEntries(expressions.map((e, i) => [`e${i}`, e]))
    })

    const listing = async (tree: string) =>
      (await git(fx.bare, 'ls-tree', tree)).split('\n').map((line) => {
        const [meta, name] = line.split('\t')
        const [mode, type, oid] = meta.split(' ')
        return { name, oid, mode: parseInt(mode, 8), type }
      })
    expect(result.repository.e0?.entries).toEqual(await listing(`${sha}:`))
    expect(result.repository.e1).toBeNull()
    expect(result.repository.e2).toBeNull()
    expect(result.repository.e3?.entries).toEqual(await listing(`${sha}:app`))
    expect(result.repository.e4).toEqual({})
    const modes = Object.fromEntries(
      (result.repository.e0?.entries as { name: string; mode: number }[]).map(
        (entry) => [entry.name, entry.mode]
      )
    )
    expect(modes).toEqual({
      app: 0o40000,
      'manage.py': 0o100755,
      'settings.py': 0o120000,
      vendor: 0o160000
    })
    expect(modes.app).toBe(16384)
  })

  it('answers an unknown repository with a NOT_FOUND error', async () => {
    const error = (await octokit
      .graphql(query(1), { owner: 'acme', name: 'nowhere', e0: 'HEAD:' })
      .catch((e: unknown) => e)) as { errors?: { type: string }[] }
    expect(error.errors?.[0].type).toBe('NOT_FOUND')
  })
})

describe('POST /git/trees and /git/commits', () => {
  it('writes a nested tree: a file added two levels down, one changed, one deleted', async () => {
    const base = await tip('main')
    const baseTree = await git(fx.bare, 'rev-parse', `${base}^{tree}`)
    const staged = join(fx.root, 'settings.py')
    await writeFile(staged, 'DEBUG = True\n')
    const settings = await git(fx.bare, 'hash-object', '-w', staged)

    const { status, data } = await octokit.rest.git.createTree({
      ...repo,
      base_tree: baseTree,
      tree: [
        {
          path: 'app/api/v1/orders.py',
          mode: '100755',
          type: 'blob',
          content: 'ORDERS = []\n'
        },
        {
          path: 'app/settings.py',
          mode: '100644',
          type: 'blob',
          sha: settings
        },
        { path: 'app/models.py', mode: '100644', type: 'blob', sha: null }
      ]
    })

    expect(status).toBe(201)
    const expected = new Map(
      (await git(fx.bare, 'ls-tree', '-r', baseTree))
        .split('\n')
        .map((line) => [line.split('\t')[1], line])
    )
    expected.delete('app/models.py')
    expected.set('app/settings.py', `100644 blob ${settings}\tapp/settings.py`)
    const orders = await git(
      fx.bare,
      'rev-parse',
      `${data.sha}:app/api/v1/orders.py`
    )
    expected.set(
      'app/api/v1/orders.py',
      `100755 blob ${orders}\tapp/api/v1/orders.py`
    )
    expect(await git(fx.bare, 'cat-file', '-p', orders)).toBe('ORDERS = []')
    expect(
      (await git(fx.bare, 'ls-tree', '-r', data.sha)).split('\n').sort()
    ).toEqual([...expected.values()].sort())
    expect(data.truncated).toBe(false)
    expect(data.tree).toEqual(
      (await git(fx.bare, 'ls-tree', data.sha)).split('\n').map((line) => {
        const [meta, path] = line.split('\t')
        const [mode, type, sha] = meta.split(' ')
        return { path, mode, type, sha }
      })
    )
  })

  it('refuses to delete a missing path, a missing base tree and a missing blob with 422', async () => {
    const baseTree = await git(fx.bare, 'rev-parse', 'main^{tree}')
    const entry = {
      path: 'app/gone.py',
      mode: '100644' as const,
      type: 'blob' as const
    }
    expect(
      (
        await refusal(
          octokit.rest.git.createTree({
            ...repo,
            base_tree: baseTree,
            tree: [{ ...entry, sha: null }]
          })
        )
      ).status
    ).toBe(422)
    expect(
      (
        await refusal(
          octokit.rest.git.createTree({
            ...repo,
            base_tree: baseTree,
            tree: [{ ...entry, path: 'lib/x/gone.py', sha: null }]
          })
        )
      ).status
    ).toBe(422)
    expect(
      await refusal(
        octokit.rest.git.createTree({
          ...repo,
          base_tree: 'e'.repeat(40),
          tree: [{ ...entry, sha: await blob('main', 'app/views.py') }]
        })
      )
    ).toEqual({ status: 422, message: 'GitRPC::BadObjectState' })
    expect(
      await refusal(
        octokit.rest.git.createTree({
          ...repo,
          base_tree: baseTree,
          tree: [{ ...entry, sha: 'e'.repeat(40) }]
        })
      )
    ).toEqual({ status: 422, message: 'GitRPC::BadObjectState' })
  })

  it('commits a tree with the given author; the committer is the actions bot', async () => {
    const parent = await tip('release/1.10')
    const tree = await git(fx.bare, 'rev-parse', 'main^{tree}')
    const author = {
      name: 'Dev Eloper',
      email: 'dev@example.com',
      date: '2024-05-01T12:00:00+02:00'
    }
    const message = 'Fix order total\n\n(cherry picked from commit abc)'

    const { status, data } = await octokit.rest.git.createCommit({
      ...repo,
      message,
      tree,
      parents: [parent],
      author
    })

    expect(status).toBe(201)
    const raw = await git(fx.bare, 'cat-file', '-p', data.sha)
    const lines = raw.slice(0, raw.indexOf('\n\n')).split('\n')
    expect(lines[0]).toBe(`tree ${tree}`)
    expect(lines.filter((l) => l.startsWith('parent '))).toEqual([
      `parent ${parent}`
    ])
    const epoch = Date.parse(author.date) / 1000
    expect(lines).toContain(
      `author Dev Eloper <dev@example.com> ${epoch} +0200`
    )
    expect(lines.find((l) => l.startsWith('committer '))).toMatch(
      /^committer github-actions\[bot\] <41898282\+github-actions\[bot\]@users\.noreply\.github\.com> \d+ \+0000$/
    )
    expect(raw.slice(raw.indexOf('\n\n') + 2)).toBe(message)
    expect(data).toMatchObject({
      tree: { sha: tree },
      parents: [{ sha: parent }],
      message,
      author: { name: author.name, email: author.email },
      committer: { name: 'github-actions[bot]' },
      verification: { verified: false, reason: 'unsigned' }
    })
    expect(Date.parse(data.author.date)).toBe(Date.parse(author.date))
    expect(await git(fx.bare, 'rev-parse', 'refs/heads/release/1.10')).toBe(
      parent
    )
  })

  it('refuses a missing tree or parent with 422', async () => {
    const tree = await git(fx.bare, 'rev-parse', 'main^{tree}')
    const parent = await tip('main')
    expect(
      await refusal(
        octokit.rest.git.createCommit({
          ...repo,
          message: 'x',
          tree: 'd'.repeat(40),
          parents: [parent]
        })
      )
    ).toEqual({ status: 422, message: 'Tree SHA does not exist' })
    expect(
      await refusal(
        octokit.rest.git.createCommit({
          ...repo,
          message: 'x',
          tree,
          parents: [parent, 'd'.repeat(40)]
        })
      )
    ).toEqual({
      status: 422,
      message: 'Parent SHA does not exist or is not a commit object'
    })
    // A tree is no parent either.
    expect(
      (
        await refusal(
          octokit.rest.git.createCommit({
            ...repo,
            message: 'x',
            tree,
            parents: [tree]
          })
        )
      ).status
    ).toBe(422)
  })
})

describe('PATCH /git/refs/heads/{branch}', () => {
  const ref = 'heads/release/1.10'

  it('fast-forwards, refuses a non-fast-forward with 422, and forces when asked', async () => {
    const old = await tip('release/1.10')
    const ahead = await childOf(old, 'ahead')

    const moved = await octokit.rest.git.updateRef({ ...repo, ref, sha: ahead })
    expect(moved.status).toBe(200)
    expect(moved.data).toMatchObject({
      ref: 'refs/heads/release/1.10',
      object: { sha: ahead, type: 'commit' }
    })
    expect(await tip('release/1.10')).toBe(ahead)

    const sideways = await childOf(old, 'sideways')
    expect(
      await refusal(octokit.rest.git.updateRef({ ...repo, ref, sha: sideways }))
    ).toEqual({
      status: 422,
      message: 'Update is not a fast forward'
    })
    expect(await tip('release/1.10')).toBe(ahead)

    await octokit.rest.git.updateRef({
      ...repo,
      ref,
      sha: sideways,
      force: true
    })
    expect(await tip('release/1.10')).toBe(sideways)
    expect(
      standIn.log.filter(
        (entry) =>
          entry.method === 'PATCH' &&
          entry.path === '/repos/acme/monolith/git/refs/heads/release/1.10'
      )
    ).toHaveLength(3)
  })

  it('refuses a missing branch with 422', async () => {
    const sha = await tip('main')
    expect(
      await refusal(
        octokit.rest.git.updateRef({ ...repo, ref: 'heads/nowhere', sha })
      )
    ).toEqual({ status: 422, message: 'Reference does not exist' })
    expect(await git(fx.bare, 'for-each-ref', 'refs/heads/nowhere')).toBe('')
  })

  it('runs the pre-receive hook: a refusal is a 422 with its message and moves nothing', async () => {
    const seen = join(fx.root, 'seen')
    const hook = join(fx.bare, 'hooks', 'pre-receive')
    await mkdir(join(fx.bare, 'hooks'), { recursive: true })
    await writeFile(
      hook,
      `#!/bin/sh\ncat >> '${seen}'\necho "refusing to allow a GitHub App to update $(basename "$PWD")" >&2\nexit 1\n`
    )
    await chmod(hook, 0o755)
    const old = await tip('release/1.10')
    const ahead = await childOf(old, 'ahead')

    expect(
      await refusal(octokit.rest.git.updateRef({ ...repo, ref, sha: ahead }))
    ).toEqual({
      status: 422,
      message: 'refusing to allow a GitHub App to update origin.git'
    })
    expect(await tip('release/1.10')).toBe(old)

    const created = await refusal(
      octokit.rest.git.createRef({
        ...repo,
        ref: 'refs/heads/cherry-pick/1',
        sha: ahead
      })
    )
    expect(created.status).toBe(422)
    expect(await git(fx.bare, 'for-each-ref', 'refs/heads/cherry-pick')).toBe(
      ''
    )
    expect((await readFile(seen, 'utf8')).split('\n').filter(Boolean)).toEqual([
      `${old} ${ahead} refs/heads/release/1.10`,
      `${'0'.repeat(40)} ${ahead} refs/heads/cherry-pick/1`
    ])
  })

  it('lets exactly one of two updates from the same tip land behind a slow hook', async () => {
    const hook = join(fx.bare, 'hooks', 'pre-receive')
    await mkdir(join(fx.bare, 'hooks'), { recursive: true })
    await writeFile(hook, '#!/bin/sh\ncat > /dev/null\nsleep 1\n')
    await chmod(hook, 0o755)
    const old = await tip('release/1.10')
    const picks = [await childOf(old, 'pick a'), await childOf(old, 'pick b')]

    const results = await Promise.allSettled(
      picks.map((sha) => octokit.rest.git.updateRef({ ...repo, ref, sha }))
    )

    const won = results.flatMap((r, i) =>
      r.status === 'fulfilled' ? [picks[i]] : []
    )
    expect(won).toHaveLength(1)
    const lost = results.find(
      (r) => r.status === 'rejected'
    ) as PromiseRejectedResult
    expect(lost.reason).toMatchObject({
      status: 422,
      response: { data: { message: 'Update is not a fast forward' } }
    })
    expect(await tip('release/1.10')).toBe(won[0])
  })
})
