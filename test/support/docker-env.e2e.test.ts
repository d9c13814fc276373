import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BASE_IMAGE, REGISTRY } from './docker-env.js'
import { describeWithDocker } from './describe-with-docker.js'

const run = promisify(execFile)
let context: string
const tag = `${Date.now()}`
const cacheRef = `${REGISTRY}/ert-env-probe:buildcache-${tag}`

/** A build as an ephemeral runner would do it: registry cache only. */
async function build(withCacheFrom: boolean): Promise<string> {
  const args = [
    'buildx',
    'build',
    '--progress=plain',
    // RUN steps on the host network, as the other suites: the engine of the
    // test world starts without a docker0 bridge.
    '--network=host',
    '--build-arg',
    `BASE_IMAGE=${BASE_IMAGE}`,
    '--cache-to',
    `type=registry,ref=${cacheRef},mode=max,image-manifest=true,oci-mediatypes=true`,
    ...(withCacheFrom ? ['--cache-from', `type=registry,ref=${cacheRef}`] : []),
    '-t',
    `${REGISTRY}/ert-env-probe:${tag}`,
    '--push',
    context
  ]
  const { stderr } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 })
  return stderr
}

describeWithDocker('test environment: buildx with a registry cache', () => {
  beforeAll(async () => {
    context = await mkdtemp(join(tmpdir(), 'ert-env-'))
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'ARG BASE_IMAGE',
        'FROM ${BASE_IMAGE}',
        `RUN echo ${tag} > /probe && sleep 2`,
        'RUN cat /probe > /copy'
      ].join('\n')
    )
  })

  afterAll(async () => {
    await rm(context, { recursive: true, force: true })
  })

  it('restores steps from the registry cache after every local image and cache is pruned', async () => {
    const cold = await build(false)
    // The base image's FROM may be cached in the builder already; the probe
    // step, whose command is new, must have run.
    const probe = /^#(\d+) \[[^\]]*\] RUN echo/m.exec(cold)
    expect(probe).not.toBeNull()
    expect(cold).not.toMatch(new RegExp(`^#${probe?.[1]} CACHED`, 'm'))

    // What an ephemeral runner starts with: nothing local at all.
    await run('docker', ['buildx', 'prune', '-af'])
    await run('docker', ['system', 'prune', '-af'])

    const warm = await build(true)
    expect(warm).toMatch(/importing cache manifest from/)
    const cachedSteps = warm.split('\n').filter((line) => /CACHED/.test(line))
    expect(cachedSteps.length).toBeGreaterThanOrEqual(1)
    expect(warm).toMatch(/RUN echo/)
  }, 300_000)
})
