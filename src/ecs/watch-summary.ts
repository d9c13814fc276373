import { formatDuration } from '../common/duration.js'
import { codeBlock, details, markdownTable } from '../common/summary.js'
import { serviceConsoleUrl } from './client.js'
import type {
  FailureCategory,
  StoppedTaskReport,
  WatchResult
} from './types.js'

/** The verdict over several services: the worst of them. */
export interface OverallVerdict {
  result: WatchResult['result']
  failureCategory?: FailureCategory
  failureReason?: string
  durationSeconds: number
  stoppedTasks: (StoppedTaskReport & { service: string })[]
}

/** Failed beats timeout beats healthy; the first failure names the cause. */
export function overallVerdict(
  results: readonly WatchResult[]
): OverallVerdict {
  const failed = results.find((r) => r.result === 'failed')
  const timedOut = results.find((r) => r.result === 'timeout')
  const worst = failed ?? timedOut
  return {
    result: worst?.result ?? 'healthy',
    failureCategory: worst?.failureCategory,
    failureReason: worst
      ? results
          .filter((r) => r.result !== 'healthy')
          .map((r) => `${r.service}: ${r.failureReason ?? r.result}`)
          .join('; ')
      : undefined,
    durationSeconds: Math.max(0, ...results.map((r) => r.durationSeconds)),
    stoppedTasks: results.flatMap((r) =>
      r.stoppedTasks.map((t) => ({ service: r.service, ...t }))
    )
  }
}

const ICON: Record<WatchResult['result'], string> = {
  healthy: '✅',
  failed: '❌',
  timeout: '⏱️'
}

function exitCodes(task: StoppedTaskReport): string {
  return task.containers
    .filter((c) => c.exitCode !== undefined || c.reason)
    .map(
      (c) =>
        `${c.name}${c.exitCode !== undefined ? ` exit ${c.exitCode}` : ''}${c.reason ? `: ${c.reason}` : ''}${c.memoryLimit ? ` (limit ${c.memoryLimit} MiB)` : ''}`
    )
    .join('; ')
}

/**
 * The job summary of a watch: verdict, one row per service with a console
 * link, the stopped tasks with reasons and exit codes, and each timeline.
 */
export function renderWatchSummary(
  results: readonly WatchResult[],
  region: string
): string {
  const verdict = overallVerdict(results)
  const parts = [
    `## ${ICON[verdict.result]} wait-healthy: ${verdict.result}${verdict.failureCategory ? ` (${verdict.failureCategory})` : ''}`
  ]
  if (verdict.failureReason) parts.push(`> ${verdict.failureReason}`)
  parts.push(
    markdownTable(
      ['Service', 'Result', 'Cause', 'Duration', 'Stopped tasks', 'Console'],
      results.map((r) => [
        r.service,
        `${ICON[r.result]} ${r.result}`,
        r.failureCategory ?? '',
        formatDuration(r.durationSeconds),
        r.stoppedTasks.length,
        region
          ? `[${r.cluster.split('/').pop()}/${r.service}](${serviceConsoleUrl(region, r.cluster, r.service)})`
          : ''
      ])
    )
  )
  if (verdict.stoppedTasks.length > 0) {
    parts.push(
      '### Stopped tasks',
      markdownTable(
        ['Service', 'Task', 'Cause', 'Stop code', 'Reason', 'Containers'],
        verdict.stoppedTasks.map((t) => [
          t.service,
          t.taskArn.split('/').pop(),
          t.category ?? '',
          t.stopCode ?? '',
          t.stoppedReason ?? '',
          exitCodes(t)
        ])
      )
    )
  }
  parts.push('### Timeline')
  for (const r of results) {
    const lines = r.timeline.map(
      (x) => `+${formatDuration(x.atSeconds).padStart(6)}  ${x.text}`
    )
    parts.push(
      details(
        `${r.service} (${r.deploymentId ?? 'no deployment'})`,
        codeBlock(lines.join('\n') || '(nothing happened)')
      )
    )
  }
  return parts.join('\n\n') + '\n'
}
