import { ConfigurationError } from '../common/errors.js'

/** An image reference split into what deploy reports. */
export interface ImageReference {
  repository: string
  tag?: string
  digest?: string
}

const DIGEST = /^sha256:[a-f0-9]{64}$/

/**
 * Parses `repository:tag`, `repository@sha256:…` or both. A reference with
 * neither is refused: `latest` by accident is how the wrong build ships.
 */
export function parseImageReference(
  input: string,
  value: string
): ImageReference {
  const text = value.trim()
  const fail = (why: string): never => {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which ${why}; use repository@sha256:<digest> (preferred) or repository:tag`
    )
  }
  if (!text || /\s/.test(text)) fail('is not an image reference')
  const at = text.indexOf('@')
  let name = text
  let digest: string | undefined
  if (at >= 0) {
    name = text.slice(0, at)
    digest = text.slice(at + 1)
    if (!DIGEST.test(digest)) fail('has a digest that is not sha256:<64 hex>')
  }
  const slash = name.lastIndexOf('/')
  const colon = name.lastIndexOf(':')
  let repository = name
  let tag: string | undefined
  if (colon > slash) {
    repository = name.slice(0, colon)
    tag = name.slice(colon + 1)
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
      fail('has a tag that is not valid')
    }
  }
  if (!/^[a-z0-9]+([._/:-][a-z0-9]+|__[a-z0-9]+)*$/.test(repository)) {
    fail('has a repository name that is not valid')
  }
  if (!tag && !digest) fail('has neither a tag nor a digest')
  return { repository, ...(tag && { tag }), ...(digest && { digest }) }
}
