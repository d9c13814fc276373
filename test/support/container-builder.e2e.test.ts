import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BASE_IMAGE, CONTAINER_BUILDER, REGISTRY } from './docker-env.js'
import { describeWithContainerBuilder } from './describe-with-docker.js'

const run = promisify(execFile)
const tag = `${process.pid}-${Date.now()}`
const repo = `${REGISTRY}/ert-container-probe`
const cacheRef = `${repo}:buildcache-${tag}`
let context: string
let out: string

/** A build on the container builder; returns its plain progress. */
async function build(stamp: string, ...extra: string[]): Promise<string> {
  const { stderr } = await run(
    'docker',
    [
      'buildx',
      'build',
      '--builder',
      CONTAINER_BUILDER,
      '--progress=plain',
      '--build-arg',
      `BASE_IMAGE=${BASE_IMAGE}`,
      '--build-arg',
      `STAMP=${stamp}`,
      ...extra,
      context
    ],
    { maxBuffer: 64 * 1024 * 1024 }
  )
  return stderr
}

async function registryHas(ref: string): Promise<boolean> {
  const [name, reference] = ref.slice(REGISTRY.length + 1).split(':')
  const response = await fetch(
    `http://${REGISTRY}/v2/${name}/manifests/${reference}`,
    {
      method: 'HEAD',
      headers: {
        accept:
          'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'
      }
    }
  )
  return response.ok
}

describeWithContainerBuilder(
  'test environment: the docker-container builder on locally built BuildKit',
  () => {
    beforeAll(async () => {
      context = await mkdtemp(join(tmpdir(), 'ert-container-'))
      out = await mkdtemp(join(tmpdir(), 'ert-container-out-'))
      await writeFile(
        join(context, 'Dockerfile'),
        [
          'ARG BASE_IMAGE',
          'FROM ${BASE_IMAGE}',
          `RUN echo ${tag} > /probe`,
          'ARG STAMP',
          // What earlier builds left in the cache mount, then this build's mark.
          `RUN --mount=type=cache,id=ert-probe-${tag},target=/cache ls /cache > /seen && touch /cache/$STAMP`
        ].join('\n')
      )
    })

    afterAll(async () => {
      await rm(context, { recursive: true, force: true })
      await rm(out, { recursive: true, force: true })
    })

    it('runs the BuildKit image from the loopback registry with host networking', async () => {
      const { stdout } = await run('docker', [
        'buildx',
        'inspect',
        CONTAINER_BUILDER
      ])
      expect(stdout).toMatch(/^Driver:\s+docker-container$/m)
      expect(stdout).toMatch(/^Status:\s+running$/m)
      expect(stdout).toMatch(/^BuildKit version:\s+v0\.\d+\.\d+/m)
      const image = /image="([^"]+)"/.exec(stdout)?.[1] ?? ''
      expect(image).toMatch(new RegExp(`^${REGISTRY}/buildkit:v0\\.`))
      expect(stdout).toContain('network="host"')
      expect(await registryHas(image)).toBe(true)
    })

    it('pushes from BuildKit without loading into the engine, keeps cache mounts, and restores from the registry cache after its own state is pruned', async () => {
      const image = `${repo}:${tag}`
      const cold = await build(
        'first',
        '--cache-to',
        `type=registry,ref=${cacheRef},mode=max,image-manifest=true,oci-mediatypes=true`,
        '-t',
        image,
        '--push'
      )
      // The base image may already be in the builder; the probe step must run.
      expect(cold).toMatch(/RUN echo \S+ > \/probe\n#\d+ DONE/)
      expect(await registryHas(image)).toBe(true)
      await expect(run('docker', ['image', 'inspect', image])).rejects.toThrow()

      // The cache mount lives in the builder: a second build sees the first's mark.
      await build('second', '--output', `type=local,dest=${out}`)
      expect((await readFile(join(out, 'seen'), 'utf8')).split('\n')).toContain(
        'first'
      )

      // A fresh runner's builder: no local state, only the registry cache.
      await run('docker', [
        'buildx',
        'prune',
        '--builder',
        CONTAINER_BUILDER,
        '-af'
      ])
      const warm = await build(
        'first',
        '--cache-from',
        `type=registry,ref=${cacheRef}`,
        '-t',
        image,
        '--push'
      )
      expect(warm).toMatch(/importing cache manifest from/)
      expect(warm).toMatch(/RUN echo \S+ > \/probe\n#\d+ CACHED/)
    }, 300_000)
  }
)
