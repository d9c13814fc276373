import * as core from '@actions/core'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { ConfigurationError } from '../common/errors.js'
import {
  getBoolean,
  getChoice,
  getList,
  getOptionalInput,
  getPemInput,
  getRequiredInput
} from '../common/inputs.js'
import {
  actionsCacheService,
  type ActionsCacheLookup
} from '../docker/actions-cache.js'
import { CACHE_CHOICES, type CacheChoice } from '../docker/cache-plan.js'
import { COMPRESSIONS, type LayerCompression } from '../docker/buildx-args.js'
import {
  branchSlug,
  parseImageName,
  parseTag,
  type ImageName
} from '../docker/image-reference.js'
import {
  parseRemoteBuilder,
  type RemoteBuilderSpec
} from '../docker/remote-builder.js'
import {
  CACHE_WRITE_SETTINGS,
  decideCacheWrite,
  type CacheWriteDecision,
  type EventPayload
} from '../github/event-trust.js'

/** The action's inputs, checked and resolved. */
export interface Inputs {
  image: ImageName
  tags: string[]
  context: string
  file: string
  target?: string
  buildArgs: Record<string, string>
  /** `--secret` specs ready for buildx. */
  secrets: string[]
  /** Values of `NAME=value` secrets, written to files at build time. */
  inlineSecrets: Record<string, string>
  platforms: string[]
  push: boolean
  load: boolean
  labels: string[]
  network?: string
  builder?: string
  /** The shared BuildKit of `builder-endpoint`, with its TLS credentials. */
  remoteBuilder?: RemoteBuilderSpec
  cache: CacheChoice
  compression: LayerCompression
  branch: string
  cacheFromBranches: string[]
  cacheKeyFiles: string[]
  cacheMounts: boolean
  cacheMountsDir: string
  utilityImage?: string
  localCacheDir: string
  compareTo?: string
  failOnPackageChange: string[]
  /** Repository of the registry cache tags (default the image's own). */
  cacheRepository?: ImageName
  /** `--provenance` value: false, mode=min or mode=max. */
  provenance: string
  sbom: boolean
  /** Attestations as OCI artifacts (subject + artifactType), which ECR may refuse. */
  ociArtifactAttestations: boolean
  /** Whether shared caches may be written, and the branch that names them. */
  cacheWrite: CacheWriteDecision
  /** The Actions cache service the runner gave, or why there is none. */
  actionsCache: ActionsCacheLookup
  workspace: string
}

/** Lines of a multi-line input; commas are kept (values may contain them). */
function getLines(name: string): string[] {
  return core
    .getInput(name)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/')
    ? join(homedir(), path.slice(1))
    : path
}

function workspacePath(path: string): string {
  const base = process.env.GITHUB_WORKSPACE ?? process.cwd()
  const expanded = expandHome(path)
  return isAbsolute(expanded) ? expanded : resolve(base, expanded)
}

function parseKeyValues(name: string, lines: string[]): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of lines) {
    const eq = line.indexOf('=')
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(line.slice(0, eq))) {
      throw new ConfigurationError(
        `Input "${name}" has "${line}", which is not NAME=value`
      )
    }
    values[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return values
}

function parseSecrets(lines: string[]): {
  specs: string[]
  inline: Record<string, string>
} {
  const specs: string[] = []
  const inline: Record<string, string> = {}
  for (const line of lines) {
    if (/^(id|type)=/.test(line)) {
      const id = /(?:^|,)id=([^,]+)/.exec(line)?.[1]
      const src = /(?:^|,)(?:src|source)=([^,]+)/.exec(line)?.[1]
      const env = /(?:^|,)env=([^,]+)/.exec(line)?.[1]
      if (!id || (!src && !env)) {
        throw new ConfigurationError(
          `Input "secrets" has "${line}": a secret spec needs id= and src= or env=`
        )
      }
      if (src && !existsSync(workspacePath(src))) {
        throw new ConfigurationError(
          `Input "secrets" names file "${src}" for secret "${id}", which does not exist`
        )
      }
      specs.push(src ? line.replace(src, workspacePath(src)) : line)
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) {
      throw new ConfigurationError(
        `Input "secrets" has a line that is neither NAME=value nor id=...,src=...`
      )
    }
    const value = line.slice(eq + 1)
    if (value) core.setSecret(value)
    inline[line.slice(0, eq)] = value
  }
  return { specs, inline }
}

