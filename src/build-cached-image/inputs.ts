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
  getRequiredInput
} from '../common/inputs.js'
import { CACHE_CHOICES, type CacheChoice } from '../docker/cache-plan.js'
import { COMPRESSIONS, type LayerCompression } from '../docker/buildx-args.js'
import {
  branchSlug,
  parseImageName,
  parseTag,
  type ImageName
} from '../docker/image-ref.js'

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

/** The branch being built: the PR head, else the pushed branch. */
function currentBranch(): string {
  return (
    process.env.GITHUB_HEAD_REF ||
    process.env.GITHUB_REF_NAME ||
    (process.env.GITHUB_REF ?? '').replace(/^refs\/(heads|tags)\//, '') ||
    'main'
  )
}

function defaultBranch(): string | undefined {
  const path = process.env.GITHUB_EVENT_PATH
  if (!path || !existsSync(path)) return undefined
  try {
    const event = JSON.parse(readFileSync(path, 'utf8')) as {
      repository?: { default_branch?: string }
    }
    return event.repository?.default_branch
  } catch {
    return undefined
  }
}

/**
 * Reads and checks every input before anything runs: a bad value throws a
 * ConfigurationError naming the input.
 */
export function getInputs(): Inputs {
  const image = parseImageName('image', getRequiredInput('image'))
  const branch = currentBranch()
  const sha = process.env.GITHUB_SHA ?? ''
  const tagInputs = getList('tags')
  const tags = (
    tagInputs.length ? tagInputs : [sha, branchSlug(branch)].filter(Boolean)
  ).map((tag) => parseTag('tags', image, tag))

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
    : [process.env.GITHUB_BASE_REF, defaultBranch(), 'main'].filter(
        (b): b is string => Boolean(b)
      )
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
    labels: getLines('labels').map((line) => {
      if (!line.includes('=')) {
        throw new ConfigurationError(
          `Input "labels" has "${line}", which is not name=value`
        )
      }
      return line
    }),
    network,
    builder: getOptionalInput('builder'),
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
    failOnPackageChange: getList('fail-on-package-change')
  }
}
