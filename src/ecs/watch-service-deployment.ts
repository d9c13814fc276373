/**
 * ECS's own record of a deployment (DescribeServiceDeployments) in the
 * watcher's judgement: which record is ours, ECS's verdict and stage, the
 * time its strategy needs, and the PAUSE hooks the watch answers.
 */
import type {
  Deployment,
  DeploymentConfiguration,
  ServiceDeployment
} from '@aws-sdk/client-ecs'
import type { Classification } from './failure-classifier.js'
import { note, type Step } from './watch-step.js'

/** How far apart a deployment and its service deployment may start (ms). */
const SAME_START_MS = 60_000
/** Clock skew allowed the other way (the deployment a little earlier). */
const EARLIER_MS = 5_000

/** Statuses after which ECS changes nothing more. */
const ROLLED_BACK = [
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED'
]

/**
 * The service deployment of the followed deployment: the one already
 * matched, or the service's current one when it started with ours.
 */
export function matchServiceDeployment(
  step: Step,
  deployment: Deployment,
  sd: ServiceDeployment | undefined
): ServiceDeployment | undefined {
  const { w } = step
  if (!sd?.serviceDeploymentArn) return undefined
  if (w.serviceDeploymentArn) {
    return sd.serviceDeploymentArn === w.serviceDeploymentArn ? sd : undefined
  }
  // Ours when it started with the followed deployment; a deployment that
  // ECS's rollback brought back (or started) is not its target.
  const started = deployment.createdAt?.getTime()
  const created = sd.createdAt?.getTime()
  const rollbackAt = sd.rollback?.startedAt?.getTime()
  if (
    started === undefined ||
    created === undefined ||
    started < created - EARLIER_MS ||
    started > created + SAME_START_MS ||
    (rollbackAt !== undefined && started >= rollbackAt)
  ) {
    return undefined
  }
  w.serviceDeploymentArn = sd.serviceDeploymentArn
  const strategy = sd.deploymentConfiguration?.strategy ?? 'ROLLING'
  w.extraSeconds = strategySeconds(sd.deploymentConfiguration)
  note(
    step,
    `service deployment ${sd.serviceDeploymentArn.split('/').pop()} (${strategy})${w.extraSeconds ? `; timeout extended by ${w.extraSeconds}s for bake times` : ''}`
  )
  return sd
}

/** Seconds the strategy itself spends baking, added to the timeout. */
export function strategySeconds(
  c: DeploymentConfiguration | undefined
): number {
  if (!c) return 0
  let minutes = c.bakeTimeInMinutes ?? 0
  if (c.strategy === 'LINEAR') {
    const step = c.linearConfiguration?.stepPercent ?? 10
    minutes +=
      Math.ceil(100 / step) *
      (c.linearConfiguration?.stepBakeTimeInMinutes ?? 0)
  }
  if (c.strategy === 'CANARY') {
    minutes += c.canaryConfiguration?.canaryBakeTimeInMinutes ?? 0
  }
  return minutes * 60
}

/** Where ECS is, as one line: status, stage, traffic, alarms, hooks. */
export function stageLine(sd: ServiceDeployment): string {
  const parts = [`ECS ${sd.status ?? '?'}`]
  if (sd.lifecycleStage) parts.push(`stage ${sd.lifecycleStage}`)
  const weight = sd.targetServiceRevision?.requestedProductionTrafficWeight
  if (weight !== undefined && sd.deploymentConfiguration?.strategy) {
    if (sd.deploymentConfiguration.strategy !== 'ROLLING') {
      parts.push(`traffic ${weight}%`)
    }
  }
  if (sd.alarms?.status && sd.alarms.status !== 'DISABLED') {
    parts.push(`alarms ${sd.alarms.status}`)
  }
  const waiting = (sd.lifecycleHookDetails ?? []).filter(
    (h) => h.status === 'AWAITING_ACTION'
  )
  if (waiting.length > 0) parts.push('hook AWAITING_ACTION')
  return parts.join(', ')
}

/** Why ECS rolled back or stopped the deployment, naming alarms and hooks. */
export function ecsFailure(sd: ServiceDeployment): Classification | undefined {
  const status = sd.status ?? ''
  const triggered = sd.alarms?.triggeredAlarmNames ?? []
  const why = [
    triggered.length > 0 ? `alarm(s) ${triggered.join(', ')} in ALARM` : '',
    sd.rollback?.reason ?? sd.statusReason ?? ''
  ]
    .filter(Boolean)
    .join('; ')
  if (ROLLED_BACK.includes(status)) {
    return {
      category: 'rolled-back',
      reason: `ECS ${status === 'ROLLBACK_FAILED' ? 'failed to roll back' : 'rolled back'} the ${sd.deploymentConfiguration?.strategy ?? 'ROLLING'} deployment (${status})${why ? `: ${why}` : ''}`,
      fatal: true
    }
  }
  if (status === 'STOPPED' || status === 'STOP_REQUESTED') {
    return {
      category: 'rolled-back',
      reason: `ECS stopped the deployment (${status})${why ? `: ${why}` : ''}`,
      fatal: true
    }
  }
  return undefined
}

