/**
 * Time as the domains see it. Actions pass `systemClock`; unit tests pass a
 * fake whose `sleep` advances `now`, so no test waits on a real clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms))
}

/** A clock that only moves when slept on; for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private current = 0) {}

  now(): number {
    return this.current
  }

  async sleep(ms: number): Promise<void> {
    this.current += Math.max(0, ms)
  }

  advance(ms: number): void {
    this.current += ms
  }
}
