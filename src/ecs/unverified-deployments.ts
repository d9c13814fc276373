/** Where each flavor got to when a run stopped without a verdict, in one reported state each, and the rollback of those left unverified. */
import * as core from '@actions/core'
import { UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs'
import { errorMessage } from '../common/errors.js'
import { readJsonState } from '../common/step-state.js'
import { createEcsClient } from './client.js'
import { markdownTable } from '../common/summary.js'
import type { FlavorOutcome } from './flavor-deploy.js'

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
    | 'rollback failed'
    | 'revision registered, service not updated'
    | 'not started'
    | 'verdict'
  text: string
}

/**
 * Reports each flavor of an interrupted run; with `rollback`, puts the
 * previous task definition back on those whose service was updated but not
 * verified (without waiting: the job is being cancelled).
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
          text: `${what} not verified; rollback to ${revisionName(p.previousTaskDefinitionArn)} started (deployment ${back ?? '?'}, not waited on)`
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
  options: { rollback: boolean; callTimeoutSeconds?: number }
): Promise<void> {
  const progress = readJsonState<FlavorProgress[]>('flavors')
  if (!progress || core.getState('verdict')) return
  const clients: ECSClient[] = []
  const reports = await settleUnverified(progress, {
    rollback: options.rollback,
    ecsFor: (region) => {
      const client = createEcsClient(region, options.callTimeoutSeconds)
      clients.push(client)
      return client
    },
    log: (line) => core.info(line)
  })
  for (const client of clients) client.destroy()
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
