/**
 * Runs the ECS simulator for a person or a rehearsal script:
 *
 *   npm run ecs-sim -- --port 4566 --speed 10 [--seed-file world.json]
 *     [--region us-east-1] [--seed 1] [--throttle-rate 0.1]
 *     [--server-error-rate 0.05] [--latency-ms 50]
 *
 * Prints the endpoint and the variables to export, then serves until killed.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { startEcsSimulator } from './index.js'
import type { WorldSeed } from './simulator.js'

function numberOption(
  value: string | undefined,
  name: string
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(`--${name} must be a number >= 0, got "${value}"`)
  }
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      speed: { type: 'string', default: '1' },
      region: { type: 'string', default: 'us-east-1' },
      seed: { type: 'string' },
      'seed-file': { type: 'string' },
      'throttle-rate': { type: 'string' },
      'server-error-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help) {
    console.log(
      'usage: npm run ecs-sim -- [--port 4566] [--speed 1] [--region us-east-1] [--seed N] [--seed-file world.json] [--throttle-rate R] [--server-error-rate R] [--latency-ms MS]'
    )
    return
  }
  const world = values['seed-file']
    ? (JSON.parse(await readFile(values['seed-file'], 'utf8')) as WorldSeed)
    : undefined
  const sim = await startEcsSimulator({
    port: numberOption(values.port, 'port'),
    speed: numberOption(values.speed, 'speed'),
    region: values.region,
    seed: numberOption(values.seed, 'seed'),
    world,
    faults: {
      throttleRate: numberOption(values['throttle-rate'], 'throttle-rate'),
      serverErrorRate: numberOption(
        values['server-error-rate'],
        'server-error-rate'
      ),
      latencyMs: numberOption(values['latency-ms'], 'latency-ms')
    }
  })
  console.log(`ECS simulator listening on ${sim.url} (speed ${values.speed})`)
  console.log('Export these to point the AWS SDK at it:')
  for (const [k, v] of Object.entries(sim.env)) console.log(`export ${k}=${v}`)
  console.log(`Control API: ${sim.url}/_sim/state (see docs/ecs-sim.md)`)
  const shutdown = (): void => {
    void sim.stop().then(() => process.exit(0))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e))
  process.exit(1)
})
