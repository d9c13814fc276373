/** Registering a flavor's new task definition revision, once per run. */
import {
  RegisterTaskDefinitionCommand,
  type ECSClient,
  type Tag
} from '@aws-sdk/client-ecs'
import type { FlavorPlan } from './flavor-plan.js'
import type { RateLimiter } from './rate-limiter.js'

/** The tag that ties a revision to the commit it was built from. */
export const COMMIT_TAG = 'release-train:commit'

/** Our tags replace same-keyed old ones; every other tag is kept. */
export function mergeTags(existing: Tag[], ours: Tag[]): Tag[] {
  const keys = new Set(ours.map((t) => t.key))
  return [...existing.filter((t) => !keys.has(t.key)), ...ours]
}

/**
 * The plan's new revision: registered now (paced by `limiter`), or the one
 * an earlier step of this run registered (the pre-deploy task's), so a
 * flavor never gets two identical revisions from one run.
 */
export async function registerRevision(
  plan: FlavorPlan,
  tags: Tag[],
  ecs: ECSClient,
  limiter: RateLimiter
): Promise<{ taskDefinitionArn?: string; revision?: number }> {
  if (plan.registered) return plan.registered
  await limiter.take()
  const response = await ecs.send(
    new RegisterTaskDefinitionCommand({
      ...plan.rendered,
      tags: mergeTags(plan.currentTags, tags)
    } as ConstructorParameters<typeof RegisterTaskDefinitionCommand>[0])
  )
  const td = response.taskDefinition
  plan.registered = {
    taskDefinitionArn: td?.taskDefinitionArn,
    revision: td?.revision
  }
  return plan.registered
}
