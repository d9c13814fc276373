// Why this module: production only takes an image that provably passed
// staging; these checks run before any AWS call.
import { readFile } from 'node:fs/promises'
import { ConfigurationError } from '../common/errors.js'
import {
  formatImageReference,
  parseImageReference,
  type ImageReference
} from '../docker/image-reference.js'
import { branchMatcher } from '../git/release-branch.js'
import {
  httpStatus,
  parseRepository,
  type GitHubClient
} from '../github/client.js'
import { getWorkflowRun, type WorkflowRun } from '../github/workflow-runs.js'
import type { Inputs, Promotion } from './inputs.js'

/** What a staging run must be for its image to be promoted. */
export interface StagingExpectations {
  /** `owner/name` of the repository this run deploys. */
  repository: string
  /** Path (`.github/workflows/staging.yml`), file name, or workflow name. */
  workflow: string
  branchPattern: string
}

const PROMOTING_EVENTS = ['push', 'workflow_dispatch']
const COMMIT = /^[0-9a-f]{40}$/
const ECR_REGISTRY =
  /^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/

/** `octo/app/.github/workflows/x.yml@main` and `.github/workflows/x.yml` alike. */
function workflowFile(path: string, repository: string): string {
  const bare = path.replace(/@.*$/, '')
  const prefix = `${repository.toLowerCase()}/`
  return bare.toLowerCase().startsWith(prefix)
    ? bare.slice(prefix.length)
    : bare
}

function sameWorkflow(run: WorkflowRun, wanted: StagingExpectations): boolean {
  const file = workflowFile(run.path, wanted.repository)
  if (wanted.workflow.includes('/')) return file === wanted.workflow
  if (/\.ya?ml$/.test(wanted.workflow)) {
    return file === `.github/workflows/${wanted.workflow}`
  }
  return run.name === wanted.workflow
}

/**
 * Every reason the run is not a staging run of this repository that
 * succeeded on a release branch; empty when it is.
 */
export function stagingRunProblems(
  run: WorkflowRun,
  wanted: StagingExpectations
): string[] {
  const problems: string[] = []
  const repo = wanted.repository.toLowerCase()
  if (run.repository.toLowerCase() !== repo) {
    problems.push(`it belongs to ${run.repository || 'no repository'}`)
  }
  if (run.headRepository.toLowerCase() !== repo) {
    problems.push(
      `its commit comes from ${run.headRepository || 'an unknown repository'}`
    )
  }
  if (!sameWorkflow(run, wanted)) {
    problems.push(
      `it is a run of ${run.path || run.name}, not of the staging workflow ${wanted.workflow}`
    )
  }
  if (!PROMOTING_EVENTS.includes(run.event)) {
    problems.push(
      `it was started by ${run.event}, not by ${PROMOTING_EVENTS.join(' or ')}`
    )
  }
  if (!branchMatcher(wanted.branchPattern)(run.headBranch)) {
    problems.push(
      `its branch "${run.headBranch}" does not match ${wanted.branchPattern}`
    )
  }
  if (run.status !== 'completed' || run.conclusion !== 'success') {
    problems.push(
      `it ${run.status === 'completed' ? `ended ${run.conclusion || 'without a conclusion'}` : `is ${run.status || 'not completed'}`}, not successfully`
    )
  }
  if (!COMMIT.test(run.headSha)) {
    problems.push(`its head commit "${run.headSha}" is not a commit SHA`)
  }
  return problems
}

/** Throws unless the run can be promoted, naming the input and every reason. */
export function checkStagingRun(
  input: string,
  run: WorkflowRun,
  wanted: StagingExpectations
): void {
  const problems = stagingRunProblems(run, wanted)
  if (problems.length > 0) {
    throw new ConfigurationError(
      `Input "${input}" has "${run.id}" (${run.htmlUrl}), which is not a run to promote: ${problems.join('; ')}. Nothing was deployed.`
    )
  }
}

/**
 * Refuses anything but `<registry>/<repository>@sha256:<64 hex>` in the
 * release repository: a tag can be moved after staging, a digest cannot.
 * `repository` is an ECR repository name (any ECR registry host then) or a
 * full `<registry>/<name>`.
 */
