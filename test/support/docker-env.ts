import { execFileSync } from 'node:child_process'

/** The loopback registry the test environment script starts. */
export const REGISTRY = process.env.ERT_REGISTRY ?? 'localhost:5000'
/** The base image that script pushes, since Docker Hub is out of reach. */
export const BASE_IMAGE =
  process.env.ERT_BASE_IMAGE ?? `${REGISTRY}/debian:bookworm`

/**
 * The `docker-container` builder scripts/buildkit-image.sh creates from the
 * locally built BuildKit image (the builder setup-buildx-action gives most
 * GitHub users).
 */
export const CONTAINER_BUILDER =
  process.env.ERT_BUILDKIT_BUILDER ?? 'ert-buildkit'

/** One of the build engines scripts/test-env.sh sets up side by side. */
export interface DockerEngine {
  /**
   * The docker driver's image store, `containerd` (Docker 29's default) or
   * `classic` (GitHub's ubuntu-24.04 runners), or `container`: the
   * docker-container builder (setup-buildx-action's) on the default engine.
   */
  store: 'containerd' | 'classic' | 'container'
  /** The DOCKER_HOST that reaches it. */
  host: string
  /** The buildx builder its builds use; the engine's own docker builder when absent. */
  builder?: string
}

const DEFAULT_HOST =
  process.env.ERT_DOCKER_HOST ?? 'unix:///var/run/docker.sock'

export const ENGINES: readonly DockerEngine[] = [
  { store: 'containerd', host: DEFAULT_HOST },
  {
    store: 'classic',
    host:
      process.env.ERT_CLASSIC_DOCKER_HOST ??
      'unix:///var/run/docker-classic.sock'
  },
  { store: 'container', host: DEFAULT_HOST, builder: CONTAINER_BUILDER }
]

/**
 * The engines a run covers: all three (the container builder only when
 * ERT_BUILDKIT is not 0), unless ERT_STORES names some
 * (`ERT_STORES=classic,container npm test -- test/build-cached-image`).
 */
export function selectedEngines(): DockerEngine[] {
  const wanted = (process.env.ERT_STORES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = wanted.filter((s) => !ENGINES.some((e) => e.store === s))
  if (unknown.length > 0) {
    throw new Error(
      `ERT_STORES has "${unknown.join(',')}"; expected containerd, classic and/or container`
    )
  }
  if (wanted.length > 0) return ENGINES.filter((e) => wanted.includes(e.store))
  return ENGINES.filter(
    (e) => e.store !== 'container' || process.env.ERT_BUILDKIT !== '0'
  )
}

/**
 * The environment that points docker and buildx at an engine; a builder is
 * made the current one (BUILDX_BUILDER), as setup-buildx-action does with
 * `docker buildx use`.
 */
export function engineEnv(engine: DockerEngine): Record<string, string> {
  return {
    DOCKER_HOST: engine.host,
    ...(engine.builder ? { BUILDX_BUILDER: engine.builder } : {})
  }
}

const cached = new Map<string, string>()

/**
 * Why Docker tests cannot run here, or '' when they can: on `engine` (whose
 * store must then be the one it names), or on whatever engine DOCKER_HOST
 * reaches when no engine is given.
 */
export function dockerUnavailableReason(engine?: DockerEngine): string {
  if (engine?.builder) return containerBuilderUnavailableReason()
  const host = engine?.host ?? process.env.DOCKER_HOST ?? ''
  const known = cached.get(host)
  if (known !== undefined) return known
  const env = engine ? { ...process.env, ...engineEnv(engine) } : process.env
  let reason = ''
  try {
    execFileSync('docker', ['buildx', 'version'], {
      stdio: 'pipe',
      timeout: 20_000,
      env
    })
    const driver = execFileSync(
      'docker',
      ['info', '--format', '{{json .DriverStatus}}'],
      { stdio: 'pipe', timeout: 20_000, env }
    ).toString()
    const containerd = driver.includes('io.containerd.snapshotter')
    if (engine && containerd !== (engine.store === 'containerd')) {
      throw new Error(
        `the engine at ${engine.host} does not use the ${engine.store} image store`
      )
    }
    execFileSync(
      'curl',
      ['-fsS', `http://${REGISTRY.replace('localhost', '127.0.0.1')}/v2/`],
      {
        stdio: 'pipe',
        timeout: 10_000
      }
    )
  } catch (error) {
    const what = engine
      ? `${engine.store}-store Docker engine with buildx at ${engine.host}`
      : 'Docker engine with buildx'
    reason = `no ${what} and registry at ${REGISTRY} (${String(error).split('\n')[0]}); run: bash scripts/test-env.sh up`
  }
  cached.set(host, reason)
  return reason
}

let containerCached: string | undefined

/** Why the container builder cannot be used here, or '' when it can. */
export function containerBuilderUnavailableReason(): string {
  if (containerCached !== undefined) return containerCached
  containerCached = dockerUnavailableReason()
  if (containerCached) return containerCached
  try {
    // --bootstrap starts the builder's container if an engine restart or a
    // prune stopped it, and fails if it cannot run.
    const inspect = execFileSync(
      'docker',
      ['buildx', 'inspect', '--bootstrap', CONTAINER_BUILDER],
      { stdio: 'pipe', timeout: 120_000, encoding: 'utf8' }
    )
    const driver = /^Driver:\s*(\S+)/m.exec(inspect)?.[1]
    const status = /^Status:\s*(\S+)/m.exec(inspect)?.[1]
    if (driver !== 'docker-container' || status !== 'running') {
      throw new Error(`driver ${driver ?? '?'}, status ${status ?? '?'}`)
    }
  } catch (error) {
    containerCached = `no running docker-container builder ${CONTAINER_BUILDER} (${String(error).split('\n')[0]}); run: bash scripts/test-env.sh up`
  }
  return containerCached
}
