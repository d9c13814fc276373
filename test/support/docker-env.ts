import { execFileSync } from 'node:child_process'

/** The loopback registry the test environment script starts. */
export const REGISTRY = process.env.ERT_REGISTRY ?? 'localhost:5000'
/** The base image that script pushes, since Docker Hub is out of reach. */
export const BASE_IMAGE =
  process.env.ERT_BASE_IMAGE ?? `${REGISTRY}/debian:bookworm`

let cached: string | undefined

/** Why Docker tests cannot run here, or '' when they can. */
export function dockerUnavailableReason(): string {
  if (cached !== undefined) return cached
  try {
    execFileSync('docker', ['buildx', 'version'], {
      stdio: 'pipe',
      timeout: 20_000
    })
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      stdio: 'pipe',
      timeout: 20_000
    })
    execFileSync(
      'curl',
      ['-fsS', `http://${REGISTRY.replace('localhost', '127.0.0.1')}/v2/`],
      {
        stdio: 'pipe',
        timeout: 10_000
      }
    )
    cached = ''
  } catch (error) {
    cached = `no Docker engine with buildx and registry at ${REGISTRY} (${String(error).split('\n')[0]}); run: sudo bash scripts/test-env.sh up`
  }
  return cached
}
