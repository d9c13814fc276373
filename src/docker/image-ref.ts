import { ConfigurationError } from '../common/errors.js'

/** A repository reference split the way Docker splits it. */
export interface ImageName {
  /** Registry host (with port) when the first component names one. */
  host?: string
  /** Path inside the registry, e.g. `team/monolith`. */
  path: string
  /** `host/path` or just `path`: what goes before `:tag` or `@digest`. */
  repository: string
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9-]+)*(?::\d+)?$/
const TAG = /^[\w][\w.-]{0,127}$/

/** Whether a first path component is a registry host, as Docker decides it. */
function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost'
  )
}

/**
 * Parses a repository without tag or digest (`localhost:5000/monolith`),
 * throwing a ConfigurationError that names `input` when it is malformed.
 */
export function parseImageName(input: string, value: string): ImageName {
  const parts = value.split('/')
  let host: string | undefined
  if (parts.length > 1 && looksLikeHost(parts[0])) host = parts.shift()
  const bad =
    (host !== undefined && !HOST.test(host)) ||
    parts.length === 0 ||
    parts.some((part) => !COMPONENT.test(part)) ||
    value.length > 255
  if (bad) {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which is not a repository name: use lowercase [registry-host[:port]/]path without a tag`
    )
  }
  const path = parts.join('/')
  return { host, path, repository: host ? `${host}/${path}` : path }
}

/**
 * Turns a `tags` entry into a full reference: a bare tag (`v1.2`) is put on
 * `image`; a full `repo:tag` is checked as given.
 */
export function parseTag(
  input: string,
  image: ImageName,
  value: string
): string {
  const colon = value.lastIndexOf(':')
  const slash = value.lastIndexOf('/')
  if (!value.includes('/') && !value.includes(':')) {
    if (!TAG.test(value)) throw malformedTag(input, value)
    return `${image.repository}:${value}`
  }
  if (colon <= slash) throw malformedTag(input, value)
  const repo = value.slice(0, colon)
  const tag = value.slice(colon + 1)
  if (!TAG.test(tag)) throw malformedTag(input, value)
  try {
    parseImageName(input, repo)
  } catch {
    throw malformedTag(input, value)
  }
  return value
}

function malformedTag(input: string, value: string): ConfigurationError {
  return new ConfigurationError(
    `Input "${input}" has "${value}", which is not a valid tag: a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with . or -, optionally after repository:`
  )
}

/**
 * A branch name as a tag-safe slug: `release/2024.06` → `release-2024.06`.
 * Tags and cache scopes are built from it, so it stays short and lowercase.
 */
export function branchSlug(branch: string): string {
  const slug = branch
    .replace(/^refs\/(heads|tags)\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 60)
  return slug || 'detached'
}
