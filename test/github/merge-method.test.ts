import { describe, expect, it } from '@jest/globals'
import {
  CommitShape,
  resolveMergeMethod,
  selectCommits
} from '../../src/github/merge-method.js'

const commit = (
  sha: string,
  message: string,
  parents = ['p']
): CommitShape => ({
  sha,
  message,
  parents
})

describe('resolveMergeMethod and selectCommits', () => {
  const prCommits = [
    commit('h1', 'One'),
    commit('h2', 'Two'),
    commit('h3', 'Three')
  ]

  it('squash: one landed commit for N PR commits → pick the merge_commit_sha', () => {
    const landed = [
      commit('sq', 'Fix it (#4)'),
      commit('m1', 'Other'),
      commit('m2', 'Older')
    ]
    expect(resolveMergeMethod(landed, prCommits)).toBe('squash')
    expect(selectCommits('squash', landed, prCommits, 'commits')).toEqual({
      method: 'squash',
      shas: ['sq'],
      skippedMerges: []
    })
  })

  it('rebase: the last N first-parent commits carry the PR messages → pick them oldest first', () => {
    const landed = [
      commit('r3', 'Three'),
      commit('r2', 'Two'),
      commit('r1', 'One'),
      commit('m', 'Base')
    ]
    expect(resolveMergeMethod(landed, prCommits)).toBe('rebase')
    expect(selectCommits('rebase', landed, prCommits, 'commits').shas).toEqual([
      'r1',
      'r2',
      'r3'
    ])
  })

  it('merge commit: two parents → the PR commits, or the merge with -m 1', () => {
    const landed = [
      commit('mc', 'Merge pull request #4', ['m', 'h3']),
      commit('m', 'Base')
    ]
    expect(resolveMergeMethod(landed, prCommits)).toBe('merge')
    expect(selectCommits('merge', landed, prCommits, 'commits').shas).toEqual([
      'h1',
      'h2',
      'h3'
    ])
    expect(selectCommits('merge', landed, prCommits, 'mainline')).toEqual({
      method: 'merge',
      shas: ['mc'],
      mainline: 1,
      skippedMerges: []
    })
  })

  it('leaves merges of main into the PR branch out of a commit-by-commit pick', () => {
    const withMerge = [
      commit('h1', 'One'),
      commit('hm', 'Merge main', ['h1', 'x']),
      commit('h2', 'Two')
    ]
    const landed = [commit('mc', 'Merge', ['m', 'h2'])]
    expect(selectCommits('merge', landed, withMerge, 'commits')).toEqual({
      method: 'merge',
      shas: ['h1', 'h2'],
      skippedMerges: ['hm']
    })
    expect(
      selectCommits('merge', landed, withMerge, 'commits', 'pick')
    ).toEqual({
      method: 'merge',
      shas: ['h1', 'hm', 'h2'],
      mainlineShas: ['hm'],
      skippedMerges: []
    })
  })

  it('a one-commit PR is picked as the one landed commit', () => {
    const landed = [commit('one', 'Only')]
    expect(resolveMergeMethod(landed, [commit('h', 'Only')])).toBe('squash')
  })
})
