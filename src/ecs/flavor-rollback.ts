/** Rollback of what a deploy changed, the way each flavor's strategy wants it, and the watches that follow. */
import {
  StopServiceDeploymentCommand,
  UpdateServiceCommand
} from '@aws-sdk/client-ecs'
import { errorMessage } from '../common/errors.js'
import type {
  DeployDeps,
  DeployOptions,
  FlavorOutcome
} from './flavor-deploy.js'
import type { FlavorPlan } from './flavor-plan.js'
import { primaryDeploymentId, watchByRegion } from './flavor-watch.js'

/** Service deployment statuses StopServiceDeployment(ROLLBACK) accepts. */
const STOPPABLE = ['PENDING', 'IN_PROGRESS']

/**
 * A service deployment still under way goes back through ECS's own
 * rollback, StopServiceDeployment(ROLLBACK): for blue/green, linear and
 * canary the blue fleet takes the traffic again instead of a new full
 * cycle. A finished one (or no service deployment to read) goes back by
 * UpdateService to the previous task definition.
 */
async function putBack(o: FlavorOutcome, deps: DeployDeps): Promise<void> {
  const ecs = deps.ecsFor(o.region)
  const sd = o.watch?.serviceDeployment
  if (sd?.arn && STOPPABLE.includes(sd.status ?? '')) {
    try {
      await ecs.send(
        new StopServiceDeploymentCommand({
          serviceDeploymentArn: sd.arn,
          stopType: 'ROLLBACK'
        })
      )
      o.rolledBack = true
      o.rollback = {
        by: 'action',
        method: 'stop-service-deployment',
        result: 'not-waited'
      }
      if (o.result !== 'failed') o.result = 'rolled-back'
      return
    } catch (error) {
      // Finished meanwhile (ConflictException): a new rollout is the way back.
      deps.log(
        `${o.flavor}: StopServiceDeployment refused (${errorMessage(error)}); rolling back by UpdateService`
      )
    }
  }
  try {
    const response = await ecs.send(
      new UpdateServiceCommand({
        cluster: o.cluster,
        service: o.service,
        taskDefinition: o.previousTaskDefinitionArn
      })
    )
    o.rolledBack = true
    o.rollback = {
      by: 'action',
      method: 'update-service',
      deploymentId: primaryDeploymentId(response.service),
      result: 'not-waited'
    }
    if (o.result !== 'failed') o.result = 'rolled-back'
  } catch (error) {
    o.rollback = {
      by: 'action',
      method: 'update-service',
      result: 'error',
      reason: errorMessage(error)
    }
  }
}

/**
 * Puts the previous task definition back on the flavors this call changed
 * (all, the failing wave's, or only the failed ones) and waits until that
 * is stable. A deployment ECS already reverted (circuit breaker, alarms, a
 * hook) is only waited on. The one place a deploy rolls back.
 */
export async function rollBack(
  plans: FlavorPlan[],
  outcomes: FlavorOutcome[],
  options: DeployOptions,
  deps: DeployDeps,
  failingWave: Set<FlavorOutcome>
): Promise<void> {
  const inScope = (o: FlavorOutcome): boolean =>
    options.rollbackScope === 'changed' ||
    (options.rollbackScope === 'wave' && failingWave.has(o)) ||
    o.result === 'failed'
  const chosen = outcomes
    .map((o, i) => ({ outcome: o, plan: plans[i] }))
    .filter(({ outcome: o }) => o.changed && inScope(o))
  if (chosen.length === 0) return
  deps.log(
    `Rolling back ${chosen.map((c) => c.outcome.flavor).join(', ')} to their previous task definitions`
  )
  await Promise.all(
    chosen.map(async ({ outcome: o }) => {
      if (o.rollback?.by === 'circuit-breaker' || o.rollback?.by === 'ecs')
        return
      await putBack(o, deps)
    })
  )
  const toWatch = chosen.filter(
    ({ outcome: o }) => o.rolledBack && o.rollback?.result === 'not-waited'
  )
  const watched = await watchByRegion(
    toWatch.map(({ outcome: o, plan }) => ({
      outcome: o,
      target: {
        cluster: o.cluster,
        service: o.service,
        region: o.region,
        ...(o.rollback?.deploymentId
          ? { deploymentId: o.rollback.deploymentId }
          : { taskDefinitionArn: o.previousTaskDefinitionArn }),
        policy: plan.flavor.policy
      }
    })),
    deps
  )
  for (const { outcome: o } of toWatch) {
    const w = watched.get(o)
    if (!o.rollback) continue
    if (w instanceof Error || !w) {
      o.rollback.result = 'error'
      o.rollback.reason = w ? errorMessage(w) : 'no result'
    } else {
      o.rollback.result = w.result
      if (w.failureReason) o.rollback.reason = w.failureReason
    }
    deps.log(
      `${o.flavor}: rollback ${o.rollback.result}${o.rollback.reason ? ` (${o.rollback.reason})` : ''}`
    )
  }
}
