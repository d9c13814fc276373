/**
 * A local Amazon ECS endpoint for tests, benchmarks and rehearsals. The real
 * `@aws-sdk/client-ecs` reaches it through `AWS_ENDPOINT_URL_ECS` (or the
 * client's `endpoint`), so actions run against it unchanged. It also
 * answers ECR's image lookups (`AWS_ENDPOINT_URL_ECR`) from the loopback
 * registry's manifests (ecr.ts).
 *
 *   const sim = await startEcsSimulator({ speed: 0 })
 *   sim.createCluster('staging')
 *   sim.registerTaskDefinition({ family: 'web', containerDefinitions: [...] })
 *   sim.createService({ cluster: 'staging', serviceName: 'web', taskDefinition: 'web', desiredCount: 2, steady: true })
 *   const ecs = new ECSClient({ endpoint: sim.url, region: sim.region, credentials: sim.credentials })
 *   await sim.runUntil(() => sim.service('staging', 'web')?.deployments.length === 1)
 *   await sim.stop()
 *
 * See docs/ecs-sim.md for the behaviour grammar, faults and control API.
 */
import type { AddressInfo } from 'node:net'
import type {
  CreateServiceRequest,
  RegisterTaskDefinitionRequest,
  UpdateServiceRequest
} from '@aws-sdk/client-ecs'
import type { Clock } from '../../../src/common/clock.js'
import type { BehaviorRule } from './behavior.js'
import { simulatedClock } from './clock.js'
import type { FaultConfig } from './faults.js'
import { addRunTaskOutcome, type RunTaskOutcome } from './run-task.js'
import { createSimServer } from './server.js'
import {
  SimCore,
  type RequestLogEntry,
  type ServiceState,
  type SimState,
  type WorldSeed
} from './simulator.js'

export type { BehaviorRule } from './behavior.js'
export { parseBehavior } from './behavior.js'
export type { FaultConfig, FaultRule, ScriptedFault } from './faults.js'
export type { RunTaskOutcome } from './run-task.js'
export type {
  RequestLogEntry,
  ServiceState,
  SimState,
  TaskState,
  WorldSeed
} from './simulator.js'
export { breakerThreshold } from './scheduler.js'
export { OOM_REASON, TIMINGS } from './tasks.js'

export interface EcsSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host?: string
  /**
   * Simulated seconds per real second; 0 (default) is a manual clock that
   * only `advance` and `runUntil` move.
   */
  speed?: number
  region?: string
  accountId?: string
  faults?: FaultConfig
  /** Seeds ids and fault dice (default 1). */
  seed?: number
  /** Simulated epoch ms at start (default: now, rounded to the second). */
  startTime?: number
  /** Simulated ms between scheduler passes (default 1000). */
  tickMs?: number
  /** A world to load before the first request. */
  world?: WorldSeed
  /** The plain-HTTP registry ECR's image lookups read (default `ERT_REGISTRY` or `localhost:5000`). */
  registry?: string
}

export interface RunUntilOptions {
  /** Give up (throw) after this much simulated time (default 3600). */
  maxSimSeconds?: number
  /** Simulated ms per step with a manual clock (default one tick). */
  stepMs?: number
}

