/** The post step: when the main step stopped before a verdict, report each flavor and, if asked, roll back. */
import * as core from '@actions/core'
import { runAction } from '../common/action.js'
import { reportInterruptedRun } from '../ecs/unverified-deployments.js'
import { getInputs } from './inputs.js'

/**
 * Runs after the main step whatever happened (`post-if: always()`). A main
 * step that reached its verdict, or stopped before touching any service,
 * leaves nothing to do; otherwise the run never ends as a success.
 */
export async function runPost(): Promise<void> {
  await runAction(async () => {
    // Inputs are read only when there is something to report: a main step
    // that failed on them recorded nothing.
    if (!core.getState('flavors')) return
    const inputs = getInputs()
    await reportInterruptedRun('Deploy', {
      rollback: inputs.rollbackOnCancel,
      callTimeoutSeconds: inputs.callTimeoutSeconds,
      pollSeconds: inputs.pollIntervalSeconds
    })
  })
}
