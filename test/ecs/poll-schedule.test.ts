import { describe, expect, it } from '@jest/globals'
import { PollSchedule } from '../../src/ecs/poll-schedule.js'

describe('PollSchedule', () => {
  it('stays short while things change and grows to max while idle', () => {
    const s = new PollSchedule(5, 10)
    expect(s.next({ changed: true, throttled: false })).toBe(5)
    expect(s.next({ changed: false, throttled: false })).toBe(7.5)
    expect(s.next({ changed: false, throttled: false })).toBe(10)
    expect(s.next({ changed: false, throttled: false })).toBe(10)
    expect(s.next({ changed: true, throttled: false })).toBe(5)
  })

  it('backs off past max on throttling and comes back gently', () => {
    const s = new PollSchedule(5, 10, 60)
    const delays = [1, 2, 3, 4].map(() =>
      s.next({ changed: false, throttled: true })
    )
    expect(delays).toEqual([10, 20, 40, 60])
    expect(s.next({ changed: true, throttled: false })).toBe(10)
    expect(s.next({ changed: true, throttled: false })).toBe(5)
  })

  it('refuses a min above max', () => {
    expect(() => new PollSchedule(10, 5)).toThrow(/min/)
  })
})
