import { ConfigurationError } from '../common/errors.js'

/**
 * The distribution reference grammar (github.com/distribution/reference),
 * the one every action parses images with, so that build and deploy cannot
 * disagree on what a name is:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ host [ ":" port ] "/" ] path-component ( "/" path-component )*
 */

/** A repository reference split the way Docker splits it. */
export interface ImageName {
  /** Registry host (with port) when the first component names one. */
  host?: string
  /** Path inside the registry, e.g. `team/monolith`. */
  path: string
  /** `host/path` or just `path`: what goes before `:tag` or `@digest`. */
  repository: string
}

/** A full reference: a name with an optional tag and an optional digest. */
export interface ImageReference extends ImageName {
  tag?: string
  digest?: string
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$/
const TAG = /^[\w][\w.-]{0,127}$/
// ECR and ECS only deal in sha256 digests; a shorter one is a paste error.
const DIGEST = /^sha256:[a-f0-9]{64}$/
const NAME_MAX = 255

/**
 * Whether a first path component is a registry host, as Docker decides it:
 * a dot, a port, `localhost`, or an uppercase letter (never valid in a path).
 */
function isHost(component: string): boolean {
  return (
    /[.:]/.test(component) ||
    component === 'localhost' ||
    component !== component.toLowerCase()
  )
}

/** Splits and checks a name; undefined when it breaks the grammar. */
function splitName(value: string): ImageName | undefined {
  if (value.length === 0 || value.length > NAME_MAX) return undefined
  const parts = value.split('/')
  const host = parts.length > 1 && isHost(parts[0]) ? parts.shift() : undefined
  if (host !== undefined && !HOST.test(host)) return undefined
  if (!parts.every((part) => PATH_COMPONENT.test(part))) return undefined
  const path = parts.join('/')
  return { host, path, repository: host ? `${host}/${path}` : path }
}

/**
 * Parses a repository without tag or digest (`localhost:5000/monolith`),
 * throwing a ConfigurationError that names `input` when it is malformed.
 */
export function parseImageName(input: string, value: string): ImageName {
  const name = splitName(value)
  if (!name) {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which is not a repository name: use lowercase [registry-host[:port]/]path without a tag`
    )
  }
  return name
}

/**
 * Parses `name[:tag][@sha256:…]`. A reference with neither tag nor digest is
 * valid (ECS reports an image run as `:latest` implicitly that way, and a
 * rollback must be able to name it); callers that need one check for it.
 */
export function parseImageReference(
  input: string,
  value: string
): ImageReference {
  const fail = (why: string): never => {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which ${why}; use repository@sha256:<digest> (preferred) or repository:tag`
    )
  }
  if (!value || /\s/.test(value)) fail('is not an image reference')
  const at = value.indexOf('@')
  const nameAndTag = at < 0 ? value : value.slice(0, at)
  const digest = at < 0 ? undefined : value.slice(at + 1)
  if (digest !== undefined && !DIGEST.test(digest)) {
    fail('has a digest that is not sha256:<64 hex>')
  }
  const colon = nameAndTag.lastIndexOf(':')
  const hasTag = colon > nameAndTag.lastIndexOf('/')
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined
  if (tag !== undefined && !TAG.test(tag)) fail('has a tag that is not valid')
  const name = splitName(hasTag ? nameAndTag.slice(0, colon) : nameAndTag)
  if (!name) return fail('has a repository name that is not valid')
  return { ...name, ...(tag && { tag }), ...(digest && { digest }) }
}

/** The reference as text, the form ECS and Docker take. */
export function formatImageReference(ref: ImageReference): string {
  return (
    ref.repository +
    (ref.tag ? `:${ref.tag}` : '') +
    (ref.digest ? `@${ref.digest}` : '')
  )
}

/** The built image as the build's outputs carry it. */
export interface BuiltImage {
  /** `repository@digest`, or the first tag when no digest is known. */
  image: string
  /**
   * `path@digest` without the registry host, empty without a digest. The
   * runner drops a job output that holds a masked value, and an ECR host
   * holds the account id, which the AWS login actions can mask; this form
   * never holds it, so it crosses jobs to be joined to the registry there.
   */
  imagePath: string
}

/** The outputs' forms of what was built: `name` pushed as `digest`, else its first tag. */
export function builtImage(
  name: ImageName,
  digest: string | undefined,
  tags: readonly string[]
): BuiltImage {
  return digest
    ? {
        image: `${name.repository}@${digest}`,
        imagePath: `${name.path}@${digest}`
      }
    : { image: tags[0] ?? name.repository, imagePath: '' }
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
  if (!value.includes('/') && !value.includes(':')) {
    if (!TAG.test(value)) throw malformedTag(input, value)
    return `${image.repository}:${value}`
  }
  let ref: ImageReference
  try {
    ref = parseImageReference(input, value)
  } catch {
    throw malformedTag(input, value)
  }
  if (!ref.tag || ref.digest) throw malformedTag(input, value)
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
