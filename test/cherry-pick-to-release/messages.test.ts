import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { ConfigurationError } from '../../src/common/errors.js'
import {
  COMMENT_MARKER,
  conflictComment,
  localCommands,
  hotfixComment,
  pickedComment,
  runComment,
  shellQuote,
  waitComment,
  workflowPermissionComment
} from '../../src/cherry-pick-to-release/messages.js'
import {
  renderTemplate,
  validateTemplate
} from '../../src/cherry-pick-to-release/templates.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

const conflict = {
  target: 'release/1.2',
  pullNumber: 42,
  author: 'alice',
  files: ['app/settings.py'],
  shas: [A, B],
  failed: B,
  branch: 'cherry-pick/42-to-release/1.2',
  mode: 'push' as const
}

describe('comment text', () => {
  it('names the target and every new SHA with its source', () => {
    const text = pickedComment({
      target: 'release/1.2',
      commits: [{ source: A, sha: B }],
      mode: 'push',
      dispatched: 'deploy-staging.yml'
    })
    expect(text.startsWith(COMMENT_MARKER)).toBe(true)
    expect(text).toContain('`release/1.2`')
    expect(text).toContain(`- ${B} (from ${A.slice(0, 12)})`)
    expect(text).toContain('Started `deploy-staging.yml`')
  })

  it('gives the exact commands to redo a conflicting pick', () => {
    expect(localCommands(conflict).split('\n')).toEqual([
      `git fetch origin 'release/1.2' ${A} ${B}`,
      "git switch --create 'cherry-pick/42-to-release/1.2' 'origin/release/1.2'",
      `git cherry-pick -x ${A} ${B}`,
      '# fix the conflicts, then for each stop:',
      'git add <files> && git cherry-pick --continue',
      "git push origin 'HEAD:refs/heads/release/1.2'"
    ])
    expect(
      localCommands({
        ...conflict,
        mainline: 1,
        shas: [A],
        mode: 'pull-request'
      })
    ).toContain(`git cherry-pick -x -m 1 ${A}`)
  })

  it('quotes branch names so a pasted command runs no substitution', () => {
    const hostile = "release/$(touch${IFS}pwned)'x"
    const text = localCommands({ ...conflict, target: hostile })
    expect(text).toContain(
      `git fetch origin 'release/$(touch\${IFS}pwned)'\\''x' ${A} ${B}`
    )
    // The shell gives the name back as text: nothing is substituted.
    const echoed = execFileSync('sh', [
      '-c',
      `printf %s ${shellQuote(hostile)}`
    ])
    expect(echoed.toString()).toBe(hostile)
  })

  it('mentions the author, the files and that nothing was pushed', () => {
    const text = conflictComment(conflict)
    expect(text).toContain('@alice')
    expect(text).toContain('- `app/settings.py`')
    expect(text).toContain('Nothing was pushed')
    expect(text).toContain('```sh')
    expect(
      conflictComment({ ...conflict, draftUrl: 'https://x/pull/43' })
    ).toContain('https://x/pull/43')
  })

  it('has distinct texts for waiting and for the workflows permission', () => {
    expect(waitComment(undefined)).toContain(
      'the current release branch when it is merged'
    )
    expect(waitComment('release/1.2')).toContain('`release/1.2`')
    expect(workflowPermissionComment('release/1.2')).toContain(
      '`workflows` permission'
    )
  })
})

describe('templates', () => {
  const values = {
    number: '42',
    title: 'Fix {title}',
    body: '',
    author: 'alice',
    target: 'release/1.2',
    commits: '- a'
  }

  it('fills placeholders once, without re-expanding inserted text', () => {
    expect(renderTemplate('[{target}] {title} (#{number})', values)).toBe(
      '[release/1.2] Fix {title} (#42)'
    )
  })

  it('rejects an unknown placeholder naming the input', () => {
    expect(() =>
      validateTemplate('pr-title-template', '[{branch}] {title}')
    ).toThrow(ConfigurationError)
    expect(() =>
      validateTemplate('pr-title-template', '[{branch}] {title}')
    ).toThrow('Input "pr-title-template" has "[{branch}] {title}"')
    expect(validateTemplate('pr-title-template', '{title}')).toBe('{title}')
  })
})

describe('the run comment', () => {
  it("lists every target, then each one's details, and the merges left out", () => {
    const text = runComment({
      pullNumber: 42,
      author: 'alice',
      mode: 'push',
      selection: { method: 'squash', shas: [A], skippedMerges: [] },
      skippedMerges: [B],
      targets: [
        {
          target: 'release/1.10',
          result: 'picked',
          message: 'picked',
          commits: [{ source: A, sha: B }],
          alreadyPicked: []
        },
        {
          target: 'release/1.9',
          result: 'conflict',
          message: 'conflict',
          commits: [],
          alreadyPicked: [],
          conflict: {
            files: ['app/settings.py'],
            failed: A,
            gitMessage:
              'Auto-merging app/settings.py\nCONFLICT (content): Merge conflict in app/settings.py\nerror: could not apply'
          }
        }
      ]
    })
    expect(text.startsWith(COMMENT_MARKER)).toBe(true)
    expect(text.split(COMMENT_MARKER)).toHaveLength(2)
    expect(text).toContain('- ✅ `release/1.10`: picked')
    expect(text).toContain('- ⚠️ `release/1.9`: conflict')
    expect(text).toContain(
      '```text\nCONFLICT (content): Merge conflict in app/settings.py\n```'
    )
    expect(text).not.toContain('Auto-merging')
    expect(text).toContain(`git cherry-pick -x ${A}`)
    expect(text).toContain('merge-commits-in-pr: pick')
    expect(text).toContain(B.slice(0, 12))
  })

  it('gives one cherry-pick line per commit when merges are picked with -m 1', () => {
    expect(
      localCommands({ ...conflict, mainlineShas: [B] }).split('\n')
    ).toEqual(
      expect.arrayContaining([
        `git cherry-pick -x ${A}`,
        `git cherry-pick -x -m 1 ${B}`
      ])
    )
  })

  it('links the production deploy of a healthy hotfix, with its run id filled in', () => {
    const base = {
      target: 'release/1.10',
      runId: 7,
      runUrl: 'https://github.com/acme/monolith/actions/runs/7',
      label: 'hotfix',
      productionWorkflow: 'production.yml',
      repository: 'acme/monolith'
    }
    const healthy = hotfixComment({
      ...base,
      status: 'healthy',
      detail: 'staging is healthy',
      productionUrl:
        'https://github.com/acme/monolith/actions/workflows/production.yml'
    })
    expect(healthy).toContain(
      "gh workflow run 'production.yml' --repo 'acme/monolith' --ref 'release/1.10' -f staging-run-id=7"
    )
    const failed = hotfixComment({
      ...base,
      status: 'unhealthy',
      detail: 'the staging run ended with failure'
    })
    expect(failed).not.toContain('gh workflow run')
  })
})
