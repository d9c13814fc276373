import { parseDuration } from '../common/duration.js'
import { ConfigurationError } from '../common/errors.js'
import {
  getDurationSeconds,
  getInteger,
  getList,
  getOptionalInput
} from '../common/inputs.js'
import { checkHookStages } from '../ecs/lifecycle-stages.js'
import type { HealthPolicy } from '../ecs/types.js'

/** The inputs of `actions/wait-healthy/action.yml`, parsed and checked. */
export interface Inputs {
  cluster?: string
  services: string[]
  manifest: string
  environment?: string
  flavors: string
  deploymentId?: string
  taskDefinition?: string
  /** Only what the user gave; the manifest or defaults fill the rest. */
  policy: Partial<HealthPolicy>
  region?: string
  pollInterval: { min: number; max: number }
  /** Stages at which to answer ECS's PAUSE hooks. */
  hookStages: string[]
}

/** `5s` or `5s-10s` (also `5s,10s`): the min and max seconds between polls. */
export function parsePollInterval(value: string | undefined): {
  min: number
  max: number
} {
  if (value === undefined) return { min: 5, max: 10 }
  const parts = value.split(/\s*[-,]\s*/)
  const [min, max] = parts.map((p) => parseDuration('poll-interval', p))
  const result = { min, max: max ?? Math.max(min, 10) }
  if (parts.length > 2 || !(result.min > 0) || result.max < result.min) {
    throw new ConfigurationError(
      `Input "poll-interval" has "${value}"; use one duration (the minimum) or min-max such as 5s-10s, with 0 < min <= max`
    )
  }
  return result
}

function optionalDuration(name: string): number | undefined {
  const value = getOptionalInput(name)
  return value === undefined ? undefined : getDurationSeconds(name, 0)
}

function optionalInteger(name: string): number | undefined {
  return getOptionalInput(name) === undefined
    ? undefined
    : getInteger(name, 0, 0)
}

/** Reads every input; throws a ConfigurationError naming the first bad one. */
export function getInputs(): Inputs {
  const services = getList('services')
  const environment = getOptionalInput('environment')
  const cluster = getOptionalInput('cluster')
  const deploymentId = getOptionalInput('deployment-id')
  const taskDefinition = getOptionalInput('task-definition')
  if (services.length === 0 && !environment) {
    throw new ConfigurationError(
      'Input "services" (with "cluster") or input "environment" (with the manifest) is required'
    )
  }
  if (services.length > 0 && environment) {
    throw new ConfigurationError(
      'Inputs "services" and "environment" exclude each other: name services directly, or flavors of an environment in the manifest'
    )
  }
  if (services.length > 0 && !cluster) {
    throw new ConfigurationError('Input "cluster" is required with "services"')
  }
  if (deploymentId && taskDefinition) {
    throw new ConfigurationError(
      'Inputs "deployment-id" and "task-definition" exclude each other: give one'
    )
  }
  const policy: Partial<HealthPolicy> = {}
  const set = <K extends keyof HealthPolicy>(
    key: K,
    value: number | undefined
  ): void => {
    if (value !== undefined) policy[key] = value
  }
  set('startupGraceSeconds', optionalDuration('startup-grace'))
  set('startupFailureBudget', optionalInteger('startup-failure-budget'))
  set('failureBudget', optionalInteger('failure-budget'))
  set('stableForSeconds', optionalDuration('stable-for'))
  set('timeoutSeconds', optionalDuration('timeout'))
  if (policy.timeoutSeconds !== undefined && !(policy.timeoutSeconds > 0)) {
    throw new ConfigurationError(
      `Input "timeout" has "${getOptionalInput('timeout')}"; it must be longer than 0s`
    )
  }
  if (
    policy.stableForSeconds !== undefined &&
    policy.timeoutSeconds !== undefined &&
    policy.stableForSeconds > policy.timeoutSeconds
  ) {
    throw new ConfigurationError(
      `Input "stable-for" (${getOptionalInput('stable-for')}) is longer than input "timeout" (${getOptionalInput('timeout')}): the soak could never finish`
    )
  }
  return {
    cluster,
    services,
    manifest: getOptionalInput('manifest') ?? '.github/ecs-flavors.yml',
    environment,
    flavors: getOptionalInput('flavors') ?? 'all',
    deploymentId,
    taskDefinition,
    policy,
    region: getOptionalInput('region'),
    pollInterval: parsePollInterval(getOptionalInput('poll-interval')),
    hookStages: checkHookStages(
      'lifecycle-hook-stages',
      getList('lifecycle-hook-stages')
    )
  }
}
