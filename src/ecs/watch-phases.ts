/** The watch's phases in time: startup grace, strict budget, soak, and the deadline. */
import type { Deployment } from '@aws-sdk/client-ecs'
import { formatDuration } from '../common/duration.js'
import {
  elapsed,
  finish,
  lastStoppedHint,
  note,
  type Step
} from './watch-step.js'

/** Startup ends when grace is over or every desired task runs. */
export function advancePhase(
  step: Step,
  allRunning: boolean,
  deployment: Deployment
): boolean {
  const { w } = step
  const p = w.target.policy
  if (w.phase !== 'startup') return false
  if (elapsed(step) < p.startupGraceSeconds && !allRunning) return false
  w.phase = 'strict'
  const why = allRunning
    ? `all ${deployment.desiredCount ?? 0} desired task(s) running`
    : 'startup grace over'
  step.log.push(
    `${w.target.service}: ${why}; failure budget ${p.failureBudget} applies now`
  )
  note(step, `${why}; strict failure budget ${p.failureBudget}`)
  return true
}

/** Healthy after `stableFor` of steady state; timeout at the deadline. */
export function soakOrTimeout(
  step: Step,
  steady: boolean,
  ecsDone = true
): 'finished' | 'changed' | 'same' {
  const { w, now } = step
  const p = w.target.policy
  let changed = false
  if (steady) {
    if (w.soakSince === undefined) {
      w.soakSince = now
      changed = true
      step.log.push(
        `${w.target.service}: steady; soaking for ${formatDuration(p.stableForSeconds)}`
      )
      note(step, `steady; soak ${formatDuration(p.stableForSeconds)}`)
    }
    const soaked = (now - w.soakSince) / 1000 >= p.stableForSeconds
    if (soaked && ecsDone) {
      finish(step, 'healthy')
      return 'finished'
    }
    if (soaked && !w.soakedNoted) {
      // Healthy only once ECS itself is done: alarms, bake, hooks, clean-up.
      w.soakedNoted = true
      changed = true
      step.log.push(
        `${w.target.service}: soak passed; waiting for ECS to finish the deployment`
      )
      note(step, 'soak passed; waiting for ECS')
    }
  } else if (w.soakSince !== undefined) {
    w.soakSince = undefined
    w.soakedNoted = false
    changed = true
    note(step, 'left steady state; soak restarts')
  }
  if (elapsed(step) >= p.timeoutSeconds + w.extraSeconds) {
    finish(
      step,
      'timeout',
      'timeout',
      `not healthy after ${formatDuration(elapsed(step))}: ${w.statusLine}${lastStoppedHint(w)}`
    )
    return 'finished'
  }
  return changed ? 'changed' : 'same'
}
