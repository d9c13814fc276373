import { codeBlock, details, markdownTable } from '../common/summary.js'
import type { DeployReport, FlavorOutcome } from '../ecs/flavor-deploy.js'
import { formatChanges } from '../ecs/task-definition-diff.js'
import {
  cleanupSection,
  preDeployLine,
  preDeploySection
} from './rollout-summary.js'

function revision(o: FlavorOutcome): string {
  if (o.revisionBefore === undefined) return ''
  return o.revisionAfter !== undefined && o.revisionAfter !== o.revisionBefore
    ? `${o.revisionBefore} → ${o.revisionAfter}`
    : String(o.revisionBefore)
}

function rollbackText(o: FlavorOutcome): string {
  if (!o.rollback) return ''
  const who =
    o.rollback.by === 'circuit-breaker'
      ? 'by circuit breaker, '
      : o.rollback.by === 'ecs'
        ? 'by ECS, '
        : o.rollback.method === 'stop-service-deployment'
          ? 'via StopServiceDeployment(ROLLBACK), '
          : o.rollback.method === 'update-service'
            ? 'via UpdateService, '
            : ''
  return `${who}${o.rollback.result}${o.rollback.reason ? `: ${o.rollback.reason}` : ''}`
}

/**
 * One paragraph that says exactly what this run left changed and what it
 * put back, so a failed release is never half-deployed without a word.
 */
export function aftermath(report: DeployReport): string {
  const lines: string[] = []
  if (report.blockedBy) lines.push(report.blockedBy)
  if (report.preDeploy?.status === 'failed') {
    lines.push(preDeployLine(report.preDeploy))
  }
  const failed = report.flavors.filter((o) => o.result === 'failed')
  for (const o of failed) {
    lines.push(`${o.flavor} failed: ${o.error ?? 'unknown error'}`)
  }
  const changed = report.flavors.filter((o) => o.changed)
  if (report.result === 'failed') {
    lines.push(
      changed.length === 0
        ? 'No service was changed.'
        : `Changed by this run: ${changed.map((o) => o.flavor).join(', ')}.`
    )
    const back = changed.filter((o) => o.rollback)
    if (back.length > 0) {
      lines.push(
        `Rolled back to the previous task definition: ${back.map((o) => `${o.flavor} (${rollbackText(o)})`).join(', ')}.`
      )
    }
    const stayed = changed.filter((o) => !o.rolledBack)
    if (stayed.length > 0) {
      lines.push(
        `Still on the new task definition: ${stayed.map((o) => `${o.flavor} (${o.taskDefinitionArn ?? '?'})`).join(', ')}.`
      )
    }
    const skipped = report.flavors.filter((o) => o.result === 'skipped')
    if (skipped.length > 0) {
      lines.push(`Not deployed: ${skipped.map((o) => o.flavor).join(', ')}.`)
    }
  }
  return lines.join('\n')
}

/** The job summary: a table of flavors, then what failed and was put back. */
export function renderSummary(
  report: DeployReport,
  image: string,
  environment?: string
): string {
  const title = `## Deploy ${environment ? `to ${environment} ` : ''}— ${report.result}`
  const table = markdownTable(
    [
      'Flavor',
      'Service',
      'Image before',
      'Image after',
      'Revision',
      'Result',
      'Rolled back',
      'Wave'
    ],
    report.flavors.map((o) => [
      o.flavor,
      `[${o.service}](${o.consoleUrl})`,
      o.imageBefore ?? '',
      o.changed || o.result === 'would-change' ? o.imageAfter : '(unchanged)',
      revision(o),
      o.result,
      rollbackText(o) || (o.changed ? 'no' : ''),
      o.wave
    ])
  )
  const parts = [title, `Image: \`${image}\``, table]
  const after = aftermath(report)
  if (after) parts.push(after.split('\n').join('\n\n'))
  if (report.preDeploy) parts.push(preDeploySection(report.preDeploy))
  if (report.cleanup?.length) parts.push(cleanupSection(report.cleanup))
  if (report.result === 'dry-run') {
    for (const o of report.flavors) {
      if (o.changes.length > 0) {
        parts.push(
          details(
            `${o.flavor}: ${o.changes.length} field(s) would change`,
            codeBlock(formatChanges(o.changes), 'diff')
          )
        )
      }
    }
  }
  for (const o of report.flavors) {
    if (o.watch && o.watch.timeline.length > 0 && o.result !== 'success') {
      parts.push(
        details(
          `${o.flavor}: what the watch saw`,
          codeBlock(
            o.watch.timeline.map((t) => `+${t.atSeconds}s ${t.text}`).join('\n')
          )
        )
      )
    }
  }
  return parts.join('\n\n') + '\n'
}
