import { isAbsolute, resolve } from 'node:path'
import {
  getBoolean,
  getChoice,
  getDurationSeconds,
  getInteger,
  getList,
  getOptionalInput,
  parseList
} from '../common/inputs.js'
import { ConfigurationError } from '../common/errors.js'
import {
  parseImageReference,
  type ImageReference
} from '../docker/image-reference.js'
import { checkHookStages } from '../ecs/lifecycle-stages.js'
import type { HealthPolicy } from '../ecs/types.js'
import { checkCommit, checkPromotableImage } from './promotion.js'
import { getRolloutInputs, type RolloutInputs } from './rollout-inputs.js'

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

/**
 * Promoting an image that staging built: the run it passed, the record it
 * left, and the repository the image must come from.
 */
export interface Promotion {
  ecrRepository: string
  stagingRunId?: number
  releaseImageFile?: string
  stagingWorkflow: string
  releaseBranchPattern: string
}

/** The action's inputs, one field per input of action.yml. */
export interface Inputs {
  /** Empty when the image comes from the staging run's record. */
  image?: ImageReference
  source: FlavorSource
  /** Set when `ecr-repository` or `staging-run-id` is: a promotion. */
  promotion?: Promotion
  /** The commit the image was built from (the `commit` input). */
  commit?: string
  token?: string
  wait: boolean
  rollbackOnFailure: boolean
  /** `wave`: the flavors the failing wave changed, earlier waves stay. */
  rollbackScope: 'changed' | 'wave' | 'failed'
  dryRun: boolean
  /** With dry-run: whether to read the services (false: no AWS call at all). */
  readCurrent: boolean
  /** Health keys given as inputs; they override the manifest for every flavor. */
  health: Partial<HealthPolicy>
  pollIntervalSeconds: number
  /** pre-deploy, force-new-deployment, keep-revisions, delete-revisions. */
  rollout: RolloutInputs
  /** Real seconds one ECS HTTP attempt may take before it is retried. */
  callTimeoutSeconds: number
  /** The post step rolls back flavors an interrupted run left unverified. */
  rollbackOnCancel: boolean
  /** Stages at which the wait answers ECS's PAUSE hooks. */
  hookStages: string[]
  /** Look the image up in ECR before any write. */
  verifyImage: boolean
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

function getPromotion(): Promotion | undefined {
  const runText = getOptionalInput('staging-run-id')
  const ecrRepository = getOptionalInput('ecr-repository')
  if (!runText && !ecrRepository) return undefined
  if (!ecrRepository) {
    throw new ConfigurationError(
      'Input "ecr-repository" is required with "staging-run-id": the repository the promoted image must come from'
    )
  }
  if (runText !== undefined && !/^[1-9]\d{0,18}$/.test(runText)) {
    throw new ConfigurationError(
      `Input "staging-run-id" has "${runText}", which is not a workflow run id`
    )
  }
  const releaseImageFile = getOptionalInput('release-image-file')
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  return {
    ecrRepository,
    ...(runText && { stagingRunId: Number(runText) }),
    ...(releaseImageFile && {
      releaseImageFile: resolve(workspace, releaseImageFile)
    }),
    stagingWorkflow:
      getOptionalInput('staging-workflow') ?? '.github/workflows/staging.yml',
    releaseBranchPattern:
      getOptionalInput('release-branch-pattern') ?? 'release/*'
  }
}

/**
 * The image to deploy: checked against the promotion's repository when
 * promoting; empty when the staging run's record will name it.
 */
function getImage(
  promotion: Promotion | undefined
): ImageReference | undefined {
  const imageText = getOptionalInput('image')
  if (promotion && imageText) {
    return checkPromotableImage('image', imageText, promotion.ecrRepository)
  }
  if (imageText) return parseImageReference('image', imageText)
  if (!promotion?.stagingRunId || !promotion.releaseImageFile) {
    // The runner sets INPUT_IMAGE to '' when the expression named an output
    // it dropped for containing a masked value (an account id).
    if (process.env.INPUT_IMAGE === '') {
      throw new ConfigurationError(
        'The image input is empty: was it masked by the runner? A job output holding a masked value (such as an AWS account id masked by configure-aws-credentials or amazon-ecr-login) is dropped; pass the image within one job, or set mask-aws-account-id: false'
      )
    }
    throw new ConfigurationError(
      'Input "image" is required (or "staging-run-id" with "release-image-file", the record of the staging run to promote)'
    )
  }
  return undefined
}

/** Where the flavors come from: one service named by inputs, else the manifest. */
function getSource(): FlavorSource {
  const service = getOptionalInput('service')
  const environment = getOptionalInput('environment')
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
    return {
      kind: 'service',
      cluster,
      service,
      containers,
      ...(getOptionalInput('region') && { region: getOptionalInput('region') }),
      ...(environment && { environment })
    }
  }
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
  return {
    kind: 'manifest',
    path: isAbsolute(manifest) ? manifest : resolve(workspace, manifest),
    environment,
    selector: getOptionalInput('flavors') ?? 'all'
  }
}

/** Reads and checks every input; throws a ConfigurationError naming the bad one. */
export function getInputs(): Inputs {
  const promotion = getPromotion()
  const image = getImage(promotion)
  const commitText = getOptionalInput('commit')
  const commit =
    commitText === undefined ? undefined : checkCommit('commit', commitText)
  if (promotion && !promotion.stagingRunId && !commit) {
    throw new ConfigurationError(
      'Input "commit" is required when "image" is promoted without "staging-run-id": the commit the image was built from (the dispatching ref is not it)'
    )
  }
  const source = getSource()
  const dryRun = getBoolean('dry-run', false)
  const readCurrent = getBoolean('read-current', true)
  if (!readCurrent && !dryRun) {
    throw new ConfigurationError(
      'Input "read-current" is false, which only a dry run can do: a deploy reads the services it changes'
    )
  }
  const pollIntervalSeconds = getDurationSeconds('poll-interval', 5)
  if (pollIntervalSeconds <= 0) {
    throw new ConfigurationError(
      `Input "poll-interval" has "${getOptionalInput('poll-interval')}"; it must be more than 0 seconds`
    )
  }
  const wait = getBoolean('wait', true)
  const rollout = getRolloutInputs(wait)
  if (source.kind === 'service' && rollout.preDeploy === 'always') {
    throw new ConfigurationError(
      'Input "pre-deploy" is "always", but "service" is set: the pre-deploy task is defined per environment in the manifest'
    )
  }
  const callTimeoutSeconds = getDurationSeconds('call-timeout', 30)
  if (callTimeoutSeconds <= 0) {
    throw new ConfigurationError(
      `Input "call-timeout" has "${getOptionalInput('call-timeout')}"; it must be more than 0 seconds`
    )
  }
  return {
    ...(image && { image }),
    source,
    ...(promotion && { promotion }),
    ...(commit && { commit }),
    ...(getOptionalInput('token') && { token: getOptionalInput('token') }),
    wait,
    rollbackOnFailure: getBoolean('rollback-on-failure', true),
    rollbackScope: getChoice(
      'rollback-scope',
      ['changed', 'wave', 'failed'],
      'changed'
    ),
    dryRun,
    readCurrent,
    health: optionalHealth(),
    pollIntervalSeconds,
    rollout,
    callTimeoutSeconds,
    rollbackOnCancel: getBoolean('rollback-on-cancel', false),
    verifyImage: getBoolean('verify-image', true),
    hookStages: checkHookStages(
      'lifecycle-hook-stages',
      getList('lifecycle-hook-stages')
    )
  }
}
