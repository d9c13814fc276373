/** The inputs of what happens around the rollout: pre-deploy, force, clean-up. */
import { ConfigurationError } from '../common/errors.js'
import {
  getBoolean,
  getChoice,
  getInteger,
  getOptionalInput
} from '../common/inputs.js'
import type { PreDeployMode } from '../ecs/pre-deploy-step.js'

export interface RolloutInputs {
  /** `pre-deploy`: auto (default), always or skip. */
  preDeploy: PreDeployMode
  forceNewDeployment: boolean
  /** `keep-revisions`; undefined leaves old revisions alone. */
  keepRevisions?: number
  /** `delete-revisions`: also delete the INACTIVE revisions. */
  deleteRevisions: boolean
}

/** Reads them; `wait` is the action's wait input (clean-up needs a verdict). */
export function getRolloutInputs(wait: boolean): RolloutInputs {
  const keepText = getOptionalInput('keep-revisions')
  const keepRevisions =
    keepText === undefined ? undefined : getInteger('keep-revisions', 0, 1)
  const deleteRevisions = getBoolean('delete-revisions', false)
  if (deleteRevisions && keepRevisions === undefined) {
    throw new ConfigurationError(
      'Input "delete-revisions" is true but "keep-revisions" is not set: set how many revisions each family keeps'
    )
  }
  if (keepRevisions !== undefined && !wait) {
    throw new ConfigurationError(
      `Input "keep-revisions" has "${keepText}", but "wait" is false: old revisions are only cleaned up after a healthy verdict, which needs wait: true`
    )
  }
  return {
    preDeploy: getChoice('pre-deploy', ['auto', 'always', 'skip'], 'auto'),
    forceNewDeployment: getBoolean('force-new-deployment', false),
    ...(keepRevisions !== undefined && { keepRevisions }),
    deleteRevisions
  }
}
