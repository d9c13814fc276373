import * as core from '@actions/core'
import { runAction, setOutputs } from '../common/action.js'
import { systemClock } from '../common/clock.js'
import { createEcsClient } from '../ecs/client.js'
import {
  createEcrClient,
  verifyImage,
  type ImageCheck
} from '../docker/ecr-image-check.js'
import { watchDeployments } from '../ecs/deployment-watcher.js'
import {
  executeDeployments,
  type DeployOptions,
  type DeployReport
} from '../ecs/flavor-deploy.js'
import { RateLimiter } from '../ecs/rate-limiter.js'
import { planDeployments } from '../ecs/flavor-plan.js'
import {
  DEFAULT_HEALTH_POLICY,
  loadManifest,
  resolveFlavors,
  type DeployFlavor
} from '../ecs/flavor-manifest.js'
import { formatChanges } from '../ecs/task-definition-diff.js'
import { createGitHubClient, parseRepository } from '../github/client.js'
import { releasedPullRequests } from '../github/release-pull-requests.js'
import {
  credentialExpiration,
  saysCredentialsExpired,
  sessionWarning
} from '../common/aws-credentials.js'
import { errorMessage } from '../common/errors.js'
import { handOverOnInterrupt, saveJsonState } from '../common/step-state.js'
import { progressOf } from '../ecs/unverified-deployments.js'
import { getInputs, type Inputs } from './inputs.js'
import { renderPlan, wavesOf, type PullRequestsSeen } from './plan-summary.js'
import { resolveRelease, type Release } from './promotion.js'
import { releaseTags } from './release-tags.js'
import {
  blockedReport,
  cleanUpAfter,
  preDeployTarget,
  runPreDeploy,
  type PreDeployTarget
} from './rollout-steps.js'
import { plannedPreDeploy } from './rollout-summary.js'
import { aftermath, renderSummary } from './summary.js'

async function flavorsOf(
  inputs: Inputs
): Promise<{ flavors: DeployFlavor[]; preDeploy?: PreDeployTarget }> {
  const source = inputs.source
  let flavors: DeployFlavor[]
  let preDeploy: PreDeployTarget | undefined
  if (source.kind === 'manifest') {
    const manifest = await loadManifest(source.path)
    flavors = resolveFlavors(manifest, source.environment, source.selector)
    preDeploy = preDeployTarget(
      manifest,
      source.environment,
      inputs.rollout.preDeploy
    )
  } else {
    flavors = [
      {
        name: source.service,
        environment: source.environment ?? '',
        cluster: source.cluster,
        region:
          source.region ??
          process.env.AWS_REGION ??
          process.env.AWS_DEFAULT_REGION ??
          '',
        service: source.service,
        containers: source.containers,
        wave: 1,
        policy: DEFAULT_HEALTH_POLICY,
        rollout: 'all-at-once'
      }
    ]
  }
  return {
    flavors: flavors.map((f) => ({
      ...f,
      policy: { ...f.policy, ...inputs.health }
    })),
    ...(preDeploy && { preDeploy })
  }
}

/** The value every flavor agrees on; empty when they differ or lack it. */
function common(values: (string | undefined)[]): string {
  const distinct = new Set(values)
  const [only] = distinct
  return distinct.size === 1 && only ? only : ''
}

function outputsOf(report: DeployReport): Record<string, unknown> {
  const flavors = report.flavors.map((o) => ({
    flavor: o.flavor,
    service: o.service,
    cluster: o.cluster,
    taskDefinitionArn: o.taskDefinitionArn,
    previousTaskDefinitionArn: o.previousTaskDefinitionArn,
    deploymentId: o.deploymentId,
    changed: o.changed,
    result: o.result,
    rolledBack: o.rolledBack,
    ...(o.rollback && { rollback: o.rollback }),
    consoleUrl: o.consoleUrl,
    imageBefore: o.imageBefore,
    imageAfter: o.imageAfter,
    ...(o.error && { error: o.error })
  }))
  const single = report.flavors.length === 1 ? report.flavors[0] : undefined
  return {
    result: report.result,
    changed: String(report.changed),
    flavors,
    'task-definition-arn': single?.taskDefinitionArn,
    'previous-task-definition-arn': single?.previousTaskDefinitionArn,
    'deployment-id': single?.deploymentId,
    'previous-image': common(report.flavors.map((o) => o.imageBefore)),
    'previous-commit': common(report.flavors.map((o) => o.commitBefore)),
    'pre-deploy': report.preDeploy ?? '',
    ...(report.cleanup && { 'cleaned-revisions': report.cleanup })
  }
}

