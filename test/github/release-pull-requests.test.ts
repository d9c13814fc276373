import { describe, expect, it, jest } from '@jest/globals'
import type { GitHubClient } from '../../src/github/client.js'
import {
  commentOnce,
  pickedFromCommits,
  releasedPullRequests
} from '../../src/github/release-pull-requests.js'

const repo = { owner: 'acme', repo: 'monolith' }

interface Pull {
  number: number
  title: string
  merged_at: string | null
  user: { login: string }
  html_url: string
}

/** A plain-object stand-in for the few Octokit calls this module makes. */
function fakeClient(
  commits: { sha: string; message: string }[],
  pullsByCommit: Record<string, Pull[]>,
  comments: Record<number, string[]> = {}
): { client: GitHubClient; created: { number: number; body: string }[] } {
  const created: { number: number; body: string }[] = []
  const listComments = jest.fn()
  const client = {
    rest: {
      repos: {
        compareCommitsWithBasehead: async () => ({
          data: {
            commits: commits.map((c) => ({
              sha: c.sha,
              commit: { message: c.message }
            }))
          }
        }),
        getCommit: async ({ ref }: { ref: string }) => ({
          data: {
            sha: ref,
            commit: {
              message: commits.find((c) => c.sha === ref)?.message ?? ''
            }
          }
        }),
        listPullRequestsAssociatedWithCommit: async ({
          commit_sha
        }: {
          commit_sha: string
        }) => ({
          data: pullsByCommit[commit_sha] ?? []
        })
      },
      issues: {
        listComments,
        createComment: async ({
          issue_number,
          body
        }: {
          issue_number: number
          body: string
        }) => {
          created.push({ number: issue_number, body })
          return { data: {} }
        }
      }
    },
    paginate: async (_fn: unknown, params: { issue_number: number }) =>
      (comments[params.issue_number] ?? []).map((body) => ({ body }))
  }
  return { client: client as unknown as GitHubClient, created }
}

function pull(number: number, merged = true): Pull {
  return {
    number,
    title: `change ${number}`,
    merged_at: merged ? '2026-11-01T00:00:00Z' : null,
    user: { login: `dev${number}` },
    html_url: `https://github.com/acme/monolith/pull/${number}`
  }
}

describe('pickedFromCommits', () => {
  it('reads every -x trailer', () => {
    expect(
      pickedFromCommits(
        'Fix\n\n(cherry picked from commit abc1234)\n(cherry picked from commit 0123456789abcdef0123456789abcdef01234567)'
      )
    ).toEqual(['abc1234', '0123456789abcdef0123456789abcdef01234567'])
    expect(pickedFromCommits('plain commit')).toEqual([])
  })
})

describe('releasedPullRequests', () => {
  it('finds merged PRs of the commits in range, through cherry-pick trailers, once each', async () => {
    const { client } = fakeClient(
      [
        { sha: 'c1', message: 'feature (#10)' },
        { sha: 'c2', message: 'fix\n\n(cherry picked from commit aaaaaaa)' },
        { sha: 'c3', message: 'follow-up (#10)' }
      ],
      {
        c1: [pull(10)],
        aaaaaaa: [pull(12)],
        c3: [pull(10), pull(11, false)]
      }
    )
    const pulls = await releasedPullRequests(client, repo, 'base', 'c3')
    expect(pulls.map((p) => p.number)).toEqual([10, 12])
    expect(pulls[1]).toMatchObject({ author: 'dev12', title: 'change 12' })
  })

  it('uses only the deployed commit when there is no previous deploy', async () => {
    const { client } = fakeClient([{ sha: 'c9', message: 'x' }], {
      c9: [pull(9)]
    })
    const pulls = await releasedPullRequests(client, repo, undefined, 'c9')
    expect(pulls.map((p) => p.number)).toEqual([9])
  })

  it('finds nothing when the same commit is deployed again', async () => {
    const { client } = fakeClient([{ sha: 'c9', message: 'x' }], {
      c9: [pull(9)]
    })
    expect(await releasedPullRequests(client, repo, 'c9', 'c9')).toEqual([])
  })
})

describe('commentOnce', () => {
  it('skips pull requests that already carry the marker', async () => {
    const { client, created } = fakeClient(
      [],
      {},
      {
        1: ['Live on staging\n\n<!-- m:staging:abc -->'],
        2: ['unrelated']
      }
    )
    const commented = await commentOnce(
      client,
      repo,
      [1, 2],
      'm:staging:abc',
      'Live on staging'
    )
    expect(commented).toEqual([2])
    expect(created).toEqual([
      { number: 2, body: 'Live on staging\n\n<!-- m:staging:abc -->' }
    ])
  })
})
