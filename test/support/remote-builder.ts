import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeWithBuildKit } from './describe-with-docker.js'
import { dockerUnavailableReason } from './docker-env.js'

const root = new URL('../..', import.meta.url).pathname
const stateDir = process.env.ERT_STATE_DIR ?? '/var/tmp/ecs-release-train-env'

/**
 * The shared remote builder `scripts/buildkit/remote.sh up` runs:
 * buildkitd on loopback TCP with mutual TLS, and the client's credentials
 * it generated, as a team would hand them to its workflows as secrets.
 */
export const REMOTE_BUILDER = {
  endpoint: `tcp://127.0.0.1:${process.env.ERT_BUILDKIT_REMOTE_PORT ?? '1234'}`,
  certs: join(stateDir, 'buildkit', 'certs', 'client')
}

/** The client's CA, certificate and key as PEM text. */
export function remoteBuilderCredentials(): {
  ca: string
  cert: string
  key: string
} {
  const read = (file: string): string =>
    readFileSync(join(REMOTE_BUILDER.certs, file), 'utf8')
  return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') }
}

let cached: string | undefined

/** Why the remote builder cannot be used here, or '' when it can. */
export function remoteBuilderUnavailableReason(): string {
  if (cached !== undefined) return cached
  cached = dockerUnavailableReason()
  if (cached) return cached
  try {
    // buildctl over mutual TLS with the client's certificates.
    execFileSync('bash', [join(root, 'scripts/buildkit/remote.sh'), 'status'], {
      stdio: 'pipe',
      timeout: 60_000
    })
    remoteBuilderCredentials()
  } catch (error) {
    const status = (error as { stdout?: Buffer }).stdout?.toString().trim()
    cached = `no remote builder answering at ${REMOTE_BUILDER.endpoint} with the certificates in ${REMOTE_BUILDER.certs} (${status || String(error).split('\n')[0]}); run: bash scripts/buildkit/remote.sh up`
  }
  return cached
}

/** `describe` for suites that need the remote builder. */
export function describeWithRemoteBuilder(
  name: string,
  body: () => void
): void {
  describeWithBuildKit(name, remoteBuilderUnavailableReason(), body)
}