/**
 * The pull requests between what production runs and this release, for the
 * plan; a failure to list them is reported, not fatal.
 */
async function pullRequestsOf(
  inputs: Inputs,
  release: Release,
  previousCommit: string | undefined
): Promise<PullRequestsSeen> {
  if (!inputs.token) return { kind: 'unknown', why: 'no token' }
  if (!release.commit) return { kind: 'unknown', why: 'no release commit' }
  if (!previousCommit) {
    return {
      kind: 'unknown',
      why: inputs.readCurrent
        ? 'the running flavors carry no common release-train:commit tag'
        : 'what production runs was not read (read-current: false)'
    }
  }
  try {
    const pulls = await releasedPullRequests(
      createGitHubClient(inputs.token),
      parseRepository(process.env.GITHUB_REPOSITORY ?? ''),
      previousCommit,
      release.commit
    )
    return { kind: 'listed', previousCommit, pulls }
  } catch (error) {
    core.warning(
      `Could not list the release's pull requests: ${errorMessage(error)}`
    )
    return { kind: 'unknown', why: errorMessage(error) }
  }
}

/**
 * The longest this deploy can wait: each wave's longest health timeout in
 * turn (one wave when all go at once), plus one more for a rollback.
 */
function waitBudgetSeconds(flavors: readonly DeployFlavor[]): number {
  const together = flavors.every((f) => f.rollout === 'all-at-once')
  const longest = new Map<string, number>()
  for (const f of flavors) {
    const wave = together ? 'all' : String(f.wave)
    longest.set(wave, Math.max(longest.get(wave) ?? 0, f.policy.timeoutSeconds))
  }
  const waits = [...longest.values()]
  return waits.reduce((a, b) => a + b, 0) + Math.max(0, ...waits)
}

/** The flavors an expired session left on the new revision, in one sentence; undefined when the session held. */
function expiredSessionText(report: DeployReport): string | undefined {
  const hit = report.flavors.some(
    (o) =>
      saysCredentialsExpired(o.error) ||
      saysCredentialsExpired(o.rollback?.reason)
  )
  if (!hit) return undefined
  const left = report.flavors.filter((o) => o.changed && !o.rolledBack)
  return `The AWS credentials expired mid-run; left on the new revision: ${left.length === 0 ? 'none' : left.map((o) => `${o.flavor} (${o.taskDefinitionArn ?? '?'})`).join(', ')}.`
}

/** Looks the image up (ECR only) before any write; says what it found or why it did not look. */
async function checkImage(
  inputs: Inputs,
  release: Release
): Promise<ImageCheck> {
  const clients: ReturnType<typeof createEcrClient>[] = []
  try {
    const check = await verifyImage(
      release.reference,
      inputs.verifyImage,
      (region) => {
        const client = createEcrClient(region, inputs.callTimeoutSeconds)
        clients.push(client)
        return client
      }
    )
    if (check.status === 'skipped' && inputs.verifyImage) {
      core.notice(check.message)
    } else if (check.status !== 'missing') {
      core.info(check.message)
    }
    return check
  } finally {
    for (const client of clients) client.destroy()
  }
}

