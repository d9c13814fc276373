import type { Tag } from '@aws-sdk/client-ecs'
import { COMMIT_TAG } from '../ecs/flavor-deploy.js'

/** Tag values allow letters, digits, spaces and `_.:/=+-@`, up to 256. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{N} _.:/=+\-@]/gu, '_').slice(0, 256)
}

/**
 * Tags that tie a revision to the commit its image was built from and the
 * run that registered it. `commit` is settled by the caller (the staging
 * run's head for a promotion); the run's own ref is recorded apart.
 */
export function releaseTags(
  env: NodeJS.ProcessEnv,
  commit: string | undefined
): Tag[] {
  const tags: Tag[] = []
  const add = (key: string, value: string | undefined): void => {
    if (value) tags.push({ key, value: tagValue(value) })
  }
  add(COMMIT_TAG, commit)
  add('release-train:ref', env.GITHUB_REF)
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    add(
      'release-train:run',
      `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
    )
  }
  return tags
}
