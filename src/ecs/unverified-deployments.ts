/** Where each flavor got to when a run stopped without a verdict, in one reported state each, and the rollback of those left unverified. */
import * as core from '@actions/core'
import { UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs'
import { errorMessage } from '../common/errors.js'
import { readJsonState } from '../common/step-state.js'
import { createEcsClient } from './client.js'
import { markdownTable } from '../common/summary.js'
import type { FlavorOutcome } from './flavor-deploy.js'
import { systemClock } from '../common/clock.js'
import {
  POST_ROLLBACK_WAIT_SECONDS,
  waitForRollbacks,
  type RollbackState,
  type RollbackWaitDeps,
  type StartedRollback
} from './rollback-wait.js'

/** One flavor's record in the action's state, written as the main step goes. */
export interface FlavorProgress {
  flavor: string
  cluster: string
  service: string
  region: string
  stage: 'not-started' | 'revision-registered' | 'service-updated' | 'verdict'
  /** The verdict, once there is one (success, failed, rolled-back, …). */
  result?: string
  taskDefinitionArn?: string
  previousTaskDefinitionArn?: string
  deploymentId?: string
}

const FINAL = new Set(['success', 'failed', 'rolled-back', 'skipped'])

/** The record of each outcome: its stage follows what was written so far. */
export function progressOf(
  outcomes: readonly FlavorOutcome[]
): FlavorProgress[] {
  return outcomes.map((o) => {
    const stage: FlavorProgress['stage'] = FINAL.has(o.result)
      ? 'verdict'
      : o.changed
        ? 'service-updated'
        : o.revisionAfter !== o.revisionBefore
          ? 'revision-registered'
          : o.changes.length === 0
            ? 'verdict'
            : 'not-started'
    return {
      flavor: o.flavor,
      cluster: o.cluster,
      service: o.service,
      region: o.region,
      stage,
      ...(stage === 'verdict' && { result: o.result }),
      taskDefinitionArn: o.taskDefinitionArn,
      previousTaskDefinitionArn: o.previousTaskDefinitionArn,
      ...(o.deploymentId && { deploymentId: o.deploymentId })
    }
  })
}

/** The name of a task definition ARN: `family:revision`. */
function revisionName(arn: string | undefined): string {
  return arn?.split('/').pop() ?? '?'
}

/** One flavor's single reported state after an interrupted run. */
export interface UnverifiedReport {
  flavor: string
  state:
    | 'not verified'
    | 'rollback started'
    | 'rolled back'
    | 'rollback failed'
    | 'revision registered, service not updated'
    | 'not started'
    | 'verdict'
  text: string
  /** The rollback this post step started, to be waited on. */
  rollback?: StartedRollback & { what: string }
}

/**
 * Reports each flavor of an interrupted run; with `rollback`, puts the
 * previous task definition back on those whose service was updated but not
 * verified (the wait for them is `settleRollbacks`).
 */
export async function settleUnverified(
  progress: readonly FlavorProgress[],
  options: {
    rollback: boolean
    ecsFor: (region: string) => ECSClient
    log: (line: string) => void
  }
): Promise<UnverifiedReport[]> {
  return Promise.all(
    progress.map(async (p): Promise<UnverifiedReport> => {
      const what = `deployment ${p.deploymentId ?? '(not known)'} of ${p.taskDefinitionArn ? revisionName(p.taskDefinitionArn) : `service ${p.service}`}`
      switch (p.stage) {
        case 'verdict':
          return { flavor: p.flavor, state: 'verdict', text: p.result ?? '' }
        case 'not-started':
          return { flavor: p.flavor, state: 'not started', text: 'unchanged' }
        case 'revision-registered':
          return {
            flavor: p.flavor,
            state: 'revision registered, service not updated',
            text: `${revisionName(p.taskDefinitionArn)} registered; the service still runs ${revisionName(p.previousTaskDefinitionArn)}`
          }
      }
      if (!options.rollback || !p.previousTaskDefinitionArn) {
        return {
          flavor: p.flavor,
          state: 'not verified',
          text: `${what} not verified; the service is left on it`
        }
      }
      try {
        const out = await options.ecsFor(p.region).send(
          new UpdateServiceCommand({
            cluster: p.cluster,
            service: p.service,
            taskDefinition: p.previousTaskDefinitionArn
          })
        )
        const back = out.service?.deployments?.find(
          (d) => d.status === 'PRIMARY'
        )?.id
        options.log(`${p.flavor}: rolling back, deployment ${back ?? '?'}`)
        return {
          flavor: p.flavor,
          state: 'rollback started',
          text: `${what} not verified; rollback to ${revisionName(p.previousTaskDefinitionArn)} started (deployment ${back ?? '?'}, not waited on)`,
          rollback: {
            flavor: p.flavor,
            region: p.region,
            cluster: p.cluster,
            service: p.service,
            ...(back && { deploymentId: back }),
            taskDefinitionArn: p.previousTaskDefinitionArn,
            what
          }
        }
      } catch (error) {
        return {
          flavor: p.flavor,
          state: 'rollback failed',
          text: `${what} not verified; rollback to ${revisionName(p.previousTaskDefinitionArn)} failed: ${errorMessage(error)}`
        }
      }
    })
  )
}

/** A started rollback's report once the wait has ended. */
function afterWait(
  report: UnverifiedReport,
  waited: RollbackState | undefined
): UnverifiedReport {
  const r = report.rollback
  if (!r || !waited) return report
  const to = revisionName(r.taskDefinitionArn)
  const id = r.deploymentId ?? '?'
  switch (waited.state) {
    case 'healthy':
      return {
        flavor: report.flavor,
        state: 'rolled back',
        text: `${r.what} not verified; rolled back to ${to}, healthy after ${waited.seconds} s (deployment ${id})`
      }
    case 'failed':
      return {
        flavor: report.flavor,
        state: 'rollback failed',
        text: `${r.what} not verified; rollback to ${to} failed (deployment ${id}): ${waited.reason}`
      }
    default:
      return {
        flavor: report.flavor,
        state: 'rollback started',
        text: `${r.what} not verified; rollback to ${to} started (deployment ${id}), not healthy after ${waited.seconds} s: ${waited.detail}`
      }
  }
}

/**
 * Waits, within the post step's budget, for the rollbacks `settleUnverified`
 * started, and turns each into its final reported state.
 */
export async function settleRollbacks(
  reports: readonly UnverifiedReport[],
  deps: RollbackWaitDeps
): Promise<UnverifiedReport[]> {
  const started = reports.flatMap((r) => (r.rollback ? [r.rollback] : []))
  if (started.length === 0) return [...reports]
  deps.log(
    `Waiting up to ${deps.budgetSeconds} s for the rollback of ${started.map((r) => r.flavor).join(', ')}`
  )
  const waited = await waitForRollbacks(started, deps)
  return reports.map((r) => afterWait(r, waited.get(r.flavor)))
}

/** The post step's summary: a table with each flavor's one state. */
export function renderUnverified(
  title: string,
  reports: readonly UnverifiedReport[],
  interruptedBy: string
): string {
  return [
    `## ${title} — not verified`,
    `The run stopped before a verdict (${interruptedBy}). What each flavor was left in:`,
    markdownTable(
      ['Flavor', 'State', 'Detail'],
      reports.map((r) => [r.flavor, r.state, r.text])
    )
  ].join('\n\n')
}

/** The error annotation: every flavor that is not in a known final state. */
export function unverifiedError(
  title: string,
  reports: readonly UnverifiedReport[]
): string {
  const open = reports.filter((r) => r.state !== 'verdict')
  return `${title} not verified: ${open.map((r) => `${r.flavor}: ${r.text}`).join('; ')}`
}

/**
 * The whole post step of an action that follows deployments: reads what the
 * main step recorded and, when it saved no verdict, settles each flavor,
 * writes the summary and fails. Returns quietly when there is nothing to say.
 */
export async function reportInterruptedRun(
  title: string,
  options: {
    rollback: boolean
    callTimeoutSeconds?: number
    /** Seconds between reads while rollbacks are waited on. */
    pollSeconds?: number
  }
): Promise<void> {
  const progress = readJsonState<FlavorProgress[]>('flavors')
  if (!progress || core.getState('verdict')) return
  const clients: ECSClient[] = []
  const ecsFor = (region: string): ECSClient => {
    const client = createEcsClient(region, options.callTimeoutSeconds)
    clients.push(client)
    return client
  }
  const log = (line: string): void => core.info(line)
  let reports: UnverifiedReport[]
  try {
    reports = await settleRollbacks(
      await settleUnverified(progress, {
        rollback: options.rollback,
        ecsFor,
        log
      }),
      {
        ecsFor,
        clock: systemClock,
        log,
        budgetSeconds: POST_ROLLBACK_WAIT_SECONDS,
        pollSeconds: options.pollSeconds ?? 5
      }
    )
  } finally {
    for (const client of clients) client.destroy()
  }
  const by = core.getState('interrupted')
  await core.summary
    .addRaw(
      renderUnverified(
        title,
        reports,
        by ? `interrupted by ${by}` : 'the main step was stopped'
      ) + '\n'
    )
    .write()
  throw new Error(unverifiedError(title, reports))
}
