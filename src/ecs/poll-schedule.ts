/**
 * How long the watcher sleeps between polls: `min` while something changes,
 * growing towards `max` while nothing does, and doubling past `max` (up to
 * `throttledMax`, six times `max` by default) while ECS answers ThrottlingException.
 */
export class PollSchedule {
  private current: number
  private throttledStreak = 0

  constructor(
    readonly minSeconds: number,
    readonly maxSeconds: number,
    readonly throttledMaxSeconds = maxSeconds * 6
  ) {
    if (!(minSeconds > 0) || maxSeconds < minSeconds) {
      throw new RangeError(
        `poll interval must satisfy 0 < min <= max (min ${minSeconds}, max ${maxSeconds})`
      )
    }
    this.current = minSeconds
  }

  /** Seconds to wait after a poll, given what that poll saw. */
  next(outcome: { changed: boolean; throttled: boolean }): number {
    if (outcome.throttled) {
      this.throttledStreak++
      this.current = Math.min(
        this.throttledMaxSeconds,
        Math.max(this.current, this.minSeconds) * 2
      )
      return this.current
    }
    if (this.throttledStreak > 0) {
      // Come back gently: halve the throttled delay rather than jump to min.
      this.throttledStreak = 0
      this.current = Math.max(
        this.minSeconds,
        Math.min(this.maxSeconds, this.current / 2)
      )
      return this.current
    }
    this.current = outcome.changed
      ? this.minSeconds
      : Math.min(this.maxSeconds, this.current * 1.5)
    return this.current
  }
}
