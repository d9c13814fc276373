import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BASE_IMAGE, REGISTRY } from '../support/docker-env.js'
import { describeWithDocker } from '../support/describe-with-docker.js'
import {
  immutableTagMessage,
  startImmutableRegistry,
  type ImmutableRegistry
} from '../support/immutable-registry.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'

// ECR's rules end to end: the loopback registry behind a proxy that refuses
// tag overwrites on IMMUTABLE repositories with ECR's error. A small
// Dockerfile whose content changes every build, so every push is new.

const BUILD_TIMEOUT = 300_000
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

type Manifest = {
  mediaType?: string
  artifactType?: string
  subject?: unknown
  manifests?: {
    digest: string
    artifactType?: string
    annotations?: Record<string, string>
  }[]
}

async function manifest(repository: string, ref: string): Promise<Manifest> {
  const res = await fetch(
    `http://${REGISTRY}/v2/${repository}/manifests/${ref}`,
    {
      headers: { accept: ACCEPT }
    }
  )
  if (!res.ok) throw new Error(`${repository}:${ref}: ${res.status}`)
  return (await res.json()) as Manifest
}

async function digestOf(repository: string, tag: string): Promise<string> {
  const res = await fetch(
    `http://${REGISTRY}/v2/${repository}/manifests/${tag}`,
    {
      method: 'HEAD',
      headers: { accept: ACCEPT }
    }
  )
  return res.headers.get('docker-content-digest') ?? ''
}

function containerdStore(): boolean {
  return execFileSync(
    'docker',
    ['info', '--format', '{{json .DriverStatus}}'],
    {
      encoding: 'utf8'
    }
  ).includes('io.containerd.snapshotter')
}

describeWithDocker(
  'build-cached-image against ECR rules (immutable tags, attestations)',
  () => {
    let work: string
    let proxy: ImmutableRegistry
    let counter = 0
    const nonce = `${process.pid}-${Date.now() % 100000}`
    const app = `ert-ecr-app-${nonce}`
    const cacheRepo = `ert-ecr-cache-${nonce}`
    const solo = `ert-ecr-solo-${nonce}`

    const build = (
      repository: string,
      inputs: Record<string, string>
    ): Promise<ActionResult> => {
      counter += 1
      writeFileSync(
        join(work, 'Dockerfile'),
        `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nRUN echo ${nonce}-${counter} > /build\n`
      )
      return runAction({
        action: 'build-cached-image',
        cwd: work,
        timeoutMs: BUILD_TIMEOUT,
        inputs: {
          image: `${proxy.host}/${repository}`,
          'build-args': `BASE_IMAGE=${BASE_IMAGE}`,
          network: 'host',
          push: 'true',
          cache: 'registry',
          'cache-mounts': 'false',
          ...inputs
        }
      })
    }

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'ert-ecr-'))
      proxy = await startImmutableRegistry(
        REGISTRY.replace('localhost', '127.0.0.1'),
        [app, solo]
      )
    })

    afterAll(async () => {
      await proxy?.close()
      rmSync(work, { recursive: true, force: true })
    })

    it(
      'IMMUTABLE image repository + MUTABLE cache-repository: new tags push, the cache tag moves, attestations stay in index form',
      async () => {
        const inputs = { 'cache-repository': `${proxy.host}/${cacheRepo}` }
        const first = await build(app, { ...inputs, tags: 'v1' })
        expect(messages(first, 'error')).toEqual([])
        expect(first.exitCode).toBe(0)
        const cacheBefore = await digestOf(cacheRepo, 'buildcache-main')
        expect(cacheBefore).toMatch(/^sha256:/)

        const second = await build(app, { ...inputs, tags: 'v2' })
        expect(messages(second, 'error')).toEqual([])
        expect(messages(second, 'warning')).toEqual([])
        expect(second.exitCode).toBe(0)
        expect(await digestOf(cacheRepo, 'buildcache-main')).not.toBe(
          cacheBefore
        )
        expect(proxy.refusals).toEqual([])
        // No cache tag ever lands in the image repository.
        const tags = (await (
          await fetch(`http://${REGISTRY}/v2/${app}/tags/list`)
        ).json()) as { tags: string[] }
        expect(tags.tags.sort()).toEqual(['v1', 'v2'])

        if (!containerdStore()) {
          console.warn(
            'SKIPPED attestation form: the classic image store keeps no attestations'
          )
          return
        }
        // Provenance (mode=min by default) sits in the image index as an
        // attestation manifest, not as an OCI artifact with a subject.
        const index = await manifest(app, 'v2')
        expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json')
        const attestation = index.manifests?.find(
          (m) =>
            m.annotations?.['vnd.docker.reference.type'] ===
            'attestation-manifest'
        )
        expect(attestation).toBeDefined()
        expect(
          index.manifests?.every((m) => m.artifactType === undefined)
        ).toBe(true)
        const stored = await manifest(app, attestation!.digest)
        expect(stored.subject).toBeUndefined()
        expect(stored.artifactType).toBeUndefined()
      },
      2 * BUILD_TIMEOUT
    )

    it(
      'pushing an existing immutable tag with other content fails with ECR’s message and a hint',
      async () => {
        const result = await build(app, {
          'cache-repository': `${proxy.host}/${cacheRepo}`,
          tags: 'v1'
        })
        expect(result.exitCode).toBe(1)
        const error = messages(result, 'error').join('\n')
        expect(error).toContain(immutableTagMessage(app, 'v1'))
        expect(error).toMatch(
          /Hint: ".+" has IMMUTABLE tags, so every tag pushed must be new\. Set input "tags"/
        )
        expect(proxy.refusals).toContainEqual({ repository: app, tag: 'v1' })
      },
      BUILD_TIMEOUT
    )

    it(
      'without cache-repository the moving cache tag is refused: a warning with ECR’s message and a hint, the image still pushed',
      async () => {
        const first = await build(solo, { tags: 'a1' })
        expect(first.exitCode).toBe(0)
        const second = await build(solo, { tags: 'a2' })
        expect(second.exitCode).toBe(0)
        expect(second.outputs.digest).toMatch(/^sha256:/)
        const warning = messages(second, 'warning').join('\n')
        // BuildKit's cache exporter shows only the status; the warning names
        // ECR's rule as its likely cause.
        expect(warning).toMatch(
          /exporting the registry cache failed: .*manifests\/buildcache-main: 400 Bad Request/
        )
        expect(warning).toContain(immutableTagMessage(solo, 'buildcache-main'))
        expect(proxy.refusals).toContainEqual({
          repository: solo,
          tag: 'buildcache-main'
        })
        expect(warning).toMatch(
          /Set input "cache-repository" to a repository with MUTABLE tags/
        )
        expect(second.summary).toContain('export failed')
      },
      2 * BUILD_TIMEOUT
    )

    it(
      'provenance false pushes a plain image manifest, no index',
      async () => {
        const result = await build(app, {
          'cache-repository': `${proxy.host}/${cacheRepo}`,
          tags: 'plain',
          provenance: 'false'
        })
        expect(result.exitCode).toBe(0)
        const pushed = await manifest(app, 'plain')
        expect(pushed.mediaType).toBe(
          'application/vnd.oci.image.manifest.v1+json'
        )
      },
      BUILD_TIMEOUT
    )

    it('a bad provenance value fails before building', async () => {
      const result = await build(app, { provenance: 'yes-please' })
      expect(result.exitCode).toBe(1)
      expect(messages(result, 'error').join()).toMatch(
        /Input "provenance" has "yes-please"; expected one of: false, true, mode=min, mode=max/
      )
      expect(result.stdout).not.toContain('Builder ')
    })
  }
)
