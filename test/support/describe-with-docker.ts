import { describe } from '@jest/globals'
import { dockerUnavailableReason } from './docker-env.js'

/**
 * `describe` for suites that need the engine. Without one they are skipped
 * with the reason printed, except under CI=true, where a missing engine is
 * a failure: CI must never go green by skipping the real builds.
 */
export function describeWithDocker(name: string, body: () => void): void {
  const reason = dockerUnavailableReason()
  if (!reason) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`CI=true but ${reason}`)
    })
    return
  }
  console.warn(`SKIPPED "${name}": ${reason}`)
  describe.skip(name, body)
}
