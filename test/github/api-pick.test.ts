import { describe, expect, it, jest } from '@jest/globals'
import { pickThroughApi } from '../../src/github/api-pick.js'
import { GitHubClient } from '../../src/github/client.js'
import { ChangedCommit } from '../../src/github/git-data.js'

const repo = { owner: 'acme', repo: 'monolith' }
const committer = { name: 'bot', email: 'bot@example.com' }

/** Commits as flat path → blob maps; GraphQL answers their directories. */
function world(commits: Record<string, Record<string, string>>): {
  client: GitHubClient
  trees: { base_tree: string; tree: unknown[] }[]
  made: { message: string; parents: string[]; author: unknown }[]
} {
  const trees: { base_tree: string; tree: unknown[] }[] = []
  const made: { message: string; parents: string[]; author: unknown }[] = []
  const directory = (expression: string): unknown => {
    const [sha, dir] = expression.split(':')
    const files = commits[sha]
    const prefix = dir ? `${dir}/` : ''
    if (files[dir]) return {}
    const entries = new Map<string, unknown>()
    for (const [path, blob] of Object.entries(files)) {
      if (!path.startsWith(prefix)) continue
      const [name, ...deeper] = path.slice(prefix.length).split('/')
      entries.set(
        name,
        deeper.length > 0
          ? { name, oid: `tree-${name}`, mode: 0o40000, type: 'tree' }
          : { name, oid: blob, mode: 0o100644, type: 'blob' }
      )
    }
    return entries.size > 0 || !dir ? { entries: [...entries.values()] } : null
  }
  const graphql = jest.fn(
    async (_query: string, vars: Record<string, string>) => ({
      repository: Object.fromEntries(
        Object.entries(vars)
          .filter(([name]) => /^e\d+$/.test(name))
          .map(([name, expression]) => [name, directory(expression)])
      )
    })
  )
  const createTree = jest.fn(
    async (args: { base_tree: string; tree: unknown[] }) => {
      trees.push(args)
      return { data: { sha: `tree${trees.length}` } }
    }
  )
  const createCommit = jest.fn(
    async (args: { message: string; parents: string[]; author: unknown }) => {
      made.push(args)
      return { data: { sha: `pick${made.length}` } }
    }
  )
  const client = { graphql, rest: { git: { createTree, createCommit } } }
  return { client: client as unknown as GitHubClient, trees, made }
}

function change(
  sha: string,
  parent: string,
  paths: string[],
  extra: Partial<ChangedCommit> = {}
): ChangedCommit {
  return {
    sha,
    parents: [parent],
    message: `fix ${sha}`,
    author: {
      name: 'Dev',
      email: 'dev@example.com',
      date: '2026-12-01T10:00:00Z'
    },
    paths,
    complete: true,
    ...extra
  }
}

const tip = { sha: 'tip', tree: 'tiptree' }

