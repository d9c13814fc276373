import { describe } from '@jest/globals'
import {
  containerBuilderUnavailableReason,
  dockerUnavailableReason,
  selectedEngines,
  type DockerEngine
} from './docker-env.js'

/** `containerd store`, `classic store`, `container builder`. */
export function engineLabel(engine: DockerEngine): string {
  return engine.builder ? `${engine.store} builder` : `${engine.store} store`
}

/**
 * `describe` for suites that need the engine. Without one they are skipped
 * with the reason printed, except under CI=true, where a missing engine is
 * a failure: CI must never go green by skipping the real builds. Without
 * `engine`, the suite runs on whatever engine DOCKER_HOST reaches.
 */
export function describeWithDocker(
  name: string,
  body: () => void,
  engine?: DockerEngine
): void {
  const reason = dockerUnavailableReason(engine)
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

/**
 * The same suite once per engine (the containerd and classic image stores
 * and the docker-container builder, or those ERT_STORES names); the body
 * gets the engine to point DOCKER_HOST and BUILDX_BUILDER at.
 */
export function describeOnEachStore(
  name: string,
  body: (engine: DockerEngine) => void
): void {
  for (const engine of selectedEngines()) {
    describeWithDocker(
      `${name} [${engineLabel(engine)}]`,
      () => body(engine),
      engine
    )
  }
}

/**
 * `describe` for suites that need the `docker-container` builder that
 * scripts/buildkit-image.sh makes.
 */
export function describeWithContainerBuilder(
  name: string,
  body: () => void
): void {
  describeWithBuildKit(name, containerBuilderUnavailableReason(), body)
}

/**
 * `describe` for suites that need a BuildKit the test environment builds
 * (the container or the remote builder): `reason` says why it is missing.
 * Under CI=true a missing one is a failure unless ERT_BUILDKIT=0 said not to
 * build BuildKit at all.
 */
export function describeWithBuildKit(
  name: string,
  reason: string,
  body: () => void
): void {
  if (!reason) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true' && process.env.ERT_BUILDKIT !== '0') {
    describe(name, () => {
      throw new Error(`CI=true but ${reason}`)
    })
    return
  }
  console.warn(`SKIPPED "${name}": ${reason}`)
  describe.skip(name, body)
}
