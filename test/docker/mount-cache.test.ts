import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionsCacheService } from '../../src/docker/actions-cache.js'
import type { CommandRunner } from '../../src/common/command-runner.js'
import {
  restoreMounts,
  saveMounts,
  type MountCacheDeps,
  type MountCacheOptions,
  type MountCacheStore
} from '../../src/docker/mount-cache.js'
import type { StepReport } from '../../src/docker/rawjson-progress.js'

// The cache-mount lifecycle through its two seams: a store that keeps
// entries as folder copies (the part @actions/cache plays), and a runner
// that plays BuildKit's helper builds against an in-memory set of mounts.

const RUN =
  'RUN --mount=type=cache,id=pip,target=/root/.cache/pip pip install -r /tmp/requirements.txt'
const DOCKERFILE = `FROM debian:bookworm\nCOPY requirements.txt /tmp/\n${RUN}\n`

let root: string

/** Entries as folder copies, keyed like the service: exact, then prefix. */
function folderStore(): MountCacheStore & {
  saved: string[]
  entries: Map<string, string>
} {
  const entries = new Map<string, string>()
  const saved: string[] = []
  return {
    entries,
    saved,
    async restore(paths, key, restoreKeys, lookupOnly) {
      const hit =
        [...entries.keys()].find((k) => k === key) ??
        restoreKeys
          .map((p) =>
            [...entries.keys()].reverse().find((k) => k.startsWith(p))
          )
          .find(Boolean)
      if (!hit) return undefined
      if (!lookupOnly)
        await cp(entries.get(hit)!, paths[0], { recursive: true })
      return hit
    },
    async save(paths, key) {
      if (entries.has(key)) return -1
      const copy = join(root, 'store', String(entries.size))
      await cp(paths[0], copy, { recursive: true })
      entries.set(key, copy)
      saved.push(key)
      return entries.size
    }
  }
}

/** Plays the helper builds: inject copies `<context>/<n>` in, extract copies out. */
function helperBuilds(
  mounts: Map<string, Map<string, string>>,
  fail = false
): CommandRunner & { calls: string[][] } {
  const calls: string[][] = []
  const runner = (async (_command: string, args: string[]) => {
    calls.push(args)
    if (fail) return { exitCode: 1, stdout: '', stderr: 'ERROR: no space left' }
    const dockerfile = await readFile(args[args.indexOf('--file') + 1], 'utf8')
    const ids = [...dockerfile.matchAll(/id=([^,\s]+)/g)].map((m) => m[1])
    const output = args[args.indexOf('--output') + 1]
    const context = args.at(-1) as string
    for (const [i, id] of ids.entries()) {
      if (output === 'type=cacheonly') {
        const files = new Map<string, string>()
        const dir = join(context, String(i))
        for (const name of await readdir(dir)) {
          files.set(name, await readFile(join(dir, name), 'utf8'))
        }
        mounts.set(id, files)
      } else {
        const dest = join(output.replace('type=local,dest=', ''), String(i))
        await mkdir(dest, { recursive: true })
        for (const [name, text] of mounts.get(id) ?? []) {
          await writeFile(join(dest, name), text)
        }
      }
    }
    return { exitCode: 0, stdout: '', stderr: '' }
  }) as CommandRunner & { calls: string[][] }
  runner.calls = calls
  return runner
}

function report(ran: boolean): StepReport {
  const step = { name: `[2/3] ${RUN}`, cached: !ran, logTail: [] }
  return {
    steps: [step],
    totalSteps: 1,
    cachedSteps: ran ? 0 : 1,
    hitRatio: ran ? 0 : 1,
    firstMiss: ran ? step : undefined
  }
}

const v2 = actionsCacheService({
  ACTIONS_CACHE_SERVICE_V2: 'true',
  ACTIONS_RESULTS_URL: 'http://127.0.0.1:1/',
  ACTIONS_RUNTIME_TOKEN: 't'
})

function options(
  overrides: Partial<MountCacheOptions> = {}
): MountCacheOptions {
  return {
    dockerfile: DOCKERFILE,
    context: join(root, 'ctx'),
    buildArgs: {},
    cacheKeyFiles: [],
    platforms: [],
    imagePath: 'team/monolith',
    dir: join(root, 'mounts'),
    workspace: join(root, 'ctx'),
    layerCached: () => true,
    service: v2,
    write: { allowed: true, reason: 'event "push"' },
    ...overrides
  }
}

function deps(
  store: MountCacheStore,
  runner: CommandRunner
): MountCacheDeps & { warnings: string[] } {
  const warnings: string[] = []
  return {
    runner,
    store,
    info: () => undefined,
    warning: (m) => warnings.push(m),
    warnings
  }
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ert-mount-cache-'))
  await mkdir(join(root, 'ctx'), { recursive: true })
  await writeFile(join(root, 'ctx', 'requirements.txt'), 'django==5.2\n')
})

afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('cache-mount lifecycle', () => {
  it('a Dockerfile without cache mounts has nothing to do', async () => {
    const store = folderStore()
    expect(
      await restoreMounts(
        options({ dockerfile: 'FROM debian\nRUN true\n' }),
        deps(store, helperBuilds(new Map())),
        root,
        'n'
      )
    ).toBeUndefined()
  })

  it('cold: misses, then saves what the build left in the mount under the manifests’ key', async () => {
    const builder = new Map([['pip', new Map([['django.whl', 'wheel']])]])
    const store = folderStore()
    const exec = helperBuilds(builder)
    const d = deps(store, exec)
    const entries = (await restoreMounts(options(), d, root, 'n'))!
    expect(entries[0].outcome).toMatchObject({
      restore: 'miss',
      files: ['requirements.txt']
    })
    await saveMounts(entries, options(), d, report(true), root, 'n')
    expect(entries[0].outcome.save).toBe('saved')
    expect(store.saved).toEqual([entries[0].outcome.key])
    expect(entries[0].outcome.key).toMatch(
      /^buildkit-mounts-team-monolith-linux-/
    )
  })

  it('unchanged manifests: the exact key is only looked up, not downloaded, and not saved again', async () => {
    const store = folderStore()
    const d = deps(
      store,
      helperBuilds(new Map([['pip', new Map([['a', 'b']])]]))
    )
    const first = (await restoreMounts(options(), d, root, 'n'))!
    await saveMounts(first, options(), d, report(true), root, 'n')
    const exec = helperBuilds(new Map())
    const again = (await restoreMounts(
      options(),
      deps(store, exec),
      root,
      'n'
    ))!
    expect(again[0].outcome.restore).toMatch(/^skipped: manifests unchanged/)
    expect(exec.calls).toEqual([])
    await saveMounts(
      again,
      options(),
      deps(store, exec),
      report(false),
      root,
      'n'
    )
    expect(again[0].outcome.save).toBe(
      'skipped: the cache already has this key'
    )
  })

  it('a changed lock file restores the older entry and injects it before the build', async () => {
    const store = folderStore()
    const builder = new Map([['pip', new Map([['django.whl', 'wheel']])]])
    const d = deps(store, helperBuilds(builder))
    await saveMounts(
      (await restoreMounts(options(), d, root, 'n'))!,
      options(),
      d,
      report(true),
      root,
      'n'
    )
    await writeFile(
      join(root, 'ctx', 'requirements.txt'),
      'django==5.2\nrequests\n'
    )
    const fresh = new Map<string, Map<string, string>>()
    const entries = (await restoreMounts(
      options(),
      deps(store, helperBuilds(fresh)),
      root,
      'n'
    ))!
    expect(entries[0].outcome.restore).toBe(`restored ${store.saved[0]}`)
    expect(fresh.get('pip')?.get('django.whl')).toBe('wheel')
  })

  it('cache writes off: restores as usual, saves nothing, and says why', async () => {
    const store = folderStore()
    const builder = new Map([['pip', new Map([['a', 'b']])]])
    const off = options({
      write: {
        allowed: false,
        reason: 'event "pull_request_target": read only'
      }
    })
    const d = deps(store, helperBuilds(builder))
    const entries = (await restoreMounts(off, d, root, 'n'))!
    await saveMounts(entries, off, d, report(true), root, 'n')
    expect(entries[0].outcome.save).toBe(
      'skipped: cache writes are off (event "pull_request_target": read only)'
    )
    expect(store.saved).toEqual([])
  })

  it('ACTIONS_CACHE_MODE=read: no save, the reason names the variable', async () => {
    const store = folderStore()
    const readOnly = options({
      service: actionsCacheService({
        ACTIONS_CACHE_SERVICE_V2: 'true',
        ACTIONS_RESULTS_URL: 'http://127.0.0.1:1/',
        ACTIONS_RUNTIME_TOKEN: 't',
        ACTIONS_CACHE_MODE: 'read'
      })
    })
    const d = deps(
      store,
      helperBuilds(new Map([['pip', new Map([['a', 'b']])]]))
    )
    const entries = (await restoreMounts(readOnly, d, root, 'n'))!
    await saveMounts(entries, readOnly, d, report(true), root, 'n')
    expect(entries[0].outcome.save).toBe(
      'skipped: ACTIONS_CACHE_MODE is "read", which allows no writes'
    )
    expect(store.saved).toEqual([])
  })

  it('no Actions cache service: both sides skipped, naming what is missing', async () => {
    const store = folderStore()
    const entries = (await restoreMounts(
      options({ service: actionsCacheService({}) }),
      deps(store, helperBuilds(new Map())),
      root,
      'n'
    ))!
    expect(entries[0].outcome.restore).toBe(
      'skipped: no Actions cache service (ACTIONS_CACHE_URL (cache service v1) and ACTIONS_RUNTIME_TOKEN not set)'
    )
    expect(entries[0].outcome.save).toBe(entries[0].outcome.restore)
  })

  it('a failed injection is a warning; the restored entry is not kept for aliasing', async () => {
    const store = folderStore()
    const d = deps(
      store,
      helperBuilds(new Map([['pip', new Map([['a', 'b']])]]))
    )
    await saveMounts(
      (await restoreMounts(options(), d, root, 'n'))!,
      options(),
      d,
      report(true),
      root,
      'n'
    )
    await writeFile(join(root, 'ctx', 'requirements.txt'), 'changed\n')
    const failing = deps(store, helperBuilds(new Map(), true))
    const entries = (await restoreMounts(options(), failing, root, 'n'))!
    expect(entries[0].outcome.restore).toMatch(
      /^failed: restoring the cache mounts failed: ERROR: no space left/
    )
    expect(entries[0].restoredKey).toBeUndefined()
    expect(failing.warnings.join()).toMatch(/building without them/)
  })
})