describe('pickThroughApi', () => {
  it('sets the commit’s entries on the target’s tree when the target has the parent’s', async () => {
    const { client, trees, made } = world({
      parent: { 'app/a.py': 'a0', 'app/b.py': 'b0' },
      fix: { 'app/a.py': 'a1', 'app/b.py': 'b0', 'app/new/c.py': 'c1' },
      tip: { 'app/a.py': 'a0', 'app/b.py': 'b9', 'lib/x.py': 'x0' }
    })
    const outcome = await pickThroughApi(
      client,
      repo,
      tip,
      [change('fix', 'parent', ['app/a.py', 'app/new/c.py'])],
      committer
    )
    expect(outcome).toEqual({
      status: 'picked',
      picked: [{ source: 'fix', sha: 'pick1' }],
      empty: [],
      head: 'pick1'
    })
    expect(trees[0]).toMatchObject({
      base_tree: 'tiptree',
      tree: [
        { path: 'app/a.py', mode: '100644', type: 'blob', sha: 'a1' },
        { path: 'app/new/c.py', mode: '100644', type: 'blob', sha: 'c1' }
      ]
    })
    expect(made[0]).toMatchObject({
      message: 'fix fix\n\n(cherry picked from commit fix)',
      parents: ['tip'],
      author: { name: 'Dev', date: '2026-12-01T10:00:00Z' },
      committer
    })
  })

  it('deletes what the commit deleted, and leaves out a change already there', async () => {
    const { client, trees } = world({
      parent: { 'a.py': 'a0', 'b.py': 'b0' },
      fix: { 'b.py': 'b1' },
      tip: { 'a.py': 'a0', 'b.py': 'b1' },
      same: { 'b.py': 'b1' }
    })
    const outcome = await pickThroughApi(
      client,
      repo,
      tip,
      [change('fix', 'parent', ['a.py', 'b.py'])],
      committer
    )
    expect(outcome.status).toBe('picked')
    expect(trees[0].tree).toEqual([
      { path: 'a.py', mode: '100644', type: 'blob', sha: null }
    ])
    const empty = world({
      parent: { 'b.py': 'b0' },
      fix: { 'b.py': 'b1' },
      tip: { 'b.py': 'b1' }
    })
    await expect(
      pickThroughApi(
        empty.client,
        repo,
        tip,
        [change('fix', 'parent', ['b.py'])],
        committer
      )
    ).resolves.toEqual({
      status: 'picked',
      picked: [],
      empty: ['fix'],
      head: 'tip'
    })
    expect(empty.made).toHaveLength(0)
  })

  it.each([
    [
      'a path changed on the target too',
      { 'app/a.py': 'a7' },
      /app\/a.py was changed on the target too/
    ],
    [
      'a directory moved away on the target',
      { 'web/a.py': 'a0' },
      /app\/ is gone/
    ],
    [
      'a file where the new directory goes',
      { 'app/a.py': 'a0', lib: 'file' },
      /lib is a file/
    ]
  ])('declines %s, writing nothing', async (_case, target, reason) => {
    const { client, trees, made } = world({
      parent: { 'app/a.py': 'a0' },
      fix: { 'app/a.py': 'a1', 'lib/util/x.py': 'x1' },
      tip: target
    })
    const outcome = await pickThroughApi(
      client,
      repo,
      tip,
      [change('fix', 'parent', ['app/a.py', 'lib/util/x.py'])],
      committer
    )
    expect(outcome).toEqual({
      status: 'declined',
      reason: expect.stringMatching(reason)
    })
    expect([trees, made]).toEqual([[], []])
  })

  it.each([
    ['a merge commit', { parents: ['p1', 'p2'] }, /is a merge commit/],
    [
      'a commit GitHub lists in part',
      { complete: false },
      /more than 300 files/
    ],
    ['a workflow file', { paths: ['.github/workflows/ci.yml'] }, /ci.yml/],
    [
      'a change across more directories than one request reads',
      { paths: Array.from({ length: 70 }, (_, i) => `app${i}/a.py`) },
      /touch 211 directories/
    ]
  ])('leaves %s to git without a request', async (_case, extra, reason) => {
    const { client } = world({})
    const outcome = await pickThroughApi(
      client,
      repo,
      tip,
      [change('fix', 'parent', ['a.py'], extra)],
      committer
    )
    expect(outcome).toEqual({
      status: 'declined',
      reason: expect.stringMatching(reason)
    })
    expect(client.graphql).not.toHaveBeenCalled()
  })

  it('picks a second commit onto what the first wrote, in a directory the first made', async () => {
    const { client, trees, made } = world({
      base: { 'a.py': 'a0' },
      one: { 'a.py': 'a0', 'new/n.py': 'n1' },
      two: { 'a.py': 'a0', 'new/n.py': 'n2' },
      tip: { 'a.py': 'a0' }
    })
    const outcome = await pickThroughApi(
      client,
      repo,
      tip,
      [change('one', 'base', ['new/n.py']), change('two', 'one', ['new/n.py'])],
      committer
    )
    expect(outcome).toMatchObject({ status: 'picked', head: 'pick2' })
    expect(trees.map((tree) => tree.base_tree)).toEqual(['tiptree', 'tree1'])
    expect(made[1].parents).toEqual(['pick1'])
    expect(client.graphql).toHaveBeenCalledTimes(1)
  })
})
