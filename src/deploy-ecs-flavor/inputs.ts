import { isAbsolute, resolve } from 'node:path'
import {
  getBoolean,
  getChoice,
  getDurationSeconds,
  getInteger,
  getOptionalInput,
  getRequiredInput,
  parseList
} from '../common/inputs.js'
import { ConfigurationError } from '../common/errors.js'
import { parseImageReference } from '../ecs/image-reference.js'
import type { HealthPolicy } from '../ecs/types.js'

/** Where the flavors come from: the manifest, or one service named directly. */
export type FlavorSource =
  | {
      kind: 'manifest'
      path: string
      environment: string
      selector: string
    }
  | {
      kind: 'service'
      cluster: string
      service: string
      containers: string[]
      region?: string
      environment?: string
    }

/** The action's inputs, one field per input of action.yml. */
export interface Inputs {
  image: string
  source: FlavorSource
  wait: boolean
  rollbackOnFailure: boolean
  rollbackScope: 'changed' | 'failed'
  dryRun: boolean
  /** Health keys given as inputs; they override the manifest for every flavor. */
  health: Partial<HealthPolicy>
  pollIntervalSeconds: number
}

function optionalHealth(): Partial<HealthPolicy> {
  const health: Partial<HealthPolicy> = {}
  const set = <K extends keyof HealthPolicy>(
    key: K,
    value: number | undefined
  ): void => {
    if (value !== undefined) health[key] = value
  }
  const duration = (name: string): number | undefined =>
    getOptionalInput(name) === undefined
      ? undefined
      : getDurationSeconds(name, 0)
  const count = (name: string): number | undefined =>
    getOptionalInput(name) === undefined ? undefined : getInteger(name, 0, 0)
  set('startupGraceSeconds', duration('startup-grace'))
  set('startupFailureBudget', count('startup-failure-budget'))
  set('failureBudget', count('failure-budget'))
  set('stableForSeconds', duration('stable-for'))
  set('timeoutSeconds', duration('timeout'))
  return health
}

/** Reads and checks every input; throws a ConfigurationError naming the bad one. */
export function getInputs(): Inputs {
  const image = getRequiredInput('image')
  parseImageReference('image', image)
  const service = getOptionalInput('service')
  const environment = getOptionalInput('environment')
  let source: FlavorSource
  if (service) {
    const cluster = getOptionalInput('cluster')
    if (!cluster) {
      throw new ConfigurationError(
        'Input "cluster" is required when "service" is set'
      )
    }
    const containers = parseList(getOptionalInput('container') ?? '')
    if (containers.length === 0) {
      throw new ConfigurationError(
        'Input "container" is required when "service" is set: the container(s) that receive the image'
      )
    }
    const flavors = getOptionalInput('flavors')
    if (flavors && flavors !== 'all') {
      throw new ConfigurationError(
        `Input "flavors" has "${flavors}", but "service" is set: choose flavors from a manifest or name one service, not both`
      )
    }
    source = {
      kind: 'service',
      cluster,
      service,
      containers,
      ...(getOptionalInput('region') && { region: getOptionalInput('region') }),
      ...(environment && { environment })
    }
  } else {
    for (const name of ['cluster', 'container']) {
      if (getOptionalInput(name)) {
        throw new ConfigurationError(
          `Input "${name}" is only used with "service"; without it the manifest names clusters and containers`
        )
      }
    }
    if (!environment) {
      throw new ConfigurationError(
        'Input "environment" is required with a manifest (or set "cluster", "service" and "container" to deploy one service)'
      )
    }
    const manifest = getOptionalInput('manifest') ?? '.github/ecs-flavors.yml'
    const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
    source = {
      kind: 'manifest',
      path: isAbsolute(manifest) ? manifest : resolve(workspace, manifest),
      environment,
      selector: getOptionalInput('flavors') ?? 'all'
    }
  }
  const pollIntervalSeconds = getDurationSeconds('poll-interval', 5)
  if (pollIntervalSeconds <= 0) {
    throw new ConfigurationError(
      `Input "poll-interval" has "${getOptionalInput('poll-interval')}"; it must be more than 0 seconds`
    )
  }
  return {
    image,
    source,
    wait: getBoolean('wait', true),
    rollbackOnFailure: getBoolean('rollback-on-failure', true),
    rollbackScope: getChoice(
      'rollback-scope',
      ['changed', 'failed'],
      'changed'
    ),
    dryRun: getBoolean('dry-run', false),
    health: optionalHealth(),
    pollIntervalSeconds
  }
}