/** The event payload the runner wrote, or {} when there is none to read. */
function eventPayload(): EventPayload {
  const path = process.env.GITHUB_EVENT_PATH
  if (!path || !existsSync(path)) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EventPayload
  } catch {
    return {}
  }
}

/**
 * Whether this run may write shared caches and which branch names them:
 * read from the event, never from GITHUB_HEAD_REF, which a pull request's
 * author chooses.
 */
function cacheWriteDecision(payload: EventPayload): CacheWriteDecision {
  return decideCacheWrite({
    setting: getChoice('cache-write', CACHE_WRITE_SETTINGS, 'auto'),
    eventName: process.env.GITHUB_EVENT_NAME ?? '',
    payload,
    refName:
      process.env.GITHUB_REF_NAME ||
      (process.env.GITHUB_REF ?? '').replace(/^refs\/(heads|tags)\//, ''),
    baseRef: process.env.GITHUB_BASE_REF
  })
}

/** Default tags: the commit, and the branch, or `pr-<n>` for a pull request. */
function defaultTags(decision: CacheWriteDecision): string[] {
  const sha = process.env.GITHUB_SHA ?? ''
  const name = decision.pullRequest
    ? `pr-${decision.pullRequest}`
    : process.env.GITHUB_HEAD_REF
      ? undefined
      : branchSlug(decision.cacheBranch)
  return [sha, name].filter((t): t is string => Boolean(t))
}

const PROVENANCE: Record<string, string> = {
  false: 'false',
  true: 'mode=min',
  'mode=min': 'mode=min',
  'mode=max': 'mode=max'
}

function getProvenance(): string {
  const value = getOptionalInput('provenance') ?? 'mode=min'
  const mode = PROVENANCE[value]
  if (!mode) {
    throw new ConfigurationError(
      `Input "provenance" has "${value}"; expected one of: ${Object.keys(PROVENANCE).join(', ')}`
    )
  }
  return mode
}

const REVISION_LABEL = 'org.opencontainers.image.revision'

/**
 * The commit travels with the image as its OCI revision label, so a later
 * deploy tags the commit the image was built from, not its own ref's.
 */
function withRevision(
  labels: string[],
  input: string | undefined,
  sha: string
): string[] {
  if (input !== undefined && !/^[0-9a-f]{40}$/.test(input)) {
    throw new ConfigurationError(
      `Input "revision" has "${input}", which is not a 40-hex commit SHA`
    )
  }
  const revision = input ?? sha
  if (!revision || labels.some((l) => l.startsWith(`${REVISION_LABEL}=`))) {
    return labels
  }
  return [...labels, `${REVISION_LABEL}=${revision}`]
}

/** The build context folder and the Dockerfile, both checked to exist. */
function contextAndFile(): { context: string; file: string } {
  const context = workspacePath(getOptionalInput('context') ?? '.')
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    throw new ConfigurationError(
      `Input "context" has "${getOptionalInput('context') ?? '.'}", which is not a directory`
    )
  }
  const fileInput = getOptionalInput('file')
  const file = fileInput
    ? workspacePath(fileInput)
    : join(context, 'Dockerfile')
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ConfigurationError(
      `Input "file" points at "${fileInput ?? join(getOptionalInput('context') ?? '.', 'Dockerfile')}", which does not exist`
    )
  }
  return { context, file }
}

/** The remote builder of `builder-endpoint`, checked against `builder`. */
function getRemoteBuilder(): RemoteBuilderSpec | undefined {
  return parseRemoteBuilder({
    builder: getOptionalInput('builder'),
    endpoint: getOptionalInput('builder-endpoint'),
    ca: getPemInput('builder-ca'),
    cert: getPemInput('builder-cert'),
    key: getPemInput('builder-key'),
    resolvePath: workspacePath
  })
}