async function deploy(
  inputs: Inputs,
  release: Release,
  flavors: DeployFlavor[],
  preDeployTask: PreDeployTarget | undefined
): Promise<DeployReport> {
  const clients = new Map<string, ReturnType<typeof createEcsClient>>()
  const ecsFor = (region: string): ReturnType<typeof createEcsClient> => {
    let client = clients.get(region)
    if (!client) {
      client = createEcsClient(region, inputs.callTimeoutSeconds)
      clients.set(region, client)
    }
    return client
  }
  const log = (line: string): void => core.info(line)
  try {
    if (inputs.wait && !inputs.dryRun && flavors.length > 0) {
      const warning = sessionWarning(
        await credentialExpiration(ecsFor(flavors[0].region)),
        systemClock.now(),
        waitBudgetSeconds(flavors),
        `this deploy (${flavors.length} flavor(s), waits and a rollback)`
      )
      if (warning) core.warning(warning)
    }
    const plans = await planDeployments(flavors, release.image, { ecsFor })
    for (const plan of plans) {
      core.info(
        `${plan.flavor.name} (${plan.flavor.service}): ${plan.changes.length === 0 ? 'no change' : `${plan.changes.length} field(s) change`}`
      )
      if (inputs.dryRun && plan.changes.length > 0) {
        core.info(formatChanges(plan.changes))
      }
    }
    const interval = inputs.pollIntervalSeconds
    const image = await checkImage(inputs, release)
    const options: DeployOptions = {
      image: release.image,
      wait: inputs.wait,
      rollbackOnFailure: inputs.rollbackOnFailure,
      rollbackScope: inputs.rollbackScope,
      dryRun: inputs.dryRun,
      tags: releaseTags(process.env, release.commit),
      forceNewDeployment: inputs.rollout.forceNewDeployment
    }
    const steps = {
      ecsFor,
      clock: systemClock,
      log,
      registrations: new RateLimiter(systemClock, 1, 1),
      pollIntervalSeconds: interval
    }
    if (image.status === 'missing') {
      return blockedReport(plans, options, { imageMissing: image.message })
    }
    const preDeployOutcome =
      preDeployTask &&
      (await runPreDeploy(
        preDeployTask,
        plans,
        inputs.rollout.preDeploy,
        options,
        steps
      ))
    if (preDeployOutcome?.status === 'failed') {
      return blockedReport(plans, options, { preDeploy: preDeployOutcome })
    }
    const report = await executeDeployments(plans, options, {
      ...steps,
      onProgress: (outcomes) => saveJsonState('flavors', progressOf(outcomes)),
      watch: (targets, ecs) =>
        watchDeployments(
          targets.map((t) => ({ ...t, hookStages: inputs.hookStages })),
          {
            ecs,
            clock: systemClock,
            log,
            pollIntervalSeconds: { min: interval, max: interval * 2 }
          }
        )
    })
    if (preDeployOutcome) report.preDeploy = preDeployOutcome
    await cleanUpAfter(report, inputs.rollout, steps)
    return report
  } finally {
    for (const client of clients.values()) client.destroy()
  }
}

/** Reads inputs, settles the release, plans every flavor, deploys, reports. */
export async function run(): Promise<void> {
  await runAction(async () => {
    handOverOnInterrupt('Deploy')
    const inputs = getInputs()
    const release = await resolveRelease(inputs, process.env, (token) =>
      createGitHubClient(token)
    )
    const { reference } = release
    if (!reference.tag && !reference.digest) {
      core.warning(
        `The image ${release.image} has neither tag nor digest, so ECS pulls ${release.image}:latest, which moves with every push; deploy by digest`
      )
    }
    const { flavors, preDeploy } = await flavorsOf(inputs)
    const environment =
      inputs.source.kind === 'manifest' ? inputs.source.environment : undefined
    const report: DeployReport = inputs.readCurrent
      ? await deploy(inputs, release, flavors, preDeploy)
      : { result: 'dry-run', changed: false, flavors: [] }
    core.saveState('verdict', report.result)
    setOutputs({
      ...outputsOf(report),
      image: release.image,
      commit: release.commit ?? '',
      waves: wavesOf(flavors)
    })
    const parts: string[] = []
    if (inputs.dryRun) {
      const previous = common(report.flavors.map((o) => o.commitBefore))
      parts.push(
        renderPlan(
          release,
          flavors,
          await pullRequestsOf(inputs, release, previous || undefined),
          environment
        )
      )
      if (preDeploy && !report.preDeploy) {
        parts.push(plannedPreDeploy(preDeploy, inputs.rollout.preDeploy))
      }
    }
    const expired = expiredSessionText(report)
    if (expired) parts.push(`**${expired}**\n`)
    if (inputs.readCurrent) {
      parts.push(renderSummary(report, release.image, environment))
    } else {
      parts.push(
        'What production runs now: not read (read-current: false, no AWS credentials in this job).\n'
      )
    }
    await core.summary.addRaw(parts.join('\n')).write()
    if (report.result === 'failed') {
      throw new Error(
        `${expired ? `${expired} ` : ''}Deploy failed. ${aftermath(report).split('\n').join(' ')}`
      )
    }
  })
}
