/**
 * Simulated time for the wait benchmarks: while a contender runs, `Date.now`
 * reads the simulator's manual clock and every timer of 50 ms or more is
 * virtual, fired in due order once no ECS request is in flight.
 */
import { ECSClient } from '@aws-sdk/client-ecs'
import type { EcsSimulator } from '../test/support/ecs-sim/index.js'

// ---- virtual time -------------------------------------------------------

const realSetTimeout = globalThis.setTimeout
const realClearTimeout = globalThis.clearTimeout
const realDateNow = Date.now
let inFlight = 0

interface VirtualTimer {
  id: number
  due: number
  fn: () => void
}

/** Runs `work` with Date.now and long timers on the simulator's clock. */
export async function inSimTime<T>(
  sim: EcsSimulator,
  work: () => Promise<T>,
  /** Called after each step of simulated time (to script events). */
  onAdvance?: () => void | Promise<void>
): Promise<T> {
  const timers: VirtualTimer[] = []
  let nextId = 1
  const virtualIds = new Set<number>()
  Date.now = () => sim.now()
  globalThis.setTimeout = ((fn: () => void, ms?: number, ...args: []) => {
    if ((ms ?? 0) < 50) return realSetTimeout(fn, ms, ...args)
    const id = nextId++
    virtualIds.add(id)
    timers.push({ id, due: sim.now() + (ms ?? 0), fn: () => fn(...args) })
    return id as unknown as NodeJS.Timeout
  }) as typeof setTimeout
  globalThis.clearTimeout = ((id: unknown) => {
    if (typeof id === 'number' && virtualIds.has(id)) {
      const i = timers.findIndex((t) => t.id === id)
      if (i >= 0) timers.splice(i, 1)
      return
    }
    realClearTimeout(id as NodeJS.Timeout)
  }) as typeof clearTimeout
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => realSetTimeout(resolve, ms))
  try {
    let settled = false
    let value: T | undefined
    let failure: unknown
    work().then(
      (v) => {
        settled = true
        value = v
      },
      (e: unknown) => {
        settled = true
        failure = e
      }
    )
    while (!settled) {
      // Idle: nothing in flight for a few real turns.
      for (let quiet = 0; quiet < 3;) {
        await pause(1)
        quiet = inFlight === 0 ? quiet + 1 : 0
      }
      if (settled) break
      timers.sort((a, b) => a.due - b.due)
      const next = timers.shift()
      if (!next) continue
      if (next.due > sim.now()) sim.advance(next.due - sim.now())
      await onAdvance?.()
      next.fn()
    }
    if (failure !== undefined) throw failure
    return value as T
  } finally {
    Date.now = realDateNow
    globalThis.setTimeout = realSetTimeout
    globalThis.clearTimeout = realClearTimeout
  }
}

export function client(sim: EcsSimulator): ECSClient {
  const ecs = new ECSClient({
    endpoint: sim.url,
    region: sim.region,
    credentials: sim.credentials,
    maxAttempts: 8
  })
  ecs.middlewareStack.add(
    (next) => async (args) => {
      inFlight++
      try {
        return await next(args)
      } finally {
        inFlight--
      }
    },
    { step: 'initialize', name: 'benchInFlight' }
  )
  return ecs
}