export interface EcsSimulator {
  /** `http://127.0.0.1:<port>`: the ECS endpoint and the `/_sim/` control API. */
  url: string
  port: number
  region: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** Variables that point the SDK (and a child action) at the simulator. */
  env: Record<string, string>
  /** Simulated epoch ms. */
  now(): number
  /** Moves simulated time forward and steps the world. */
  advance(ms: number): void
  setSpeed(speed: number): void
  /** A `Clock` in simulated time: `sleep` advances a manual clock. */
  clock: Clock
  /**
   * Steps simulated time until `predicate` holds; returns the simulated ms it
   * took. Manual clock: deterministic steps; running clock: real polling.
   */
  runUntil(
    predicate: () => boolean | Promise<boolean>,
    options?: RunUntilOptions
  ): Promise<number>
  setFaults(faults: FaultConfig): void
  /** Every ECS request answered, oldest first (including injected faults). */
  readonly requestLog: readonly RequestLogEntry[]
  clearRequestLog(): void
  createCluster(name: string, options?: { capacity?: number }): string
  registerTaskDefinition(input: RegisterTaskDefinitionRequest): {
    taskDefinitionArn: string
    revision: number
  }
  /** `steady: true` starts with tasks running and the deployment COMPLETED. */
  createService(input: CreateServiceRequest & { steady?: boolean }): {
    serviceArn: string
    deploymentId: string
  }
  /** Returns the PRIMARY deployment id after the update. */
  updateService(input: UpdateServiceRequest): { deploymentId: string }
  /** Gives containers whose image matches `image` (glob `*`) a behaviour. */
  setBehavior(image: string, behavior: string): void
  /** Scripts how matching RunTask tasks end (exit code, OOM, when). */
  setRunTaskOutcome(rule: RunTaskOutcome): void
  loadWorld(seed: WorldSeed): void
  /** Sets a CloudWatch alarm's state as deployment alarms see it. */
  setAlarmState(name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void
  /** Stops healthy tasks the way AZ rebalancing does; returns their ARNs. */
  rebalance(cluster: string, service: string, count?: number): string[]
  /** A service in the DescribeServices shape, or undefined. */
  service(cluster: string, name: string): ServiceState | undefined
  state(): SimState
  stop(): Promise<void>
}

/** Starts the simulator on 127.0.0.1 and resolves once it listens. */
export async function startEcsSimulator(
  options: EcsSimulatorOptions = {}
): Promise<EcsSimulator> {
  const speed = options.speed ?? 0
  const core = new SimCore({
    region: options.region ?? 'us-east-1',
    accountId: options.accountId ?? '123456789012',
    speed,
    seed: options.seed ?? 1,
    startTime: options.startTime ?? Math.floor(Date.now() / 1000) * 1000,
    tickMs: options.tickMs ?? 1000,
    faults: options.faults,
    registry: options.registry
  })
  if (options.world) core.loadWorld(options.world)
  const server = createSimServer(core)
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://${host}:${port}`
  // A running clock also steps the world between requests, so time-based
  // transitions happen even when nobody asks.
  const ticker = setInterval(
    () => {
      if (core.clock.speed > 0) core.catchUp()
    },
    Math.max(10, Math.min(250, core.tickMs / Math.max(speed, 1)))
  )
  ticker.unref()
  const advance = (ms: number): void => core.advance(ms)
  const region = core.world.region

  const sim: EcsSimulator = {
    url,
    port,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    env: {
      AWS_ENDPOINT_URL_ECS: url,
      // ECR's image lookups, answered from the loopback registry.
      AWS_ENDPOINT_URL_ECR: url,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Keeps the SDK from probing the EC2 metadata address for credentials.
      AWS_EC2_METADATA_DISABLED: 'true'
    },
    now: () => core.clock.now(),
    advance,
    setSpeed: (s) => {
      core.catchUp()
      core.clock.setSpeed(s)
    },
    clock: simulatedClock(core.clock, advance),
    async runUntil(predicate, runOptions = {}) {
      const maxMs = (runOptions.maxSimSeconds ?? 3600) * 1000
      const stepMs = runOptions.stepMs ?? core.tickMs
      const start = core.clock.now()
      for (;;) {
        core.catchUp()
        if (await predicate()) return core.clock.now() - start
        if (core.clock.now() - start >= maxMs) {
          throw new Error(
            `runUntil: condition not met within ${maxMs / 1000} simulated seconds`
          )
        }
        if (core.clock.speed <= 0) {
          core.advance(stepMs)
          await new Promise((resolve) => setImmediate(resolve))
        } else {
          await new Promise((resolve) =>
            setTimeout(resolve, Math.max(5, stepMs / core.clock.speed))
          )
        }
      }
    },
    setFaults: (faults) => core.faults.set(faults),
    get requestLog() {
      return core.requestLog
    },
    clearRequestLog: () => {
      core.requestLog.length = 0
    },
    createCluster: (name, o) => core.createCluster(name, o),
    registerTaskDefinition: (input) => core.registerTaskDefinition(input),
    createService: (input) => core.createService(input),
    updateService: (input) => core.updateService(input),
    setBehavior: (image, behavior) =>
      core.addBehavior({ image, behavior } satisfies BehaviorRule),
    setRunTaskOutcome: (rule) => addRunTaskOutcome(core.world, rule),
    loadWorld: (seed) => core.loadWorld(seed),
    setAlarmState: (name, state) => core.setAlarmState(name, state),
    rebalance: (cluster, service, count) =>
      core.rebalance(cluster, service, count),
    service: (cluster, name) => core.service(cluster, name),
    state: () => core.state(),
    stop: async () => {
      clearInterval(ticker)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  return sim
}
