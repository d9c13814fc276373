import type { Clock } from '../common/clock.js'

/**
 * A token bucket: `burst` calls at once, then `perSecond` sustained. ECS
 * refills task-definition writes at 1/s per account and Region, and other
 * jobs share that bucket, so the default stays well under it.
 */
export class RateLimiter {
  private tokens: number
  private last: number
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly clock: Clock,
    private readonly perSecond = 1,
    private readonly burst = 1
  ) {
    this.tokens = burst
    this.last = clock.now()
  }

  /** Resolves when a call may go; callers are served in order. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.wait())
    this.queue = turn
    return turn
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.clock.now()
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.last) / 1000) * this.perSecond
      )
      this.last = now
      if (this.tokens >= 1) {
        this.tokens -= 1
        return
      }
      await this.clock.sleep(
        Math.ceil(((1 - this.tokens) / this.perSecond) * 1000)
      )
    }
  }
}
