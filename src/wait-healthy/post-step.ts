/** The post step: when the wait stopped before a verdict, say which deployments were left unverified. */
import { runAction } from '../common/action.js'
import { reportInterruptedRun } from '../ecs/unverified-deployments.js'

/** Runs after the main step whatever happened (`post-if: always()`); never a success after an interrupted wait. */
export async function runPost(): Promise<void> {
  // wait-healthy changes nothing, so it rolls nothing back.
  await runAction(() => reportInterruptedRun('Wait', { rollback: false }))
}
