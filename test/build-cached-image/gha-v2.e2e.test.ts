import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startCacheServiceV2,
  WRITE_DENIED,
  type CacheServiceV2
} from '../support/cache-service-v2.js'
import {
  BASE_IMAGE,
  engineEnv,
  REGISTRY,
  selectedEngines,
  type DockerEngine
} from '../support/docker-env.js'
import {
  describeWithDocker,
  engineLabel
} from '../support/describe-with-docker.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { ephemeralRunner } from './ephemeral.js'

// The gha layer cache the way a GitHub-hosted runner reaches it today:
// ACTIONS_CACHE_SERVICE_V2 + ACTIONS_RESULTS_URL, BuildKit's `url_v2`
// client, blobs through Azure Blob signed URLs (Azurite here). A small
// Dockerfile: what is tested is the cache path, not the build.

const BUILD_TIMEOUT = 300_000

/** Why BuildKit on `engine` cannot export a gha cache, or '' when it can. */
function unsupported(engine: DockerEngine): string {
  // A docker-container builder runs its own BuildKit (0.25 here), which has
  // url_v2 and every exporter whatever the engine.
  if (engine.builder) return ''
  const env = { ...process.env, ...engineEnv(engine) }
  const version = execFileSync(
    'docker',
    ['version', '--format', '{{.Server.Version}}'],
    { encoding: 'utf8', env }
  ).trim()
  const info = execFileSync(
    'docker',
    ['info', '--format', '{{json .DriverStatus}}'],
    { encoding: 'utf8', env }
  )
  if (Number(version.split('.')[0]) < 28) {
    return `Docker Engine ${version} embeds a BuildKit older than 0.20, which has no url_v2`
  }
  if (!info.includes('io.containerd.snapshotter')) {
    return 'the classic image store offers the docker driver no gha exporter'
  }
  return ''
}

