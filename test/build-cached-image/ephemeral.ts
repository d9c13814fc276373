import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'

/**
 * Makes the engine look like a fresh GitHub-hosted runner: no build cache,
 * no images, no cache-mount folder. The base image is pulled back from the
 * loopback registry afterwards because other suites on this machine expect
 * it locally; a pull from loopback takes a couple of seconds. `dockerHost`
 * picks the engine (the default one when absent). With `builder`, a
 * docker-container builder, only that builder's state goes (cache mounts
 * included), as a fresh runner starts a fresh BuildKit; the engine's own
 * images play no part in its builds. (No import of docker-env here: it
 * loads jest, and the benchmark runs outside jest.)
 */
export function ephemeralRunner(
  baseImage: string,
  mountsDir?: string,
  dockerHost?: string,
  builder?: string
): void {
  const options = {
    stdio: 'pipe' as const,
    env: dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env
  }
  if (mountsDir) rmSync(mountsDir, { recursive: true, force: true })
  if (builder) {
    execFileSync(
      'docker',
      ['buildx', 'prune', '-af', '--builder', builder],
      options
    )
    return
  }
  execFileSync('docker', ['buildx', 'prune', '-af'], options)
  execFileSync('docker', ['system', 'prune', '-af'], options)
  execFileSync('docker', ['pull', '-q', baseImage], options)
}
