import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'

/**
 * Makes the engine look like a fresh GitHub-hosted runner: no build cache,
 * no images, no cache-mount folder. The base image is pulled back from the
 * loopback registry afterwards because other suites on this machine expect
 * it locally; a pull from loopback takes a couple of seconds. (No import of
 * docker-env here: it loads jest, and the benchmark runs outside jest.)
 */
export function ephemeralRunner(baseImage: string, mountsDir?: string): void {
  execFileSync('docker', ['buildx', 'prune', '-af'], { stdio: 'pipe' })
  execFileSync('docker', ['system', 'prune', '-af'], { stdio: 'pipe' })
  if (mountsDir) rmSync(mountsDir, { recursive: true, force: true })
  execFileSync('docker', ['pull', '-q', baseImage], { stdio: 'pipe' })
}