// The classic store has no gha exporter (its shortfall is tested in
// build-cached-image.e2e.test.ts): the engines that have one.
for (const engine of selectedEngines().filter((e) => e.store !== 'classic')) {
  describeWithDocker(
    `build-cached-image gha layer cache through the cache service v2, and the local one [${engineLabel(engine)}]`,
    () => {
      let work: string
      let service: CacheServiceV2
      const skip = unsupported(engine)
      const nonce = `${process.pid}-${Date.now() % 100000}`

      const build = (
        env: Record<string, string> = {},
        inputs: Record<string, string> = {}
      ): Promise<ActionResult> =>
        runAction({
          action: 'build-cached-image',
          cwd: work,
          timeoutMs: BUILD_TIMEOUT,
          env: { ...service.env(), ...engineEnv(engine), ...env },
          inputs: {
            image: `${REGISTRY}/ert-gha-v2-${engine.store}-${nonce}`,
            'build-args': `BASE_IMAGE=${BASE_IMAGE}`,
            network: 'host',
            cache: 'gha',
            'cache-mounts': 'false',
            // A container builder keeps an image it does not export only in
            // its own cache (no digest): push it, as its users do.
            ...(engine.builder ? { push: 'true' } : {}),
            ...inputs
          }
        })

      beforeAll(async () => {
        work = mkdtempSync(join(tmpdir(), 'ert-gha-v2-'))
        writeFileSync(
          join(work, 'Dockerfile'),
          `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${nonce} > /nonce && head -c 2000000 /dev/urandom > /blob\nRUN wc -c /blob > /size\n`
        )
        service = await startCacheServiceV2()
      }, 60_000)

      afterAll(async () => {
        await service?.close()
        rmSync(work, { recursive: true, force: true })
      })

      it(
        'cold build exports through url_v2 into Azurite; a fresh runner gets every step from it',
        async () => {
          if (skip) {
            console.warn(`SKIPPED gha v2 export: ${skip}`)
            return
          }
          ephemeralRunner(BASE_IMAGE, undefined, engine.host, engine.builder)
          const cold = await build()
          expect(messages(cold, 'error')).toEqual([])
          expect(messages(cold, 'warning')).toEqual([])
          expect(cold.exitCode).toBe(0)
          expect(cold.outputs['cache-backend']).toBe('gha')
          expect(cold.summary).toContain('export written')
          expect(cold.summary).toMatch(
            /type=gha,url_v2=http:\/\/127\.0\.0\.1:\d+\//
          )
          // One entry per layer blob plus the scope's index, each a blob in Azurite.
          const entries = service.entries().filter((e) => e.committed)
          expect(entries.some((e) => e.key.startsWith('index-'))).toBe(true)
          expect(entries.some((e) => e.key.startsWith('buildkit-blob-'))).toBe(
            true
          )
          const blobs = await service.blobs()
          for (const entry of entries) {
            expect(blobs).toContainEqual({ name: entry.blob, size: entry.size })
          }
          expect(blobs.some((b) => b.size > 1_000_000)).toBe(true)

          ephemeralRunner(BASE_IMAGE, undefined, engine.host, engine.builder)
          const warm = await build()
          expect(warm.exitCode).toBe(0)
          expect(warm.outputs['cached-steps']).toBe(warm.outputs['total-steps'])
          expect(Number(warm.outputs['total-steps'])).toBe(2)
          expect(
            service.requests.filter(
              (r) => r.method === 'GetCacheEntryDownloadURL'
            ).length
          ).toBeGreaterThan(0)
        },
        2 * BUILD_TIMEOUT
      )

      it(
        'a write-denied token: the build goes on, and the warning names the cause',
        async () => {
          if (skip) {
            console.warn(`SKIPPED gha v2 write denied: ${skip}`)
            return
          }
          service.options.writeDenied = true
          try {
            writeFileSync(
              join(work, 'Dockerfile'),
              `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${nonce}-denied > /nonce\n`
            )
            const before = service.entries().length
            const result = await build()
            expect(result.exitCode).toBe(0)
            expect(result.outputs.digest).toMatch(/^sha256:/)
            expect(messages(result, 'warning').join('\n')).toMatch(
              /exporting the gha cache failed: .*failed to reserve cache \(the Actions cache service refused a new entry: the token of this run is read only, "cache write denied"/
            )
            expect(service.entries().length).toBe(before)
            expect(WRITE_DENIED).toMatch(/^cache write denied:/)
          } finally {
            service.options.writeDenied = false
          }
        },
        BUILD_TIMEOUT
      )

      it(
        'ACTIONS_CACHE_MODE=read: reads the gha cache, writes nothing, says why',
        async () => {
          if (skip) {
            console.warn(`SKIPPED gha v2 read mode: ${skip}`)
            return
          }
          writeFileSync(
            join(work, 'Dockerfile'),
            `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${nonce}-read > /nonce\n`
          )
          const before = service.entries().length
          const result = await build({ ACTIONS_CACHE_MODE: 'read' })
          expect(result.exitCode).toBe(0)
          expect(messages(result, 'warning').join('\n')).toMatch(
            /Actions cache is read only for this run \(ACTIONS_CACHE_MODE is "read", which allows no writes\)/
          )
          expect(result.summary).toMatch(/Layer cache[\s\S]*gha, export none/)
          expect(service.entries().length).toBe(before)
        },
        BUILD_TIMEOUT
      )

      it(
        'local layer cache: a fresh builder gets every step from the folder',
        async () => {
          if (skip) {
            console.warn(`SKIPPED local layer cache: ${skip}`)
            return
          }
          const dir = mkdtempSync(join(tmpdir(), 'ert-local-layers-'))
          try {
            writeFileSync(
              join(work, 'Dockerfile'),
              `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${nonce}-local > /nonce && head -c 500000 /dev/urandom > /blob\n`
            )
            const inputs = { cache: 'local', 'local-cache-dir': dir }
            const cold = await build({}, inputs)
            expect(messages(cold, 'error')).toEqual([])
            expect(cold.outputs['cache-backend']).toBe('local')
            expect(cold.outputs['cached-steps']).toBe('0')
            expect(existsSync(join(dir, 'index.json'))).toBe(true)
            ephemeralRunner(BASE_IMAGE, undefined, engine.host, engine.builder)
            const warm = await build({}, inputs)
            expect(warm.exitCode).toBe(0)
            expect(Number(warm.outputs['total-steps'])).toBeGreaterThan(0)
            expect(warm.outputs['cached-steps']).toBe(
              warm.outputs['total-steps']
            )
          } finally {
            rmSync(dir, { recursive: true, force: true })
          }
        },
        2 * BUILD_TIMEOUT
      )
    },
    engine
  )
}
