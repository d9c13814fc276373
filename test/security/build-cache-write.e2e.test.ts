import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  startCacheServiceV2,
  type CacheServiceV2
} from '../support/cache-service-v2.js'
import { BASE_IMAGE, REGISTRY } from '../support/docker-env.js'
import { describeWithDocker } from '../support/describe-with-docker.js'
import {
  messages,
  runAction,
  type ActionResult
} from '../support/runner-harness.js'

// Issue #12 item 6: a pull_request_target run builds code and carries a head
// branch name that anyone with a fork chooses. Through the built bundle, with
// the real engine, registry and the v2 cache service: such a run reads the
// base branch's caches and writes none of them.

const BUILD_TIMEOUT = 300_000
const BASE = 'release/1.0'
const ATTACKER_REF = 'attacker-picked'

// A Dockerfile as small as a cache-mount build can be: one manifest copied,
// one RUN with a cache mount that keeps it.
const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
COPY deps.txt /tmp/deps.txt
RUN --mount=type=cache,id=deps,target=/var/cache/deps \\
    cp /tmp/deps.txt /var/cache/deps/ && cat /var/cache/deps/* > /built
`

describeWithDocker(
  'build-cached-image never writes shared caches for an untrusted event',
  () => {
    let work: string
    let mountsDir: string
    let service: CacheServiceV2
    const repository = `ert-sec-cache-${process.pid}-${Date.now() % 100000}`
    const image = `${REGISTRY}/${repository}`

    const tags = async (): Promise<string[]> => {
      const res = await fetch(`http://${REGISTRY}/v2/${repository}/tags/list`)
      if (res.status === 404) return []
      return ((await res.json()) as { tags: string[] | null }).tags ?? []
    }

    const build = (
      eventName: string,
      event: unknown,
      env: Record<string, string>
    ): Promise<ActionResult> =>
      runAction({
        action: 'build-cached-image',
        cwd: work,
        eventName,
        event,
        timeoutMs: BUILD_TIMEOUT,
        env: { ...service.env(), ...env },
        inputs: {
          image,
          'build-args': `BASE_IMAGE=${BASE_IMAGE}`,
          network: 'host',
          push: 'true',
          cache: 'auto',
          'cache-mounts-dir': mountsDir
        }
      })

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'ert-sec-cache-'))
      mountsDir = join(mkdtempSync(join(tmpdir(), 'ert-sec-mounts-')), 'm')
      writeFileSync(join(work, 'Dockerfile'), DOCKERFILE)
      // The run's own nonce keeps the builder's local cache from answering.
      writeFileSync(
        join(work, 'deps.txt'),
        `# ${repository}\nrequests==2.32.3\n`
      )
      service = await startCacheServiceV2()
    }, 60_000)

    afterAll(async () => {
      await service?.close()
      rmSync(work, { recursive: true, force: true })
    })

    it(
      'a push to the base branch writes its cache tag and a cache-mount entry (the stand-ins see writes)',
      async () => {
        const result = await build(
          'push',
          {
            repository: { full_name: 'acme/monolith', default_branch: 'main' }
          },
          { GITHUB_REF: `refs/heads/${BASE}`, GITHUB_REF_NAME: BASE }
        )
        expect(messages(result, 'error')).toEqual([])
        expect(result.exitCode).toBe(0)
        expect(await tags()).toContain('buildcache-release-1.0')
        expect(service.entries().filter((e) => e.committed)).toHaveLength(1)
        expect(await service.blobs()).toHaveLength(1)
      },
      BUILD_TIMEOUT
    )

    it(
      'pull_request_target with an attacker-chosen head ref: base-branch names, read only, no tag and no entry written',
      async () => {
        const tagsBefore = await tags()
        const entriesBefore = service.entries().length
        // The fork's change makes every step after the COPY run, so a run
        // that may write would have something to write.
        writeFileSync(
          join(work, 'deps.txt'),
          `# ${repository}\nrequests==2.32.4\n`
        )
        const result = await build(
          'pull_request_target',
          {
            action: 'synchronize',
            repository: { full_name: 'acme/monolith', default_branch: 'main' },
            pull_request: {
              number: 42,
              base: { ref: BASE, repo: { full_name: 'acme/monolith' } },
              head: {
                ref: ATTACKER_REF,
                repo: { full_name: 'mallory/monolith' }
              }
            }
          },
          {
            // What the runner sets for pull_request_target: the base ref.
            GITHUB_REF: `refs/heads/${BASE}`,
            GITHUB_REF_NAME: BASE,
            GITHUB_BASE_REF: BASE,
            GITHUB_HEAD_REF: ATTACKER_REF
          }
        )
        expect(messages(result, 'error')).toEqual([])
        expect(result.exitCode).toBe(0)
        expect(result.outputs['cache-write']).toBe('false')
        expect(result.summary).toMatch(
          /Cache writes: \*\*off\*\*, event "pull_request_target"/
        )
        // Something ran, so a writing run would have exported.
        expect(result.outputs['first-missed-step']).toMatch(/COPY deps.txt/)

        // Read: the base branch's registry cache; never a name from the head ref.
        expect(result.summary).toContain(
          `type=registry,ref=${image}:buildcache-release-1.0`
        )
        expect(result.stdout).not.toContain(ATTACKER_REF)
        expect(result.summary).not.toContain(ATTACKER_REF)
        expect(result.stdout).not.toMatch(/--cache-to/)

        // Written: nothing shared.
        const tagsAfter = await tags()
        expect(
          tagsAfter.filter((t) => t.startsWith('buildcache-')).sort()
        ).toEqual(tagsBefore.filter((t) => t.startsWith('buildcache-')).sort())
        expect(tagsAfter).not.toContain(ATTACKER_REF)
        expect(tagsAfter).toContain('pr-42')
        expect(service.entries()).toHaveLength(entriesBefore)
        expect(await service.blobs()).toHaveLength(entriesBefore)
        expect(
          service.requests.filter((r) => r.method === 'CreateCacheEntry')
        ).toHaveLength(1)
        // The cache mount was read from the base branch's entry.
        expect(result.summary).toMatch(
          /\| deps \| \S+ \| restored buildkit-mounts-/
        )
        expect(result.summary).toMatch(/skipped: cache writes are off/)
      },
      BUILD_TIMEOUT
    )
  }
)