/** ECS is done with the deployment: SUCCESSFUL, so no alarm, bake or hook is pending. */
export function ecsDone(sd: ServiceDeployment | undefined): boolean {
  return sd === undefined || sd.status === 'SUCCESSFUL'
}

/** Stages in which the green revision has not yet passed its health checks. */
const BEFORE_GREEN = ['RECONCILE_SERVICE', 'PRE_SCALE_UP', 'SCALE_UP']

/**
 * For blue/green, linear and canary: whether the new revision runs all its
 * tasks, none pending, and ECS has moved past SCALE_UP (which ends only when
 * they pass health checks). Undefined for rolling deployments, which are
 * read from DescribeServices as before.
 */
export function greenHealthy(sd: ServiceDeployment): boolean | undefined {
  const strategy = sd.deploymentConfiguration?.strategy ?? 'ROLLING'
  if (strategy === 'ROLLING') return undefined
  const t = sd.targetServiceRevision
  return (
    !!t &&
    !BEFORE_GREEN.includes(sd.lifecycleStage ?? 'PRE_SCALE_UP') &&
    (t.runningTaskCount ?? 0) >= (t.requestedTaskCount ?? 0) &&
    (t.requestedTaskCount ?? 0) > 0 &&
    (t.pendingTaskCount ?? 0) === 0
  )
}

/** The PAUSE hook waiting at a stage this watch answers, if any. */
export function ourWaitingHook(
  step: Step,
  sd: ServiceDeployment | undefined
): { hookId: string; stage: string } | undefined {
  const stages = step.w.target.hookStages ?? []
  if (!sd || stages.length === 0 || sd.status !== 'IN_PROGRESS')
    return undefined
  const stage = sd.lifecycleStage ?? ''
  if (!stages.includes(stage)) return undefined
  const hook = (sd.lifecycleHookDetails ?? []).find(
    (h) =>
      h.status === 'AWAITING_ACTION' &&
      h.targetType === 'PAUSE' &&
      h.hookId &&
      !step.w.answeredHooks.includes(h.hookId)
  )
  return hook?.hookId ? { hookId: hook.hookId, stage } : undefined
}

/** Queues a ContinueServiceDeployment for the hook. */
export function answerHook(
  step: Step,
  sd: ServiceDeployment,
  hook: { hookId: string; stage: string },
  action: 'CONTINUE' | 'ROLLBACK'
): void {
  const { w } = step
  w.answeredHooks.push(hook.hookId)
  step.answers.push({
    serviceDeploymentArn: sd.serviceDeploymentArn ?? '',
    hookId: hook.hookId,
    action,
    stage: hook.stage,
    service: w.target.service
  })
  step.log.push(
    `${w.target.service}: answering the PAUSE hook at ${hook.stage} with ${action}`
  )
  note(step, `hook at ${hook.stage}: ${action}`)
}

/** Time spent waiting at PAUSE hooks counts on top of the timeout. */
export function accountHookWait(
  step: Step,
  sd: ServiceDeployment | undefined
): void {
  const { w, now } = step
  const waiting = (sd?.lifecycleHookDetails ?? []).some(
    (h) => h.status === 'AWAITING_ACTION'
  )
  if (waiting && w.pausedSince === undefined) w.pausedSince = now
  if (!waiting && w.pausedSince !== undefined) {
    w.extraSeconds += (now - w.pausedSince) / 1000
    w.pausedSince = undefined
  } else if (waiting && w.pausedSince !== undefined) {
    w.extraSeconds += (now - w.pausedSince) / 1000
    w.pausedSince = now
  }
}

/** Logs ECS's stage when it changes and keeps what the summary shows. */
export function followServiceDeployment(
  step: Step,
  sd: ServiceDeployment
): boolean {
  const { w } = step
  accountHookWait(step, sd)
  w.serviceDeploymentInfo = {
    arn: sd.serviceDeploymentArn ?? '',
    status: sd.status,
    strategy: sd.deploymentConfiguration?.strategy ?? 'ROLLING',
    rollbackReason: sd.rollback?.reason
  }
  const line = stageLine(sd)
  if (line === w.stageLine) return false
  w.stageLine = line
  step.log.push(`${w.target.service}: ${line}`)
  note(step, line)
  return true
}

/**
 * CONTINUE a PAUSE hook at one of our stages once the new revision has
 * soaked healthy; before scale-up there is nothing of ours to judge yet.
 */
export function answerOurHook(step: Step, sd: ServiceDeployment): void {
  const hook = ourWaitingHook(step, sd)
  if (!hook) return
  const { w, now } = step
  const early =
    hook.stage === 'RECONCILE_SERVICE' || hook.stage === 'PRE_SCALE_UP'
  const soaked =
    w.soakSince !== undefined &&
    (now - w.soakSince) / 1000 >= w.target.policy.stableForSeconds
  if (early || soaked) answerHook(step, sd, hook, 'CONTINUE')
}
