import { describe, expect, it } from '@jest/globals'
import { ManualClock } from '../../src/common/clock.js'
import { RateLimiter } from '../../src/ecs/rate-limiter.js'

describe('RateLimiter', () => {
  it('lets one call through per second after the burst', async () => {
    const clock = new ManualClock(1_000)
    const limiter = new RateLimiter(clock, 1, 1)
    const times: number[] = []
    await Promise.all(
      [1, 2, 3, 4].map(() => limiter.take().then(() => times.push(clock.now())))
    )
    expect(times).toEqual([1_000, 2_000, 3_000, 4_000])
  })

  it('allows a burst, then paces at the sustained rate', async () => {
    const clock = new ManualClock()
    const limiter = new RateLimiter(clock, 2, 3)
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      await limiter.take()
      times.push(clock.now())
    }
    expect(times).toEqual([0, 0, 0, 500, 1_000])
  })

  it('refills while idle, never above the burst', async () => {
    const clock = new ManualClock()
    const limiter = new RateLimiter(clock, 1, 2)
    await limiter.take()
    await limiter.take()
    clock.advance(10_000)
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      await limiter.take()
      times.push(clock.now())
    }
    expect(times).toEqual([10_000, 10_000, 11_000])
  })
})
