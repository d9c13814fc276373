import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BASE_IMAGE, REGISTRY } from '../support/docker-env.js'
import {
  describeWithRemoteBuilder,
  REMOTE_BUILDER,
  remoteBuilderCredentials
} from '../support/remote-builder.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'
import { selfSignedCertificate } from '../support/test-certificates.js'

const fixture = new URL('../fixtures/monolith', import.meta.url).pathname
// A cold build of the light fixture is minutes; on the shared builder it is
// cold once per machine, then only this run's code change is built.
const BUILD_TIMEOUT = 1_200_000

/** The names of the buildx builders this engine knows. */
function buildxBuilders(): string[] {
  return execFileSync('docker', ['buildx', 'ls', '--format', '{{.Name}}'], {
    encoding: 'utf8'
  })
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
}

async function registryTags(image: string): Promise<string[]> {
  const response = await fetch(
    `http://${REGISTRY}/v2/${image.slice(REGISTRY.length + 1)}/tags/list`
  )
  return ((await response.json()) as { tags?: string[] }).tags ?? []
}

/** The base64 lines of a PEM text: what must never reach a log unmasked. */
function pemBody(pem: string): string[] {
  return pem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'))
}

describeWithRemoteBuilder(
  'build-cached-image on a shared remote builder (buildkitd on TCP with mutual TLS)',
  () => {
    const stamp = `${process.pid}-${Date.now()}`
    const image = `${REGISTRY}/ert-e2e-remote-${stamp}`
    const credentials = remoteBuilderCredentials()
    let work: string
    let runnerTemp: string
    let first: ActionResult

    const run = (
      cwd: string,
      inputs: Record<string, string>
    ): Promise<ActionResult> =>
      runAction({
        action: 'build-cached-image',
        cwd,
        env: { RUNNER_TEMP: runnerTemp },
        timeoutMs: BUILD_TIMEOUT,
        inputs: {
          image,
          'build-args': `PROFILE=light\nBASE_IMAGE=${BASE_IMAGE}`,
          secrets: 'id=ca,src=/etc/ssl/certs/ca-certificates.crt',
          network: 'host',
          push: 'true',
          // The shared builder keeps its own cache mounts.
          'cache-mounts': 'false',
          'builder-endpoint': REMOTE_BUILDER.endpoint,
          // PEM text, as a workflow passes ${{ secrets.* }}.
          'builder-ca': credentials.ca,
          'builder-cert': credentials.cert,
          'builder-key': credentials.key,
          ...inputs
        }
      })

    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'ert-remote-'))
      runnerTemp = mkdtempSync(join(tmpdir(), 'ert-remote-temp-'))
      cpSync(fixture, work, { recursive: true })
      // This run's code change: the dependency stages stay whatever the
      // shared builder already holds, the app stage is new.
      writeFileSync(join(work, 'app', 'build-stamp.txt'), `${stamp}\n`)
    })

    afterAll(() => {
      rmSync(work, { recursive: true, force: true })
      rmSync(runnerTemp, { recursive: true, force: true })
    })

    it(
      'builds and pushes on the remote builder, which writes the registry cache; no certificate reaches the log, and the buildx entry is gone afterwards',
      async () => {
        first = await run(work, { cache: 'registry' })
        console.log(
          `remote builder, light fixture with a code change: ${first.outputs['duration-seconds']} s, ${first.outputs['cached-steps']}/${first.outputs['total-steps']} steps cached`
        )
        expect(messages(first, 'error')).toEqual([])
        expect(first.exitCode).toBe(0)
        const name = /Remote builder (build-cached-image-\S+) connected/.exec(
          first.stdout
        )?.[1]
        expect(name).toBeDefined()
        expect(first.stdout).toMatch(
          new RegExp(`Builder ${name}: driver remote`)
        )
        expect(first.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
        expect(first.outputs['cache-backend']).toBe('registry')
        // Pushed from BuildKit: the engine never loaded it.
        expect(await registryTags(image)).toEqual(
          expect.arrayContaining(['main', 'buildcache-main'])
        )
        expect(() =>
          execFileSync('docker', ['image', 'inspect', `${image}:main`], {
            stdio: 'pipe'
          })
        ).toThrow()
        // The export pass ran on the remote builder and wrote the cache.
        expect(first.summary).toContain('registry, export written')

        // Masked line by line, and never printed otherwise.
        const masked = new Set(
          first.stdout
            .split('\n')
            .filter((l) => l.startsWith('::add-mask::'))
            .map((l) => l.slice('::add-mask::'.length).trim())
        )
        const unmasked = first.output
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n')
        for (const pem of [credentials.ca, credentials.cert, credentials.key]) {
          for (const line of pemBody(pem)) {
            expect(masked).toContain(line)
            expect(unmasked).not.toContain(line)
          }
        }
        expect(first.summary).not.toContain(pemBody(credentials.key)[0])

        expect(buildxBuilders()).not.toContain(name)
        expect(
          readdirSync(runnerTemp).filter((f) =>
            f.startsWith('build-cached-image-tls-')
          )
        ).toEqual([])
      },
      BUILD_TIMEOUT
    )

    it(
      "serves another runner from the shared builder's own cache, with no cache import",
      async () => {
        expect(first?.exitCode).toBe(0)
        const other = mkdtempSync(join(tmpdir(), 'ert-remote-other-'))
        try {
          cpSync(work, other, { recursive: true })
          const second = await run(other, { cache: 'none', tags: 'second' })
          console.log(
            `remote builder, same sources from another workspace: ${second.outputs['duration-seconds']} s, ${second.outputs['cached-steps']}/${second.outputs['total-steps']} steps cached`
          )
          expect(second.exitCode).toBe(0)
          expect(second.outputs['cache-backend']).toBe('none')
          expect(second.stdout).not.toMatch(/importing cache manifest/)
          expect(Number(second.outputs['total-steps'])).toBeGreaterThan(0)
          expect(second.outputs['cached-steps']).toBe(
            second.outputs['total-steps']
          )
          expect(await registryTags(image)).toContain('second')
        } finally {
          rmSync(other, { recursive: true, force: true })
        }
      },
      BUILD_TIMEOUT
    )

    it('fails before any build when the client certificate is not from the builder CA, saying which inputs to fix', async () => {
      const bad = mkdtempSync(join(tmpdir(), 'ert-remote-bad-'))
      try {
        const intruder = selfSignedCertificate(bad, '/CN=intruder')
        const before = buildxBuilders()
        const result = await run(work, {
          // Paths this time: the other form of the inputs.
          'builder-cert': intruder.certFile,
          'builder-key': intruder.keyFile,
          cache: 'none',
          tags: 'never'
        })
        expect(result.exitCode).toBe(1)
        const error = messages(result, 'error').join('\n')
        expect(error).toContain(
          `The BuildKit at input "builder-endpoint" ("${REMOTE_BUILDER.endpoint}") refused this runner: the builder refused the client certificate`
        )
        expect(error).toContain('"builder-cert" and "builder-key"')
        expect(result.durationMs).toBeLessThan(15_000)
        expect(buildxBuilders()).toEqual(before)
        expect(await registryTags(image)).not.toContain('never')
      } finally {
        rmSync(bad, { recursive: true, force: true })
      }
    }, 60_000)
  }
)
