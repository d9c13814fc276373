import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { runAction, setOutputs } from '../common/action.js'
import { actionsCommandRunner } from '../common/command-runner.js'
import type { MountCacheStore } from '../docker/mount-cache.js'
import { buildImage } from './build-image.js'
import { getInputs } from './inputs.js'

const actionsCache: MountCacheStore = {
  restore: (paths, key, restoreKeys, lookupOnly) =>
    cache.restoreCache(paths, key, restoreKeys, { lookupOnly }),
  save: (paths, key) => cache.saveCache(paths, key)
}

/** Builds, caches, reports; fails only on bad input, a failed build or a blocked package change. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = getInputs()
    const outcome = await buildImage(inputs, {
      runner: actionsCommandRunner,
      store: actionsCache,
      now: () => Date.now()
    })
    const { report } = outcome
    setOutputs({
      image: outcome.image,
      'image-path': outcome.imagePath,
      digest: outcome.digest ?? '',
      tags: outcome.tags.join('\n'),
      metadata: outcome.metadata,
      'duration-seconds': outcome.durationSeconds.toFixed(1),
      'cached-steps': String(report.cachedSteps),
      'total-steps': String(report.totalSteps),
      'cache-hit-ratio': report.hitRatio.toFixed(2),
      'first-missed-step': report.firstMiss?.name ?? '',
      'cache-backend': outcome.backend,
      'cache-write': String(inputs.cacheWrite.write),
      'package-changes': outcome.packageChanges ?? []
    })
    await core.summary.addRaw(outcome.summary).write()
    if (outcome.blockedChanges.length) {
      const list = outcome.blockedChanges
        .map(
          (c) => `${c.name} ${c.before ?? '(none)'} → ${c.after ?? '(removed)'}`
        )
        .join(', ')
      throw new Error(
        `Packages matching input "fail-on-package-change" changed: ${list}`
      )
    }
  })
}
