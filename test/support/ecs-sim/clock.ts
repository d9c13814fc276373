import type { Clock } from '../../../src/common/clock.js'

/**
 * Simulated time. With `speed` > 0 it runs `speed` times faster than the wall
 * clock; with speed 0 it only moves through `advance`, which is what makes
 * tests deterministic. Manual advances add up on top of the running time, so
 * a test can also skip ahead while the clock runs.
 */
export class SimClock {
  private baseSim: number
  private baseReal: number

  constructor(
    start: number,
    private currentSpeed: number,
    private readonly realNow: () => number = () => performance.now()
  ) {
    this.baseSim = start
    this.baseReal = realNow()
  }

  /** Simulated epoch milliseconds. */
  now(): number {
    if (this.currentSpeed <= 0) return this.baseSim
    return this.baseSim + (this.realNow() - this.baseReal) * this.currentSpeed
  }

  get speed(): number {
    return this.currentSpeed
  }

  /** Changes the speed from now on; time already passed stays passed. */
  setSpeed(speed: number): void {
    if (!Number.isFinite(speed) || speed < 0) {
      throw new Error(`speed must be a number >= 0, got ${speed}`)
    }
    this.baseSim = this.now()
    this.baseReal = this.realNow()
    this.currentSpeed = speed
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new Error(`advance takes milliseconds >= 0, got ${ms}`)
    }
    this.baseSim += ms
  }
}

/**
 * A `Clock` (src/common/clock.ts) in simulated time, for code under test that
 * takes an injected clock: with a manual sim clock `sleep` advances the world
 * instead of waiting, with a running one it waits the scaled real time.
 */
export function simulatedClock(
  clock: SimClock,
  advance: (ms: number) => void
): Clock {
  return {
    now: () => clock.now(),
    sleep: async (ms) => {
      if (clock.speed <= 0) {
        advance(ms)
        // Let in-flight requests and timers run, as a real sleep would.
        await new Promise((resolve) => setImmediate(resolve))
        return
      }
      await new Promise((resolve) => setTimeout(resolve, ms / clock.speed))
    }
  }
}
