import { formatDuration } from '../common/duration.js'
import { codeBlock, details, markdownTable } from '../common/summary.js'
import type { BuilderShortfalls } from './builder-shortfalls.js'
import type { CacheBackend } from './cache-plan.js'
import type { PackageChange } from './packages.js'
import type { StepReport } from './rawjson-progress.js'

/** What happened to the cache mounts around the build. */
export interface MountCacheOutcome {
  ids: string[]
  key?: string
  /** Prefixes tried when the exact key is absent. */
  restoreKeys?: string[]
  files: string[]
  /** `restored <key>`, `skipped: ...`, `miss`, `failed: ...`. */
  restore: string
  /** `saved`, `skipped: ...`, `failed: ...`. */
  save: string
}

/** Everything the job summary shows. */
export interface BuildSummary {
  image: string
  digest?: string
  tags: string[]
  durationSeconds: number
  backend: CacheBackend
  cacheFrom: string[]
  /** `written`, `skipped: ...`, `failed: ...` or `none`. */
  cacheExport: string
  report: StepReport
  mounts?: MountCacheOutcome[]
  packages?: {
    compareTo: string
    changes: PackageChange[]
    blocked: PackageChange[]
  }
  warnings: string[]
  /** What the builder could not give, and how to get it back. */
  shortfalls?: BuilderShortfalls
  /** Seconds per phase of the action, in order. */
  timings?: [string, number][]
  /** Whether shared caches were written, and what decided it. */
  cacheWrite?: { write: boolean; reason: string }
}

/** Hides credentials that cache specs carry (`token=...`). */
export function redactCacheSpec(spec: string): string {
  return spec.replace(/(token|secret|password)=[^,]*/gi, '$1=***')
}

function version(value?: string): string {
  return value ?? '—'
}

/** The job summary, as Markdown. */
export function renderSummary(summary: BuildSummary): string {
  const { report } = summary
  const parts: string[] = ['## build-cached-image']
  parts.push(
    markdownTable(
      ['Image', 'Digest', 'Duration', 'Cached steps', 'Layer cache'],
      [
        [
          summary.image,
          summary.digest ?? '—',
          formatDuration(summary.durationSeconds),
          `${report.cachedSteps}/${report.totalSteps} (${Math.round(report.hitRatio * 100)}%)`,
          `${summary.backend}, export ${summary.cacheExport}`
        ]
      ]
    )
  )
  parts.push(
    report.firstMiss
      ? `First step that missed the cache: \`${report.firstMiss.name}\``
      : report.totalSteps
        ? 'Every step was cached.'
        : 'No Dockerfile steps were reported.'
  )
  if (summary.cacheWrite) {
    parts.push(
      `Cache writes: **${summary.cacheWrite.write ? 'on' : 'off'}**, ${summary.cacheWrite.reason}.`
    )
  }
  if (summary.warnings.length) {
    parts.push(summary.warnings.map((w) => `> [!WARNING]\n> ${w}`).join('\n\n'))
  }
  if (summary.shortfalls) {
    parts.push(
      '### Given up on this Docker set-up',
      markdownTable(
        ['Wanted', 'Got instead'],
        summary.shortfalls.items.map((s) => [s.wanted, s.instead])
      ),
      `To get it back, ${summary.shortfalls.remedy}.`
    )
  }
  parts.push(
    '### Steps',
    markdownTable(
      ['#', 'Step', 'Cache', 'Duration'],
      report.steps.map((step, i) => [
        i + 1,
        step.name,
        step.error ? 'FAILED' : step.cached ? 'CACHED' : 'ran',
        step.cached || step.durationSeconds === undefined
          ? ''
          : `${step.durationSeconds.toFixed(1)}s`
      ])
    )
  )
  if (summary.mounts?.length) {
    const mounts = summary.mounts
    parts.push(
      '### Cache mounts',
      markdownTable(
        ['Mounts', 'Key', 'Restore', 'Save', 'Key derived from'],
        mounts.map((m) => [
          m.ids.join(', '),
          m.key ?? '—',
          m.restore,
          m.save,
          m.files.map((f) => `\`${f}\``).join(', ')
        ])
      )
    )
  }
  if (summary.packages) {
    const { changes, blocked, compareTo } = summary.packages
    const blockedSet = new Set(blocked)
    parts.push(`### Package changes since \`${compareTo}\``)
    parts.push(
      changes.length
        ? markdownTable(
            ['Kind', 'Package', 'Change', 'Before', 'After', 'Blocked'],
            changes.map((c) => [
              c.kind,
              c.name,
              c.change,
              version(c.before),
              version(c.after),
              blockedSet.has(c) ? 'yes' : ''
            ])
          )
        : 'No package was added, removed or changed.'
    )
  }
  if (summary.timings?.length) {
    parts.push(
      details(
        'Where the time went',
        markdownTable(
          ['Phase', 'Seconds'],
          summary.timings.map(([phase, seconds]) => [phase, seconds.toFixed(1)])
        )
      )
    )
  }
  parts.push(
    details(
      'Cache sources',
      codeBlock(summary.cacheFrom.map(redactCacheSpec).join('\n') || '(none)')
    )
  )
  return parts.filter((p) => p !== '').join('\n\n') + '\n'
}