/**
 * Reads and checks every input before anything runs: a bad value throws a
 * ConfigurationError naming the input.
 */
export function getInputs(): Inputs {
  const image = parseImageName('image', getRequiredInput('image'))
  const payload = eventPayload()
  const cacheWrite = cacheWriteDecision(payload)
  const branch = cacheWrite.cacheBranch
  const tagInputs = getList('tags')
  const tags = (tagInputs.length ? tagInputs : defaultTags(cacheWrite)).map(
    (tag) => parseTag('tags', image, tag)
  )

  const { context, file } = contextAndFile()

  const push = getBoolean('push', false)
  if (push && !image.host) {
    throw new ConfigurationError(
      `Input "push" is true but input "image" ("${image.repository}") names no registry host: use e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/${image.path}`
    )
  }
  const platforms = getList('platforms')
  for (const platform of platforms) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(platform)) {
      throw new ConfigurationError(
        `Input "platforms" has "${platform}", which is not os/arch[/variant]`
      )
    }
  }
  const cache = getChoice('cache', CACHE_CHOICES, 'auto')
  const secrets = parseSecrets(getLines('secrets'))
  const fallbacks = getList('cache-from-branches')
  const cacheFromBranches = fallbacks.length
    ? fallbacks
    : [
        process.env.GITHUB_BASE_REF,
        payload.repository?.default_branch,
        'main'
      ].filter((b): b is string => Boolean(b))
  const cacheKeyFiles = getList('cache-key-files').map(workspacePath)
  for (const keyFile of cacheKeyFiles) {
    if (!existsSync(keyFile)) {
      throw new ConfigurationError(
        `Input "cache-key-files" names "${keyFile}", which does not exist`
      )
    }
  }
  const network = getOptionalInput('network')
  if (network && !/^(default|none|host)$/.test(network)) {
    throw new ConfigurationError(
      `Input "network" has "${network}"; expected one of: default, none, host`
    )
  }
  const cacheRepository = getOptionalInput('cache-repository')
  const home = join(homedir(), '.cache', 'build-cached-image')
  return {
    image,
    tags,
    context,
    file,
    target: getOptionalInput('target'),
    buildArgs: parseKeyValues('build-args', getLines('build-args')),
    secrets: secrets.specs,
    inlineSecrets: secrets.inline,
    platforms,
    push,
    load: getBoolean('load', false),
    labels: withRevision(
      getLines('labels').map((line) => {
        if (!line.includes('=')) {
          throw new ConfigurationError(
            `Input "labels" has "${line}", which is not name=value`
          )
        }
        return line
      }),
      getOptionalInput('revision'),
      process.env.GITHUB_SHA ?? ''
    ),
    network,
    builder: getOptionalInput('builder'),
    remoteBuilder: getRemoteBuilder(),
    cache,
    compression: getChoice('compression', COMPRESSIONS, 'zstd'),
    branch,
    cacheFromBranches,
    cacheKeyFiles,
    cacheMounts: getBoolean('cache-mounts', true),
    cacheMountsDir: workspacePath(
      getOptionalInput('cache-mounts-dir') ?? join(home, 'mounts')
    ),
    utilityImage: getOptionalInput('cache-mounts-utility-image'),
    localCacheDir: workspacePath(
      getOptionalInput('local-cache-dir') ?? join(home, 'layers')
    ),
    compareTo: getOptionalInput('compare-to'),
    failOnPackageChange: getList('fail-on-package-change'),
    cacheRepository: cacheRepository
      ? parseImageName('cache-repository', cacheRepository)
      : undefined,
    provenance: getProvenance(),
    sbom: getBoolean('sbom', false),
    ociArtifactAttestations: getBoolean('oci-artifact-attestations', false),
    cacheWrite,
    actionsCache: actionsCacheService(process.env),
    workspace: process.env.GITHUB_WORKSPACE ?? process.cwd()
  }
}
