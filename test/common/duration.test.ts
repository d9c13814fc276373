import { describe, expect, it } from '@jest/globals'
import { formatDuration, parseDuration } from '../../src/common/duration.js'
import { ConfigurationError } from '../../src/common/errors.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['1h30m', 5400],
    ['2h', 7200],
    ['1m30s', 90],
    ['45', 45],
    ['1.5s', 1.5]
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration('timeout', text)).toBe(seconds)
  })

  it.each(['', 'ten minutes', '10x', 'm', '1h-5m'])(
    'rejects %p naming the input and the value',
    (text) => {
      expect(() => parseDuration('startup-grace', text)).toThrow(
        ConfigurationError
      )
      expect(() => parseDuration('startup-grace', text)).toThrow(
        `Input "startup-grace" has "${text}"`
      )
    }
  )
})

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [75, '1m15s'],
    [3600, '1h'],
    [3725, '1h2m5s']
  ])('formats %d as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text)
  })
})
