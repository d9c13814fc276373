import { describe, expect, it } from '@jest/globals'
import { ManualClock } from '../../src/common/clock.js'
import { GitHubClient } from '../../src/github/client.js'
import { waitForRun } from '../../src/github/dispatched-run.js'

/** An Octokit stand-in whose run goes through the given states. */
function client(states: { status: string; conclusion: string | null }[]): {
  client: GitHubClient
  reads: () => number
} {
  let reads = 0
  const fake = {
    rest: {
      actions: {
        getWorkflowRun: async () => {
          const state = states[Math.min(reads, states.length - 1)]
          reads++
          return { data: { ...state, html_url: 'https://x/runs/9' } }
        }
      }
    }
  }
  return { client: fake as unknown as GitHubClient, reads: () => reads }
}

const repo = { owner: 'acme', repo: 'monolith' }

describe('waitForRun', () => {
  it('polls until the run completes and calls only success healthy', async () => {
    const clock = new ManualClock()
    const { client: ok, reads } = client([
      { status: 'queued', conclusion: null },
      { status: 'in_progress', conclusion: null },
      { status: 'completed', conclusion: 'success' }
    ])
    expect(
      await waitForRun(ok, repo, 9, {
        timeoutMs: 60_000,
        intervalMs: 10_000,
        clock
      })
    ).toEqual({ status: 'success', htmlUrl: 'https://x/runs/9' })
    expect(reads()).toBe(3)
    expect(clock.now()).toBe(20_000)

    const { client: bad } = client([
      { status: 'completed', conclusion: 'failure' }
    ])
    expect(
      await waitForRun(bad, repo, 9, { timeoutMs: 1, intervalMs: 1, clock })
    ).toMatchObject({ status: 'failure', conclusion: 'failure' })
  })

  it('gives up at the timeout without sleeping past it', async () => {
    const clock = new ManualClock()
    const { client: slow, reads } = client([
      { status: 'in_progress', conclusion: null }
    ])
    const verdict = await waitForRun(slow, repo, 9, {
      timeoutMs: 45_000,
      intervalMs: 20_000,
      clock
    })
    expect(verdict).toMatchObject({ status: 'timeout', waitedMs: 40_000 })
    expect(reads()).toBe(3)
    expect(clock.now()).toBeLessThanOrEqual(45_000)
  })
})
