import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, Server } from 'node:http'
import { AddressInfo } from 'node:net'
import { createGitHubClient, WRITE_BURST } from '../../src/github/client.js'

/** A loopback API that answers at once, failing the statuses it is told to. */
let server: Server
let url: string
const seen: { method: string; path: string; at: number }[] = []
let failures: { status: number; headers?: Record<string, string> }[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        at: Date.now()
      })
      const { status, headers } = failures.shift() ?? { status: 200 }
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(status === 200 ? { data: {} } : { message: 'no' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.close()
})

const issue = { owner: 'acme', repo: 'monolith', issue_number: 1 }

describe('createGitHubClient', () => {
  it('sends a burst of writes at once, then one a second; a GraphQL query is no write, a mutation is', async () => {
    const client = createGitHubClient('t', url)
    const started = Date.now()
    for (let i = 0; i < WRITE_BURST; i++) {
      await client.rest.issues.addLabels({ ...issue, labels: ['x'] })
    }
    expect(Date.now() - started).toBeLessThan(800)
    const query = client.graphql('query { viewer { login } }')
    const mutation = client.graphql('mutation { noop }')
    const queried = await query.then(() => Date.now() - started)
    const mutated = await mutation.then(() => Date.now() - started)
    expect(queried).toBeLessThan(800)
    expect(mutated).toBeGreaterThanOrEqual(900)
  })

  it('retries a 5xx with a pause, and not a 422', async () => {
    const client = createGitHubClient('t', url)
    seen.length = 0
    failures = [{ status: 502 }]
    await client.rest.pulls.get({
      owner: 'acme',
      repo: 'monolith',
      pull_number: 1
    })
    expect(seen).toHaveLength(2)
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(900)
    failures = [{ status: 422 }]
    await expect(
      client.rest.git.updateRef({
        owner: 'acme',
        repo: 'monolith',
        ref: 'heads/main',
        sha: 'a'.repeat(40)
      })
    ).rejects.toThrow(
      'GitHub PATCH /repos/{owner}/{repo}/git/refs/{ref} failed (422): no'
    )
    expect(seen).toHaveLength(3)
  })
  it('waits for the reset of a spent primary rate limit, then tries again', async () => {
    const client = createGitHubClient('t', url)
    seen.length = 0
    const reset = String(Math.ceil(Date.now() / 1000) + 1)
    failures = [
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }
      }
    ]
    await client.rest.pulls.get({
      owner: 'acme',
      repo: 'monolith',
      pull_number: 1
    })
    expect(seen).toHaveLength(2)
    expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(900)
  })
})
