// ECR's rules that a push can break, recognised in buildx's output, with the
// one change that fixes each: a failed push should say what to do next.

/** ECR refusing to move a tag of an IMMUTABLE repository (ImageTagAlreadyExistsException). */
export interface ImmutableTagRefusal {
  tag: string
  repository: string
  /** ECR's own sentence, as the registry sent it. */
  message: string
}

const IMMUTABLE =
  /The image tag '([^']+)' already exists in the '([^']+)' repository and cannot be overwritten because the repository is immutable\.?/

/** The refusal in a failed push's output, if that is why it failed. */
export function immutableTagRefusal(
  text: string
): ImmutableTagRefusal | undefined {
  const match = IMMUTABLE.exec(text)
  if (!match) return undefined
  return { tag: match[1], repository: match[2], message: match[0] }
}

/**
 * A 400 to the manifest PUT of a tag: BuildKit's cache exporter drops the
 * registry's message, so this is all a refused cache tag shows. On ECR it is
 * what an IMMUTABLE repository answers to a tag that exists.
 */
export function refusedTagPut(text: string): ImmutableTagRefusal | undefined {
  const match =
    /PUT request to \S+?\/v2\/(\S+)\/manifests\/([\w][\w.-]*): 400 Bad Request/.exec(
      text
    )
  if (!match) return undefined
  const [, repository, tag] = match
  return {
    repository,
    tag,
    message: `The registry answered 400 Bad Request to the tag "${tag}" of "${repository}"; on ECR that is how an IMMUTABLE repository refuses an existing tag ("The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.").`
  }
}

/**
 * What to change after an immutable tag refused the image's push. The
 * default tags include the branch, which moves on every push.
 */
export function imageTagHint(refusal: ImmutableTagRefusal): string {
  return `Hint: "${refusal.repository}" has IMMUTABLE tags, so every tag pushed must be new. Set input "tags" to tags that never repeat (the commit SHA alone; the default also pushes the branch tag, which moves on every push), or exclude the moving tags from immutability with an ECR tag-mutability exclusion filter.`
}

/**
 * What to change after an immutable tag refused the registry cache. The
 * cache tag is rewritten by every build, so it needs a mutable home.
 */
export function cacheTagHint(refusal: ImmutableTagRefusal): string {
  return `Hint: the registry cache tag "${refusal.tag}" is rewritten by every build, which an IMMUTABLE repository refuses. Set input "cache-repository" to a repository with MUTABLE tags (e.g. ${refusal.repository}-cache), or exclude buildcache-* from this repository's tag immutability with an ECR exclusion filter.`
}
