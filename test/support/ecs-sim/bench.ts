/**
 * How fast the simulator steps worlds: `npx tsx test/support/ecs-sim/bench.ts`.
 * Prints real milliseconds for an hour of crash loops and for a healthy
 * rollout of ten services, both on a manual clock.
 */
import { startEcsSimulator, type EcsSimulator } from './index.js'

async function world(
  behavior: string,
  breaker: boolean
): Promise<EcsSimulator> {
  const sim = await startEcsSimulator({ startTime: 0 })
  sim.createCluster('c')
  for (let i = 0; i < 10; i++) {
    const family = `f${i}`
    sim.registerTaskDefinition({
      family,
      containerDefinitions: [{ name: 'a', image: 'repo/app:1' }]
    })
    sim.createService({
      cluster: 'c',
      serviceName: `s${i}`,
      taskDefinition: family,
      desiredCount: 10,
      steady: true,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: breaker, rollback: breaker }
      }
    })
    sim.registerTaskDefinition({
      family,
      containerDefinitions: [
        {
          name: 'a',
          image: 'repo/app:2',
          environment: [{ name: 'SIM_BEHAVIOR', value: behavior }]
        }
      ]
    })
    sim.updateService({
      cluster: 'c',
      service: `s${i}`,
      taskDefinition: `${family}:2`
    })
  }
  return sim
}

const crash = await world('crash:5s', false)
let start = performance.now()
crash.advance(3_600_000)
console.log(
  `1 h of crash loops, 10 services x 10 tasks, breaker off: ${Math.round(performance.now() - start)} ms real, ${crash.state().tasks.length} tasks listed`
)
await crash.stop()

const healthy = await world('healthy:30s', true)
start = performance.now()
const took = await healthy.runUntil(() =>
  healthy
    .state()
    .services.every(
      (s) =>
        s.deployments.length === 1 &&
        s.deployments[0].rolloutState === 'COMPLETED'
    )
)
console.log(
  `healthy rollout, 10 services x 10 tasks: ${took / 1000} simulated s in ${Math.round(performance.now() - start)} ms real`
)
await healthy.stop()
