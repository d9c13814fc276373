import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'

/**
 * Makes the engine look like a fresh GitHub-hosted runner: no build cache,
 * no images, no cache-mount folder. The base image is pulled back from the
 * loopback registry afterwards because other suites on this machine expect
 * it locally; a pull from loopback takes a couple of seconds. `dockerHost`
 * picks the engine (the default one when absent). (No import of
 * docker-env here: it loads jest, and the benchmark runs outside jest.)
 */
export function ephemeralRunner(
  baseImage: string,
  mountsDir?: string,
  dockerHost?: string
): void {
  const options = {
    stdio: 'pipe' as const,
    env: dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env
  }
  execFileSync('docker', ['buildx', 'prune', '-af'], options)
  execFileSync('docker', ['system', 'prune', '-af'], options)
  if (mountsDir) rmSync(mountsDir, { recursive: true, force: true })
  execFileSync('docker', ['pull', '-q', baseImage], options)
}
