/** The post step: when the main step stopped before a verdict, report each flavor and, if asked, roll back. */
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
import { getInputs } from './inputs.js'

/**
 * Runs after the main step whatever happened (`post-if: always()`). A main
 * step that reached its verdict, or stopped before touching any service,
 * leaves nothing to do; otherwise the run never ends as a success.
 */
export async function runPost(): Promise<void> {
  await runAction(async () => {
    const progress = readJsonState<FlavorProgress[]>('flavors')
    if (!progress || core.getState('verdict')) return
    const inputs = getInputs()
    const clients: ReturnType<typeof createEcsClient>[] = []
    const reports = await settleUnverified(progress, {
      rollback: inputs.rollbackOnCancel,
      ecsFor: (region) => {
        const client = createEcsClient(region, inputs.callTimeoutSeconds)
        clients.push(client)
        return client
      },
      log: (line) => core.info(line)
    })
    for (const client of clients) client.destroy()
    const by = core.getState('interrupted')
    await core.summary
      .addRaw(
        renderUnverified(
          'Deploy',
          reports,
          by ? `interrupted by ${by}` : 'the main step was stopped'
        ) + '\n'
      )
      .write()
    throw new Error(unverifiedError('Deploy', reports))
  })
}
