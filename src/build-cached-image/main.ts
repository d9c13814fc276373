import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { runAction, setOutputs } from '../common/action.js'
import { actionsCommandRunner } from '../common/command-runner.js'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MountCacheStore } from '../docker/mount-cache.js'
import { connectRemoteBuilder } from '../docker/remote-builder.js'
import { buildImage, type BuildDeps, type BuildOutcome } from './build-image.js'
import { getInputs, type Inputs } from './inputs.js'

const actionsCache: MountCacheStore = {
  restore: (paths, key, restoreKeys, lookupOnly) =>
    cache.restoreCache(paths, key, restoreKeys, { lookupOnly }),
  save: (paths, key) => cache.saveCache(paths, key)
}

/**
 * The build, on the shared remote builder when `builder-endpoint` names one:
 * its buildx entry (and the certificate files written for it) exists only
 * for this run, while the daemon and its cache stay for the next runner.
 */
async function buildOn(inputs: Inputs, deps: BuildDeps): Promise<BuildOutcome> {
  if (!inputs.remoteBuilder) return buildImage(inputs, deps)
  const id = `${deps.now()}-${randomBytes(3).toString('hex')}`
  const remote = await connectRemoteBuilder(deps.runner, inputs.remoteBuilder, {
    name: `build-cached-image-${id}`,
    dir: join(
      process.env.RUNNER_TEMP ?? tmpdir(),
      `build-cached-image-tls-${id}`
    )
  })
  core.info(
    `Remote builder ${remote.name} connected to ${inputs.remoteBuilder.endpoint}`
  )
  try {
    return await buildImage({ ...inputs, builder: remote.name }, deps)
  } finally {
    await remote.remove()
    core.info(
      `Remote builder ${remote.name} removed (the daemon keeps running)`
    )
  }
}

/** Builds, caches, reports; fails only on bad input, a failed build or a blocked package change. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = getInputs()
    const outcome = await buildOn(inputs, {
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
