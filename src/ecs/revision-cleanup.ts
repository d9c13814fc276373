/**
 * keep-revisions: after a healthy deploy, deregister the revisions of each
 * deployed family older than the newest N, never one that a service of the
 * cluster still uses or that a flavor would roll back to; optionally delete
 * the INACTIVE ones.
 */
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  type ECSClient,
  type TaskDefinitionStatus
} from '@aws-sdk/client-ecs'
import { errorMessage } from '../common/errors.js'
import { EcsReader } from './ecs-reader.js'
import { groupBy } from './flavor-plan.js'
import type { RateLimiter } from './rate-limiter.js'

export interface CleanupOptions {
  /** Newest ACTIVE revisions kept per family (at least 1). */
  keep: number
  /** Also DeleteTaskDefinitions on the family's INACTIVE revisions. */
  delete: boolean
}

/** What clean-up did to one family. */
export interface FamilyCleanup {
  family: string
  region: string
  /** ACTIVE revisions kept because a service or a rollback uses them. */
  inUse: string[]
  deregistered: string[]
  deleted: string[]
  errors: string[]
}

/** One deployed flavor as clean-up sees it. */
export interface CleanupTarget {
  region: string
  cluster: string
  /** The revision it runs now. */
  taskDefinitionArn?: string
  /** The revision a rollback would return to. */
  previousTaskDefinitionArn?: string
}

export interface CleanupDeps {
  ecsFor: (region: string) => ECSClient
  log: (line: string) => void
  /** Task-definition writes share ECS's 1/s bucket with registrations. */
  writes: RateLimiter
}

/** ECS takes at most 10 task definitions per DeleteTaskDefinitions. */
const DELETE_BATCH = 10

/** `arn:...:task-definition/web:12` → `web`. */
export function familyOf(arn: string): string {
  return (arn.split(':task-definition/')[1] ?? arn).replace(/:\d+$/, '')
}

function revisionOf(arn: string): number {
  return Number(/:(\d+)$/.exec(arn)?.[1] ?? 0)
}

async function listRevisions(
  ecs: ECSClient,
  family: string,
  status: TaskDefinitionStatus
): Promise<string[]> {
  const arns: string[] = []
  let nextToken: string | undefined
  do {
    const page = await ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: family,
        status,
        sort: 'DESC',
        nextToken
      })
    )
    arns.push(...(page.taskDefinitionArns ?? []))
    nextToken = page.nextToken
  } while (nextToken)
  // familyPrefix is the full family name; the check guards against a prefix match.
  return arns
    .filter((arn) => familyOf(arn) === family)
    .sort((a, b) => revisionOf(b) - revisionOf(a))
}

/** Every revision a service of these clusters runs or is deploying. */
async function revisionsInUse(
  ecs: ECSClient,
  clusters: string[]
): Promise<Set<string>> {
  const used = new Set<string>()
  const reader = new EcsReader(ecs)
  for (const cluster of clusters) {
    const names: string[] = []
    let nextToken: string | undefined
    do {
      const page = await ecs.send(
        new ListServicesCommand({ cluster, nextToken, maxResults: 100 })
      )
      names.push(...(page.serviceArns ?? []))
      nextToken = page.nextToken
    } while (nextToken)
    if (names.length === 0) continue
    const { services } = await reader.describeServices(cluster, names)
    for (const s of services) {
      if (s.taskDefinition) used.add(s.taskDefinition)
      for (const d of s.deployments ?? []) {
        if (d.taskDefinition) used.add(d.taskDefinition)
      }
    }
  }
  return used
}

async function cleanFamily(
  ecs: ECSClient,
  result: FamilyCleanup,
  used: Set<string>,
  options: CleanupOptions,
  deps: CleanupDeps
): Promise<void> {
  const active = await listRevisions(ecs, result.family, 'ACTIVE')
  for (const arn of active.slice(options.keep)) {
    if (used.has(arn)) {
      result.inUse.push(arn)
      continue
    }
    await deps.writes.take()
    try {
      await ecs.send(
        new DeregisterTaskDefinitionCommand({ taskDefinition: arn })
      )
      result.deregistered.push(arn)
    } catch (error) {
      result.errors.push(
        `DeregisterTaskDefinition ${arn}: ${errorMessage(error)}`
      )
    }
  }
  if (!options.delete) return
  const inactive = (await listRevisions(ecs, result.family, 'INACTIVE')).filter(
    (arn) => !used.has(arn)
  )
  for (let i = 0; i < inactive.length; i += DELETE_BATCH) {
    await deps.writes.take()
    try {
      const out = await ecs.send(
        new DeleteTaskDefinitionsCommand({
          taskDefinitions: inactive.slice(i, i + DELETE_BATCH)
        })
      )
      for (const td of out.taskDefinitions ?? []) {
        if (td.taskDefinitionArn) result.deleted.push(td.taskDefinitionArn)
      }
      for (const f of out.failures ?? []) {
        result.errors.push(
          `DeleteTaskDefinitions ${f.arn ?? '?'}: ${f.reason ?? ''} ${f.detail ?? ''}`.trim()
        )
      }
    } catch (error) {
      result.errors.push(`DeleteTaskDefinitions: ${errorMessage(error)}`)
    }
  }
}

/**
 * Cleans every family the targets run. Errors are collected per family,
 * never thrown: clean-up must not turn a healthy deploy into a failed one.
 */
export async function cleanUpRevisions(
  targets: CleanupTarget[],
  options: CleanupOptions,
  deps: CleanupDeps
): Promise<FamilyCleanup[]> {
  const results: FamilyCleanup[] = []
  for (const [region, group] of groupBy(targets, (t) => t.region)) {
    const ecs = deps.ecsFor(region)
    let used: Set<string>
    try {
      used = await revisionsInUse(ecs, [
        ...new Set(group.map((t) => t.cluster))
      ])
    } catch (error) {
      deps.log(
        `keep-revisions: services could not be read (${errorMessage(error)}); nothing cleaned in ${region || 'the default region'}`
      )
      continue
    }
    for (const t of group) {
      if (t.taskDefinitionArn) used.add(t.taskDefinitionArn)
      if (t.previousTaskDefinitionArn) used.add(t.previousTaskDefinitionArn)
    }
    const families = new Set(
      group.flatMap((t) =>
        t.taskDefinitionArn ? [familyOf(t.taskDefinitionArn)] : []
      )
    )
    for (const family of families) {
      const result: FamilyCleanup = {
        family,
        region,
        inUse: [],
        deregistered: [],
        deleted: [],
        errors: []
      }
      try {
        await cleanFamily(ecs, result, used, options, deps)
      } catch (error) {
        result.errors.push(errorMessage(error))
      }
      deps.log(
        `keep-revisions ${family}: deregistered ${result.deregistered.length}, deleted ${result.deleted.length}, kept in use ${result.inUse.length}${result.errors.length ? `, ${result.errors.length} error(s): ${result.errors.join('; ')}` : ''}`
      )
      results.push(result)
    }
  }
  return results
}