export function checkPromotableImage(
  input: string,
  value: string,
  repository: string
): ImageReference {
  const fail = (why: string): never => {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which ${why}; give <registry>/<repository>@sha256:<64 hex> in ${repository}`
    )
  }
  if (/[\r\n]/.test(value)) fail('spans more than one line')
  const parsed = parseImageReference(input, value)
  if (!parsed.digest || parsed.tag) {
    fail('is not a reference by digest alone')
  }
  const full = /[.:]/.test(repository.split('/')[0]) && repository.includes('/')
  if (full) {
    if (parsed.repository !== repository) fail(`is not in ${repository}`)
  } else {
    if (!ECR_REGISTRY.test(parsed.host ?? '')) fail('is not in an ECR registry')
    if (parsed.path !== repository) {
      fail(`is not in the ECR repository ${repository}`)
    }
  }
  return parsed
}

/** A 40-hex commit, or a ConfigurationError naming the input. */
export function checkCommit(input: string, value: string): string {
  if (!COMMIT.test(value)) {
    throw new ConfigurationError(
      `Input "${input}" has "${value}", which is not a 40-hex commit SHA`
    )
  }
  return value
}

/** What the staging run recorded about the image it deployed. */
export interface ReleaseImageRecord {
  image: string
  commit?: string
}

/** Reads the staging run's `release-image.json`, refusing anything odd. */
export async function readReleaseImage(
  input: string,
  path: string
): Promise<ReleaseImageRecord> {
  let data: unknown
  try {
    data = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new ConfigurationError(
      `Input "${input}" has "${path}", which is not a readable JSON file: ${(error as Error).message}`
    )
  }
  const record = data as Record<string, unknown> | null
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.image !== 'string' ||
    (record.commit !== undefined && typeof record.commit !== 'string')
  ) {
    throw new ConfigurationError(
      `Input "${input}" has "${path}", which does not hold {"image": "...", "commit": "..."}`
    )
  }
  return {
    image: record.image,
    ...(typeof record.commit === 'string' && { commit: record.commit })
  }
}

/** The image to deploy and the commit it was built from, both checked. */
export interface Release {
  /** The reference as given, the form ECS takes. */
  image: string
  /** The same, parsed once: repository, tag and digest. */
  reference: ImageReference
  /** Tagged as `release-train:commit`; absent only outside a workflow run. */
  commit?: string
  stagingRun?: WorkflowRun
}

/**
 * Settles what is deployed. A promotion takes the staging run's record and
 * head commit once the run is verified; a plain deploy (the run that built
 * the image deploys it) takes `GITHUB_SHA`. The dispatching ref of a
 * promotion is never the commit.
 */
export async function resolveRelease(
  inputs: Inputs,
  env: NodeJS.ProcessEnv,
  github: (token: string) => GitHubClient
): Promise<Release> {
  const p = inputs.promotion
  if (!p) {
    const commit = inputs.commit ?? env.GITHUB_SHA
    return { ...imageOf(inputs.image), ...(commit && { commit }) }
  }
  let run: WorkflowRun | undefined
  if (p.stagingRunId !== undefined) {
    run = await fetchStagingRun(inputs, p, env, github)
  }
  let image = inputs.image
  if (p.releaseImageFile) {
    const record = await readReleaseImage(
      'release-image-file',
      p.releaseImageFile
    )
    const recorded = checkPromotableImage(
      'release-image-file',
      record.image,
      p.ecrRepository
    )
    if (record.commit && run && record.commit !== run.headSha) {
      throw new ConfigurationError(
        `Input "release-image-file" records commit ${record.commit}, but staging run ${run.id} built ${run.headSha}; the record is not that run's`
      )
    }
    if (image && formatImageReference(image) !== record.image) {
      throw new ConfigurationError(
        `Input "image" has "${formatImageReference(image)}", but the staging run deployed ${record.image}`
      )
    }
    image = recorded
  }
  if (run && inputs.commit && inputs.commit !== run.headSha) {
    throw new ConfigurationError(
      `Input "commit" has "${inputs.commit}", but staging run ${run.id} built ${run.headSha}`
    )
  }
  const commit = run?.headSha ?? inputs.commit
  return {
    ...imageOf(image),
    ...(commit && { commit }),
    ...(run && { stagingRun: run })
  }
}

/** getInputs refuses a deploy with neither an image nor a staging record. */
function imageOf(
  reference: ImageReference | undefined
): Pick<Release, 'image' | 'reference'> {
  if (!reference) throw new Error('no image: getInputs should have refused')
  return { image: formatImageReference(reference), reference }
}

async function fetchStagingRun(
  inputs: Inputs,
  p: Promotion,
  env: NodeJS.ProcessEnv,
  github: (token: string) => GitHubClient
): Promise<WorkflowRun> {
  const id = p.stagingRunId ?? 0
  if (!inputs.token) {
    throw new ConfigurationError(
      'Input "token" is required with "staging-run-id": the run is checked through the GitHub API (actions: read)'
    )
  }
  const repository = env.GITHUB_REPOSITORY ?? ''
  let run: WorkflowRun
  try {
    run = await getWorkflowRun(
      github(inputs.token),
      parseRepository(repository),
      id
    )
  } catch (error) {
    if (httpStatus(error) === 404) {
      throw new ConfigurationError(
        `Input "staging-run-id" has "${id}", which is not a workflow run of ${repository}`
      )
    }
    throw error
  }
  checkStagingRun('staging-run-id', run, {
    repository,
    workflow: p.stagingWorkflow,
    branchPattern: p.releaseBranchPattern
  })
  return run
}
