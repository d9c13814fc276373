import { describe, expect, it } from '@jest/globals'
import { actionsCommandRunner } from '../../src/common/command-runner.js'
import { Git } from '../../src/git/git.js'
import {
  branchMatcher,
  compareVersionAware,
  globPrefix,
  isValidBranchName,
  newestBranch
} from '../../src/git/release-branch.js'

describe('newestBranch', () => {
  it('orders versions by number, not by text', () => {
    expect(
      newestBranch(['release/1.9', 'release/1.10', 'release/1.2'], 'release/*')
    ).toBe('release/1.10')
  })

  it('orders dated branches by date', () => {
    expect(
      newestBranch(
        ['release/2026-06-30', 'release/2026-07-01', 'release/2025-12-31'],
        'release/*'
      )
    ).toBe('release/2026-07-01')
  })

  it('ignores branches outside the pattern, including deeper paths', () => {
    expect(
      newestBranch(
        ['release/1.2', 'release/9.0/hotfix', 'main', 'releases/5.0'],
        'release/*'
      )
    ).toBe('release/1.2')
  })

  it('returns undefined when nothing matches', () => {
    expect(newestBranch(['main', 'develop'], 'release/*')).toBeUndefined()
  })

  it('sorts a version before its longer pre-release spelling, and below the next version', () => {
    expect(compareVersionAware('v2.0', 'v2.0-rc1')).toBeLessThan(0)
    expect(compareVersionAware('v2.1', 'v2.0-rc1')).toBeGreaterThan(0)
    expect(compareVersionAware('release/10.0', 'release/9.99')).toBeGreaterThan(
      0
    )
  })
})

describe('branch globs', () => {
  it.each([
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/1.2/x', false],
    ['release/**', 'release/1.2/x', true],
    ['v?.x', 'v1.x', true],
    ['v?.x', 'v10.x', false],
    ['release/1.+', 'release/1.+', true],
    ['release/1.+', 'release/11', false],
    // `[` is a character class, as in workflow branch filters.
    ['release/[0-9]*', 'release/1.2', true],
    ['release/[0-9]*', 'release/x', false],
    ['release/{1,2}.*', 'release/2.0', true],
    ['release/*', 'production', false],
    ['release/*', 'release/$(touch${IFS}pwned)', true]
  ])('%s matches %s: %s', (pattern, name, expected) => {
    expect(branchMatcher(pattern)(name)).toBe(expected)
  })

  it.each([
    ['release/*', 'release/'],
    ['release/v*', 'release/'],
    ['release/[0-9]*', 'release/'],
    ['*', ''],
    ['stable', ''],
    ['release/1.9', 'release/']
  ])('queries refs under the literal prefix of %s', (pattern, prefix) => {
    expect(globPrefix(pattern)).toBe(prefix)
  })
})

describe('isValidBranchName (real git check-ref-format)', () => {
  const git = new Git(process.cwd(), actionsCommandRunner)
  it.each([
    ['release/1.2', true],
    ['release/$(touch${IFS}pwned)', true],
    ['release/a b', false],
    ['-x', false],
    ['--upload-pack=evil', false],
    ['release/..', false],
    ['@{-1}', false],
    ['release/x.lock', false],
    ['', false]
  ])('%s: %s', async (name, expected) => {
    expect(await isValidBranchName(git, name)).toBe(expected)
  })
})
