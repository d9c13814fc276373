import * as core from '@actions/core'
import { runAction, setOutputs } from '../common/action.js'
import { systemClock } from '../common/clock.js'
import { createEcsClient } from '../ecs/client.js'
import { watchDeployments } from '../ecs/deployment-watcher.js'
import { checkTargets } from '../ecs/target-check.js'
import { overallVerdict, renderWatchSummary } from '../ecs/watch-summary.js'
import { handOverOnInterrupt, saveJsonState } from '../common/step-state.js'
import type { FlavorProgress } from '../ecs/unverified-deployments.js'
import { getInputs } from './inputs.js'
import { problemsError, resolveTargets } from './targets.js'

/**
 * Waits until the followed deployments are healthy, or says why not:
 * checks the targets first (no waiting on bad input), then watches them
 * together and reports a classified verdict.
 */
export async function run(): Promise<void> {
  await runAction(async () => {
    handOverOnInterrupt('The wait')
    const inputs = getInputs()
    const targets = await resolveTargets(inputs)
    const region =
      inputs.region ??
      targets[0]?.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      ''
    const ecs = createEcsClient(region)
    try {
      const problems = await checkTargets(targets, ecs)
      if (problems.length > 0) {
        throw problemsError(problems, inputs.services.length === 0)
      }
      saveJsonState(
        'flavors',
        targets.map((t): FlavorProgress => ({
          flavor: t.service,
          cluster: t.cluster,
          service: t.service,
          region: t.region ?? region,
          stage: 'service-updated',
          taskDefinitionArn: t.taskDefinitionArn,
          deploymentId: t.deploymentId
        }))
      )
      core.info(
        `Watching ${targets.map((t) => `${t.cluster}/${t.service}`).join(', ')}`
      )
      const results = await watchDeployments(targets, {
        ecs,
        clock: systemClock,
        log: (line) => core.info(line),
        pollIntervalSeconds: inputs.pollInterval,
        callTimeoutSeconds: Math.max(10, inputs.pollInterval.max * 3)
      })
      const verdict = overallVerdict(results)
      core.saveState('verdict', verdict.result)
      setOutputs({
        result: verdict.result,
        'failure-category': verdict.failureCategory ?? '',
        'failure-reason': verdict.failureReason ?? '',
        'duration-seconds': String(Math.round(verdict.durationSeconds)),
        'stopped-tasks': verdict.stoppedTasks,
        results
      })
      await core.summary.addRaw(renderWatchSummary(results, region)).write()
      if (verdict.result !== 'healthy') {
        throw new Error(
          `${verdict.result}${verdict.failureCategory ? ` (${verdict.failureCategory})` : ''}: ${verdict.failureReason ?? ''}`
        )
      }
      core.info(
        `All ${results.length} service(s) healthy after ${Math.round(verdict.durationSeconds)}s`
      )
    } finally {
      ecs.destroy()
    }
  })
}
