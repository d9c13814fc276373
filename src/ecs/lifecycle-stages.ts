/** ECS's deployment lifecycle stages, and the check of an input naming some. */
import { ConfigurationError } from '../common/errors.js'

/** The stages a lifecycle hook may name (ECS API reference, DeploymentLifecycleHook). */
export const HOOK_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT'
] as const

/** Upper-cases and checks stage names; throws naming the input and the bad value. */
export function checkHookStages(input: string, values: string[]): string[] {
  const stages = values.map((v) => v.trim().toUpperCase()).filter(Boolean)
  for (const stage of stages) {
    if (!(HOOK_STAGES as readonly string[]).includes(stage)) {
      throw new ConfigurationError(
        `Input "${input}" has "${stage}", which is not a lifecycle stage a hook can pause at; use ${HOOK_STAGES.join(', ')}`
      )
    }
  }
  return stages
}
