/** The post step: when the wait stopped before a verdict, say which deployments were left unverified. */
import * as core from '@actions/core'
import { runAction } from '../common/action.js'
import { readJsonState } from '../common/step-state.js'
import { createEcsClient } from '../ecs/client.js'
import {
  renderUnverified,
  settleUnverified,
  unverifiedError,
  type FlavorProgress
} from '../ecs/unverified-deployments.js'

/** Runs after the main step whatever happened (`post-if: always()`); never a success after an interrupted wait. */
export async function runPost(): Promise<void> {
  await runAction(async () => {
    const watched = readJsonState<FlavorProgress[]>('flavors')
    if (!watched || core.getState('verdict')) return
    // wait-healthy changes nothing, so it rolls nothing back.
    const reports = await settleUnverified(watched, {
      rollback: false,
      ecsFor: (region) => createEcsClient(region),
      log: (line) => core.info(line)
    })
    const by = core.getState('interrupted')
    await core.summary
      .addRaw(
        renderUnverified(
          'Wait',
          reports,
          by ? `interrupted by ${by}` : 'the main step was stopped'
        ) + '\n'
      )
      .write()
    throw new Error(unverifiedError('Wait', reports))
  })
}
