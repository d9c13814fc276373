// Why this module: the summary's parts about the steps around the rollout
// (pre-deploy task, revision clean-up), kept apart from the flavor table.
import { markdownTable } from '../common/summary.js'
import type { PreDeployMode } from '../ecs/pre-deploy-step.js'
import type { PreDeployOutcome } from '../ecs/pre-deploy-task.js'
import type { FamilyCleanup } from '../ecs/revision-cleanup.js'

/** One line on the pre-deploy task, for the aftermath and the error. */
export function preDeployLine(o: PreDeployOutcome): string {
  const what = `Pre-deploy task (${o.flavor}${o.command ? `: ${o.command.join(' ')}` : ''})`
  switch (o.status) {
    case 'succeeded':
      return `${what} exited 0${o.durationSeconds !== undefined ? ` after ${o.durationSeconds}s` : ''}.`
    case 'skipped':
      return `${what} not run: ${o.reason ?? 'skipped'}.`
    case 'would-run':
      return `${what} would run on ${o.taskDefinitionArn ?? 'the new revision'} before the rollout.`
    case 'failed':
      return `${what} failed, so nothing was rolled out: ${o.reason ?? 'unknown'}${o.logStream ? `. Log stream: ${o.logGroup ? `${o.logGroup} ` : ''}${o.logStream}` : ''}.`
  }
}

/** The pre-deploy section: the line, then the task's own words when it ran. */
export function preDeploySection(o: PreDeployOutcome): string {
  const parts = [`### Pre-deploy task\n\n${preDeployLine(o)}`]
  if (o.taskArn) {
    parts.push(
      markdownTable(
        ['Field', 'Value'],
        [
          ['Task', o.taskArn],
          ['Task definition', o.taskDefinitionArn ?? ''],
          ['Stop code', o.stopCode ?? ''],
          ['Stopped reason', o.stoppedReason ?? ''],
          [`Exit code (${o.container})`, o.exitCode ?? ''],
          ['Container reason', o.containerReason ?? ''],
          ['Log group', o.logGroup ?? ''],
          ['Log stream', o.logStream ?? '(no awslogs stream prefix)']
        ]
      )
    )
  }
  return parts.join('\n\n')
}

/** The plan's line when the services were not read (read-current: false). */
export function plannedPreDeploy(
  target: { spec: { flavor: string; command?: string[] } },
  mode: PreDeployMode
): string {
  const { flavor, command } = target.spec
  const what = `Pre-deploy task: ${flavor}'s new revision${command ? ` runs \`${command.join(' ')}\`` : ''} before the rollout`
  return mode === 'skip'
    ? `${what}; not this time (pre-deploy: skip).\n`
    : `${what} (pre-deploy: ${mode}${mode === 'auto' ? ', unless its service already runs the image' : ''}).\n`
}

/** What keep-revisions did, one row per family. */
export function cleanupSection(cleanup: FamilyCleanup[]): string {
  if (cleanup.length === 0) return ''
  const short = (arns: string[]): string =>
    arns.map((a) => a.split('/').pop() ?? a).join(', ')
  return `### Old revisions\n\n${markdownTable(
    ['Family', 'Deregistered', 'Deleted', 'Kept (in use)', 'Errors'],
    cleanup.map((c) => [
      c.family,
      short(c.deregistered),
      short(c.deleted),
      short(c.inUse),
      c.errors.join('; ')
    ])
  )}`
}
