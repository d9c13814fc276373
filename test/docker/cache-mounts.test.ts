import { describe, expect, it } from '@jest/globals'
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import {
  cacheMountKey,
  existingFiles,
  manifestCandidates,
  mountManifestCandidates
} from '../../src/docker/cache-key.js'
import {
  findCacheMounts,
  mountsInImageChain,
  usesMount
} from '../../src/docker/cache-mounts.js'
import {
  extractDockerfile,
  injectDockerfile
} from '../../src/docker/cache-mount-sync.js'
import {
  firstBaseImage,
  parseDockerfile,
  stageNames
} from '../../src/docker/dockerfile.js'

const monolith = readFileSync(
  new URL('../fixtures/monolith/Dockerfile', import.meta.url),
  'utf8'
)

describe('findCacheMounts', () => {
  it('finds every cache mount of the fixture once, across continuation lines', () => {
    expect(findCacheMounts(monolith)).toEqual([
      {
        id: 'apt-archives',
        target: '/var/cache/apt',
        sharing: 'locked',
        uid: undefined,
        gid: undefined,
        mode: undefined
      },
      {
        id: 'apt-lists',
        target: '/var/lib/apt',
        sharing: 'locked',
        uid: undefined,
        gid: undefined,
        mode: undefined
      },
      {
        id: 'sdists',
        target: '/var/cache/sdists',
        sharing: undefined,
        uid: undefined,
        gid: undefined,
        mode: undefined
      },
      {
        id: 'pip',
        target: '/root/.cache/pip',
        sharing: undefined,
        uid: undefined,
        gid: undefined,
        mode: undefined
      },
      {
        id: 'ccache',
        target: '/root/.cache/ccache',
        sharing: undefined,
        uid: undefined,
        gid: undefined,
        mode: undefined
      },
      {
        id: 'npm',
        target: '/root/.npm',
        sharing: undefined,
        uid: undefined,
        gid: undefined,
        mode: undefined
      }
    ])
  })

  it('defaults the id to the target and skips secrets, binds and from= mounts', () => {
    const mounts = findCacheMounts(
      [
        'FROM x',
        '# RUN --mount=type=cache,target=/commented',
        'RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.cache/pip,uid=1000 pip install',
        'RUN --mount=type=cache,from=builder,target=/src --mount=type=bind,target=/b true'
      ].join('\n')
    )
    expect(mounts.map((m) => [m.id, m.target, m.uid])).toEqual([
      ['/root/.cache/pip', '/root/.cache/pip', '1000']
    ])
  })
})

describe('mountsInImageChain', () => {
  it('keeps the mounts of the stages the image is built FROM, not those of a stage it copies from', () => {
    // app FROM python-deps FROM system; frontend is only COPY --from'd.
    expect([...mountsInImageChain(monolith, {})].sort()).toEqual([
      'apt-archives',
      'apt-lists',
      'ccache',
      'pip',
      'sdists'
    ])
    // Built as the frontend target, its own stage is the image; the apt
    // mounts are also used by python-deps, which it does not descend from.
    expect([...mountsInImageChain(monolith, {}, 'frontend')]).toEqual(['npm'])
  })

  it('leaves out a mount that a copied-from stage uses too, and follows ARG-named bases', () => {
    const dockerfile = [
      'ARG BASE=deps',
      'FROM debian AS deps',
      'RUN --mount=type=cache,target=/root/.cache/pip pip install x',
      'RUN --mount=type=cache,id=apt,target=/var/cache/apt apt-get update',
      'FROM debian AS assets',
      'RUN --mount=type=cache,id=apt,target=/var/cache/apt apt-get update',
      'FROM ${BASE}',
      'COPY --from=assets /out /out'
    ].join('\n')
    expect([...mountsInImageChain(dockerfile, {})]).toEqual([
      '/root/.cache/pip'
    ])
  })
})

describe('mountManifestCandidates', () => {
  it('keys each mount on the files copied in its stage and the stages it is built from', () => {
    const byId = mountManifestCandidates(monolith, { PROFILE: 'light' })
    expect(byId.get('apt-archives')).toEqual([
      'deploy/system-packages.light.txt',
      'requirements.apt'
    ])
    expect(byId.get('apt-lists')).toEqual(byId.get('apt-archives'))
    // the frontend stage is built FROM system, not from python-deps
    expect(byId.get('npm')).toEqual([
      'deploy/system-packages.light.txt',
      'frontend/package.light.json',
      'frontend/package-lock.light.json'
    ])
  })

  it('does not count files copied after the RUN or in unrelated stages', () => {
    const dockerfile = [
      'FROM x AS base',
      'COPY base.txt /b',
      'FROM base AS py',
      'COPY req.txt /r',
      'RUN --mount=type=cache,target=/root/.cache/pip pip install',
      'COPY late.txt /l',
      'FROM x AS other',
      'COPY other.txt /o',
      'RUN --mount=type=cache,id=npm,target=/root/.npm npm ci'
    ].join('\n')
    const byId = mountManifestCandidates(dockerfile, {})
    expect(byId.get('/root/.cache/pip')).toEqual(['base.txt', 'req.txt'])
    expect(byId.get('npm')).toEqual(['other.txt'])
  })
})

