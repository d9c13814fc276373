// Why this module: the summary reviewers read before they approve a
// production deploy; it must show everything the approval lets go out.
import { markdownTable } from '../common/summary.js'
import type { DeployFlavor } from '../ecs/flavor-manifest.js'
import type { ReleasedPullRequest } from '../github/release-pull-requests.js'
import type { Release } from './promotion.js'

/** The flavors of each wave, in the order they go out. */
export function wavesOf(
  flavors: DeployFlavor[]
): { wave: number; flavors: string[] }[] {
  const together = flavors.every((f) => f.rollout === 'all-at-once')
  const waves = new Map<number, string[]>()
  for (const f of flavors) {
    const wave = together ? 1 : f.wave
    waves.set(wave, [...(waves.get(wave) ?? []), f.name])
  }
  return [...waves.entries()]
    .sort(([a], [b]) => a - b)
    .map(([wave, names]) => ({ wave, flavors: names }))
}

/** What the plan knows about the pull requests of the release. */
export type PullRequestsSeen =
  | { kind: 'listed'; previousCommit: string; pulls: ReleasedPullRequest[] }
  | { kind: 'unknown'; why: string }

/** The head of the plan: what goes out, from where, in which order. */
export function renderPlan(
  release: Release,
  flavors: DeployFlavor[],
  pullRequests: PullRequestsSeen,
  environment?: string
): string {
  const parts = [`## Plan${environment ? ` for ${environment}` : ''}`]
  parts.push(`Image: \`${release.image}\``)
  parts.push(
    `Commit: ${release.commit ? `\`${release.commit}\`` : '(none recorded)'}`
  )
  if (release.stagingRun) {
    const run = release.stagingRun
    parts.push(
      `Passed staging in [run ${run.id}](${run.htmlUrl}) (${run.event} on ${run.headBranch}, ${run.conclusion})`
    )
  }
  parts.push(
    markdownTable(
      ['Wave', 'Flavors'],
      wavesOf(flavors).map((w) => [w.wave, w.flavors.join(', ')])
    )
  )
  if (pullRequests.kind === 'unknown') {
    parts.push(
      `Pull requests of this release: not listed (${pullRequests.why}).`
    )
  } else if (pullRequests.pulls.length === 0) {
    parts.push(
      `Pull requests of this release: none since \`${pullRequests.previousCommit}\`.`
    )
  } else {
    parts.push(
      `Pull requests this release brings (since \`${pullRequests.previousCommit}\`):`
    )
    parts.push(
      markdownTable(
        ['Pull request', 'Title', 'Author'],
        pullRequests.pulls.map((p) => [
          `[#${p.number}](${p.url})`,
          p.title.replace(/[<>&[\]`*_]/g, (c) => `&#${c.charCodeAt(0)};`),
          p.author ?? ''
        ])
      )
    )
  }
  return parts.join('\n\n') + '\n'
}
