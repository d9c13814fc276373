import { describe, expect, it, jest } from '@jest/globals'
import { branchExists, listBranches } from '../../src/github/branches.js'
import { GitHubClient } from '../../src/github/client.js'
import { removeLabel } from '../../src/github/issues.js'
import { hasWriteAccess } from '../../src/github/permissions.js'
import { dispatchWorkflow } from '../../src/github/workflows.js'

const repo = { owner: 'acme', repo: 'monolith' }

function httpError(status: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { status })
}

/** A plain object with only the Octokit methods a helper calls. */
function client(shape: Record<string, unknown>): GitHubClient {
  return shape as unknown as GitHubClient
}

describe('hasWriteAccess', () => {
  it.each([
    ['admin', 'admin', true],
    ['write', 'maintain', true],
    ['write', 'write', true],
    ['read', 'triage', false],
    ['read', 'read', false]
  ])('permission %s / role %s → %s', async (permission, role, expected) => {
    const getCollaboratorPermissionLevel = jest.fn(async (_args: unknown) => ({
      data: { permission, role_name: role }
    }))
    const result = await hasWriteAccess(
      client({ rest: { repos: { getCollaboratorPermissionLevel } } }),
      repo,
      'someone'
    )
    expect(result).toBe(expected)
    expect(getCollaboratorPermissionLevel).toHaveBeenCalledWith({
      ...repo,
      username: 'someone'
    })
  })

  it('treats someone who is no collaborator (404) as without access', async () => {
    const getCollaboratorPermissionLevel = jest.fn(async () => {
      throw httpError(404)
    })
    await expect(
      hasWriteAccess(
        client({ rest: { repos: { getCollaboratorPermissionLevel } } }),
        repo,
        'x'
      )
    ).resolves.toBe(false)
  })
})

describe('branches', () => {
  it('lists branches under a prefix through matching refs', async () => {
    const listMatchingRefs = jest.fn()
    const paginate = jest.fn(async (_method: unknown, _args: unknown) => [
      { ref: 'refs/heads/release/1.9' },
      { ref: 'refs/heads/release/1.10' }
    ])
    const names = await listBranches(
      client({ paginate, rest: { git: { listMatchingRefs } } }),
      repo,
      'release/'
    )
    expect(names).toEqual(['release/1.9', 'release/1.10'])
    expect(paginate).toHaveBeenCalledWith(listMatchingRefs, {
      ...repo,
      ref: 'heads/release/',
      per_page: 100
    })
  })

  it('answers false for a missing branch and rethrows other errors', async () => {
    const missing = client({
      rest: {
        repos: {
          getBranch: async () => {
            throw httpError(404)
          }
        }
      }
    })
    await expect(branchExists(missing, repo, 'release/9')).resolves.toBe(false)
    const broken = client({
      rest: {
        repos: {
          getBranch: async () => {
            throw httpError(500)
          }
        }
      }
    })
    await expect(branchExists(broken, repo, 'release/9')).rejects.toThrow(
      'HTTP 500'
    )
  })
})

describe('labels and dispatch', () => {
  it('ignores removing a label that is not there', async () => {
    const gone = client({
      rest: {
        issues: {
          removeLabel: async () => {
            throw httpError(404)
          }
        }
      }
    })
    await expect(
      removeLabel(gone, repo, 1, 'cherry-pick-conflict')
    ).resolves.toBeUndefined()
  })

  it('dispatches a workflow by file name or by id on the ref', async () => {
    const createWorkflowDispatch = jest.fn(async (_args: unknown) => ({}))
    const octokit = client({ rest: { actions: { createWorkflowDispatch } } })
    await dispatchWorkflow(octokit, repo, 'deploy-staging.yml', 'release/1.2')
    await dispatchWorkflow(octokit, repo, '1234', 'release/1.2')
    expect(createWorkflowDispatch.mock.calls).toEqual([
      [
        {
          ...repo,
          workflow_id: 'deploy-staging.yml',
          ref: 'release/1.2',
          inputs: {}
        }
      ],
      [{ ...repo, workflow_id: 1234, ref: 'release/1.2', inputs: {} }]
    ])
  })
})