describe('manifestCandidates', () => {
  it('takes the files copied before the last cache-mount RUN, with ARGs resolved', () => {
    expect(manifestCandidates(monolith, { PROFILE: 'light' })).toEqual([
      'deploy/system-packages.light.txt',
      'requirements.apt',
      'deploy/requirements-src.light.txt',
      'deploy/build-wheels.py',
      'frontend/package.light.json',
      'frontend/package-lock.light.json'
    ])
    // ARG default when no build-arg is given
    expect(manifestCandidates(monolith, {})[0]).toBe(
      'deploy/system-packages.full.txt'
    )
  })

  it('ignores COPY --from, globs and the JSON form destination', () => {
    const dockerfile = [
      'FROM x',
      'COPY --from=deps /a /b',
      'COPY ["poetry.lock", "pyproject.toml", "/app/"]',
      'COPY *.txt /tmp/',
      'RUN --mount=type=cache,target=/root/.cache pip install',
      'COPY late.lock /x'
    ].join('\n')
    expect(manifestCandidates(dockerfile, {})).toEqual([
      'poetry.lock',
      'pyproject.toml'
    ])
  })
})

describe('cacheMountKey', () => {
  it('changes with manifest content, keeps the restore prefix, ignores directories', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'key-'))
    await writeFile(join(dir, 'requirements.txt'), 'django==4.2\n')
    await mkdir(join(dir, 'app'))
    const files = await existingFiles(dir, [
      'requirements.txt',
      'app',
      'missing.lock'
    ])
    expect(files).toEqual([join(dir, 'requirements.txt')])
    const mounts = [{ id: 'pip', target: '/root/.cache/pip' }]
    const first = await cacheMountKey({
      prefix: 'm',
      platform: 'linux-x64',
      mounts,
      files,
      workspace: dir
    })
    await writeFile(join(dir, 'requirements.txt'), 'django==4.2.1\n')
    const second = await cacheMountKey({
      prefix: 'm',
      platform: 'linux-x64',
      mounts,
      files,
      workspace: dir
    })
    expect(first.key).not.toBe(second.key)
    expect(first.restoreKeys).toEqual(second.restoreKeys)
    expect(second.key.startsWith(second.restoreKeys[0])).toBe(true)
    expect(first.files).toEqual(['requirements.txt'])
    const otherMounts = await cacheMountKey({
      prefix: 'm',
      platform: 'linux-x64',
      mounts: [{ id: 'npm', target: '/root/.npm' }],
      files,
      workspace: dir
    })
    expect(otherMounts.restoreKeys).not.toEqual(second.restoreKeys)
  })
})

describe('helper Dockerfiles', () => {
  const mounts = [
    { id: 'apt-archives', target: '/var/cache/apt', sharing: 'locked' },
    { id: 'npm', target: '/root/.npm', uid: '1000' }
  ]
  it('extract mounts the same ids and copies them out, cache-busted by a nonce', () => {
    const text = extractDockerfile(mounts, 'debian:bookworm')
    expect(text).toContain(
      '--mount=type=cache,id=apt-archives,target=/cache/0,sharing=locked'
    )
    expect(text).toContain(
      '--mount=type=cache,id=npm,target=/cache/1,sharing=locked,uid=1000'
    )
    expect(text).toContain('cp -a /cache/1/. /out/1/')
    expect(text).toContain('$CACHE_MOUNT_NONCE')
    expect(text).toContain('FROM scratch')
  })
  it('inject copies the context folders into the mounts', () => {
    const text = injectDockerfile(mounts, 'debian:bookworm')
    expect(text).toContain('--mount=type=bind,source=.,target=/restore')
    expect(text).toContain('cp -a /restore/0/. /cache/0/')
  })
})

describe('dockerfile helpers', () => {
  it('resolves the first base image and lists stages', () => {
    const instructions = parseDockerfile(monolith)
    expect(firstBaseImage(instructions, {})).toBe(
      'localhost:5000/debian:bookworm'
    )
    expect(firstBaseImage(instructions, { BASE_IMAGE: 'reg/x:1' })).toBe(
      'reg/x:1'
    )
    expect(stageNames(instructions)).toEqual([
      'system',
      'python-deps',
      'frontend',
      'app'
    ])
  })
})

describe('usesMount', () => {
  it('matches a step by cache id, else by target', () => {
    const npm =
      '[frontend 4/6] RUN --mount=type=cache,id=npm,target=/root/.npm --mount=type=secret,id=ca npm ci'
    expect(usesMount(npm, 'npm')).toBe(true)
    expect(usesMount(npm, 'ca')).toBe(false)
    expect(usesMount(npm, '/root/.npm')).toBe(false)
    expect(
      usesMount(
        'RUN --mount=type=cache,target=/root/.cache/pip pip',
        '/root/.cache/pip'
      )
    ).toBe(true)
    expect(usesMount('[app 3/4] COPY app/ /srv/app/', 'npm')).toBe(false)
  })
})
