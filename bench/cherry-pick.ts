/**
 * npm run bench:cherry-pick — the action's pick against a full clone
 * followed by the same cherry-pick, on a generated large repository: one
 * target (the newest release branch; a clean pick, which goes through the
 * API), two targets in one request (a second, older release branch named by
 * its label), and a pick that needs git (onto a release on which the fixed
 * file was renamed: only git's merge follows the rename).
 *
 * Env: BENCH_COMMITS (default 100000), BENCH_FILES (30000), BENCH_RUNS (3),
 * BENCH_CACHE (/var/tmp/ert-cherry-pick-bench), BENCH_TRACE (print each
 * action run's requests with their start and duration). The generated bare repository
 * is cached per size, so reruns skip the generation.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile, readdir, stat } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runAction } from '../test/support/runner-harness.js'
import { GitHubStandIn } from '../test/support/github-stand-in/server.js'

const exec = promisify(execFile)
const root = new URL('..', import.meta.url).pathname
const COMMITS = Number(process.env.BENCH_COMMITS ?? 100_000)
const FILES = Number(process.env.BENCH_FILES ?? 30_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CACHE = process.env.BENCH_CACHE ?? '/var/tmp/ert-cherry-pick-bench'
const RELEASE = 'release/2026.07'
const OLDER_RELEASE = 'release/2026.06'
const RENAMED_RELEASE = 'release/2026.05'
const FULL_NAME = 'acme/monolith'
const IDENTITY = {
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com'
}

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, ...IDENTITY },
    maxBuffer: 256 << 20
  })
  return stdout.trim()
}

/** A file path spread over two directory levels, like a large Django tree. */
function path(index: number): string {
  return `src/app${index % 40}/module${Math.floor(index / 40) % 30}/file${index}.py`
}

function content(index: number, version: number): string {
  return `# file ${index}\nVERSION = ${version}\n\ndef handler_${index}(request):\n    return ${version}\n`
}

/**
 * Streams the history into `git fast-import`: one commit with every file,
 * then small commits touching two files each; `release/2026.07` is cut
 * 1,000 commits before the tip, and the tip is the fix to pick.
 */
async function generate(bare: string): Promise<number> {
  const started = Date.now()
  await mkdir(bare, { recursive: true })
  await git(bare, 'init', '--quiet', '--bare', '--initial-branch=main')
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: bare,
    stdio: ['pipe', 'inherit', 'inherit']
  })
  const closed = new Promise<number>((resolve) =>
    child.on('close', (code) => resolve(code ?? 1))
  )
  let buffer = ''
  const flush = async (force = false): Promise<void> => {
    if (!force && buffer.length < 1 << 20) return
    const chunk = buffer
    buffer = ''
    if (!child.stdin.write(chunk)) {
      await new Promise((resolve) => child.stdin.once('drain', resolve))
    }
  }
  const data = (text: string): string =>
    `data ${Buffer.byteLength(text)}\n${text}\n`
  let time = 1_700_000_000
  const commitHeader = (message: string): string =>
    `commit refs/heads/main\ncommitter Bench <bench@example.com> ${time++} +0000\n${data(message)}`
  buffer += commitHeader('Initial import of the monolith')
  for (let i = 0; i < FILES; i++) {
    buffer += `M 100644 inline ${path(i)}\n${data(content(i, 0))}`
    await flush()
  }
  buffer += `M 100644 inline src/hotfix.py\n${data('RETRIES = 1\n')}\n`
  const versions = new Map<number, number>()
  for (let n = 1; n < COMMITS - 1; n++) {
    buffer += commitHeader(`Change ${n}\n`)
    for (let k = 0; k < 2; k++) {
      const file = (n * 7919 + k * 104729) % FILES
      const version = (versions.get(file) ?? 0) + 1
      versions.set(file, version)
      buffer += `M 100644 inline ${path(file)}\n${data(content(file, version))}`
    }
    buffer += '\n'
    if (n === COMMITS - 1000) {
      buffer += `reset refs/heads/${RELEASE}\nfrom refs/heads/main\n\n`
    }
    await flush()
  }
  buffer += commitHeader('Retry twice on timeouts\n')
  buffer += `M 100644 inline src/hotfix.py\n${data('RETRIES = 2\n')}\n`
  buffer += 'done\n'
  await flush(true)
  child.stdin.end()
  if ((await closed) !== 0) throw new Error('git fast-import failed')
  if (!(await git(bare, 'branch', '--list', RELEASE))) {
    await git(bare, 'branch', RELEASE, 'main~1')
  }
  // One well-packed pack, as a server would hold it (see serveLikeGitHub).
  await serveLikeGitHub(bare)
  await git(bare, 'config', 'uploadpack.allowFilter', 'true')
  await git(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true')
  await writeFile(join(bare, 'bench-complete'), new Date().toISOString())
  return (Date.now() - started) / 1000
}

/**
 * Packs the repository as GitHub serves one: a single pack with a
 * reachability bitmap and an on-disk reverse index (`.rev`, written by
 * default since git 2.41; git 2.39 here must be told). Without the `.rev`,
 * every upload-pack that reuses objects from the 931,000-object pack sorts
 * its offsets in memory first, 0.2 s of fixed cost on each fetch, the
 * clone's and the action's alike. A cached repository from before this is
 * repacked once.
 */
async function serveLikeGitHub(bare: string): Promise<void> {
  await git(bare, 'config', 'pack.writeReverseIndex', 'true')
  const pack = join(bare, 'objects', 'pack')
  const files = existsSync(pack) ? await readdir(pack) : []
  const packed =
    files.some((name) => name.endsWith('.rev')) &&
    files.some((name) => name.endsWith('.bitmap'))
  if (!packed) {
    console.log('Repacking with a bitmap and a reverse index')
    await git(bare, 'repack', '-a', '-d', '-b', '--quiet')
  }
}

/**
 * A commit on `from` that renames src/hotfix.py to src/retry.py, made with a
 * throwaway index in the bare repository.
 */
async function renameCommit(bare: string, from: string): Promise<string> {
  const env = {
    ...process.env,
    ...IDENTITY,
    GIT_INDEX_FILE: join(bare, 'bench-rename.index')
  }
  const run = async (args: string[], input?: string): Promise<string> => {
    const child = execFile('git', args, { cwd: bare, env })
    if (input !== undefined) child.stdin?.end(input)
    let out = ''
    child.stdout?.on('data', (chunk: string) => (out += chunk))
    const code = await new Promise<number>((resolve) =>
      child.on('close', (exit) => resolve(exit ?? 1))
    )
    if (code !== 0) throw new Error(`git ${args.join(' ')} failed`)
    return out.trim()
  }
  await run(['read-tree', from])
  const blob = await run(['rev-parse', `${from}:src/hotfix.py`])
  await run(
    ['update-index', '--index-info'],
    `0 ${'0'.repeat(40)}\tsrc/hotfix.py\n100644 ${blob}\tsrc/retry.py\n`
  )
  const tree = await run(['write-tree'])
  await rm(env.GIT_INDEX_FILE, { force: true })
  return run([
    'commit-tree',
    tree,
    '-p',
    from,
    '-m',
    'Rename hotfix.py to retry.py'
  ])
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, {
    withFileTypes: true,
    recursive: true
  })) {
    if (entry.isFile()) {
      total += (await stat(join(entry.parentPath, entry.name))).size
    }
  }
  return total
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function main(): Promise<void> {
  const bundle = join(root, 'dist/cherry-pick-to-release/index.js')
  if (!existsSync(bundle)) {
    throw new Error(
      'build first: node scripts/build.mjs cherry-pick-to-release'
    )
  }
  const bare = join(CACHE, `repo-${COMMITS}-${FILES}.git`)
  let generationSeconds: number | null = null
  if (!existsSync(join(bare, 'bench-complete'))) {
    await rm(bare, { recursive: true, force: true })
    console.log(`Generating ${COMMITS} commits over ${FILES} files in ${bare}`)
    generationSeconds = await generate(bare)
    console.log(`Generated in ${generationSeconds.toFixed(1)} s`)
  } else {
    console.log(`Using the cached repository ${bare}`)
  }
  // As a hosting server: no `gc --auto` inside a push (GitHub keeps its
  // housekeeping out of the push path). Both contenders push here.
  await git(bare, 'config', 'receive.autogc', 'false')
  await serveLikeGitHub(bare)
  const fix = await git(bare, 'rev-parse', 'refs/heads/main')
  const releaseTip = await git(bare, 'rev-parse', `refs/heads/${RELEASE}`)
  const commitCount = Number(await git(bare, 'rev-list', '--count', 'main'))
  const fileCount = (await git(bare, 'ls-tree', '-r', '--name-only', 'main'))
    .split('\n')
    .filter(Boolean).length
  if (!(await git(bare, 'branch', '--list', OLDER_RELEASE))) {
    await git(bare, 'branch', OLDER_RELEASE, releaseTip)
  }
  const olderTip = await git(bare, 'rev-parse', `refs/heads/${OLDER_RELEASE}`)
  if (!(await git(bare, 'branch', '--list', RENAMED_RELEASE))) {
    const renamed = await renameCommit(bare, releaseTip)
    await git(bare, 'branch', RENAMED_RELEASE, renamed)
  }
  const renamedTip = await git(
    bare,
    'rev-parse',
    `refs/heads/${RENAMED_RELEASE}`
  )
  const restore = async (): Promise<void> => {
    await git(bare, 'update-ref', `refs/heads/${RELEASE}`, releaseTip)
    await git(bare, 'update-ref', `refs/heads/${OLDER_RELEASE}`, olderTip)
    await git(bare, 'update-ref', `refs/heads/${RENAMED_RELEASE}`, renamedTip)
  }

  const standIn = await GitHubStandIn.start()
  standIn.addRepository(FULL_NAME, bare)
  // The labels count only from someone with write access.
  standIn.setPermission(FULL_NAME, 'octocat', 'write')
  const pr = standIn.addPullRequest(FULL_NAME, {
    title: 'Retry twice on timeouts',
    body: '',
    author: 'dev',
    state: 'closed',
    merged: true,
    mergeCommitSha: fix,
    headRef: 'fix/retries',
    headSha: fix,
    baseRef: 'main',
    baseSha: `${fix}~1`,
    labels: ['cherry-pick']
  })
  const event = await standIn.pullRequestEvent(FULL_NAME, pr.number, 'closed')
  standIn.addLabel(
    FULL_NAME,
    pr.number,
    `cherry-pick:${OLDER_RELEASE}`,
    'octocat'
  )
  const twoEvent = await standIn.pullRequestEvent(
    FULL_NAME,
    pr.number,
    'closed'
  )
  const renamedPr = standIn.addPullRequest(FULL_NAME, {
    title: 'Retry twice on timeouts (onto the release that renamed the file)',
    body: '',
    author: 'dev',
    state: 'closed',
    merged: true,
    mergeCommitSha: fix,
    headRef: 'fix/retries-renamed',
    headSha: fix,
    baseRef: 'main',
    baseSha: `${fix}~1`,
    labels: [`cherry-pick:${RENAMED_RELEASE}`]
  })
  const renamedEvent = await standIn.pullRequestEvent(
    FULL_NAME,
    renamedPr.number,
    'closed'
  )

  const pickWithAction = async (
    payload: unknown,
    targets: number,
    route: 'picked through the API' | 'picking with git'
  ): Promise<number> => {
    const from = standIn.log.length
    const started = Date.now()
    const result = await runAction({
      bundle,
      eventName: 'pull_request_target',
      event: payload,
      inputs: { token: 'ghs_bench', 'repository-url': `file://${bare}` },
      env: { GITHUB_API_URL: standIn.url, GITHUB_REPOSITORY: FULL_NAME },
      timeoutMs: 600_000
    })
    const picked = (
      JSON.parse(result.outputs.results ?? '[]') as { result: string }[]
    ).filter((entry) => entry.result === 'picked')
    if (result.outputs.result !== 'picked' || picked.length !== targets) {
      throw new Error(`the action did not pick ${targets}:\n${result.stdout}`)
    }
    if (!result.stdout.includes(route)) {
      throw new Error(
        `the action did not take the route "${route}":\n${result.stdout}`
      )
    }
    if (process.env.BENCH_TRACE) {
      // Where the run waits: each request from the run's start, and its time.
      for (const entry of standIn.log.slice(from)) {
        console.log(
          `  +${(entry.at ?? 0) - started} ms  ${entry.ms ?? '?'} ms  ${entry.method} ${entry.path}`
        )
      }
    }
    await restore()
    return result.durationMs
  }
  // What a person or a clone-based action does: clone, then per target
  // check out, cherry-pick -x and push.
  const pickWithClone = async (branches: string[]): Promise<number> => {
    const work = await mkdtemp(join(tmpdir(), 'ert-full-clone-'))
    const started = Date.now()
    const [first] = branches
    await git(
      work,
      'clone',
      '--quiet',
      '--branch',
      first,
      `file://${bare}`,
      'repo'
    )
    const repo = join(work, 'repo')
    for (const branch of branches) {
      await git(repo, 'checkout', '--quiet', '-B', branch, `origin/${branch}`)
      await git(repo, 'cherry-pick', '-x', fix)
      await git(repo, 'push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`)
    }
    const elapsed = Date.now() - started
    await rm(work, { recursive: true, force: true })
    await restore()
    return elapsed
  }

  const actionMs: number[] = []
  const fullMs: number[] = []
  const twoActionMs: number[] = []
  const twoFullMs: number[] = []
  const gitActionMs: number[] = []
  const gitFullMs: number[] = []
  try {
    for (let run = 0; run < RUNS; run++) {
      actionMs.push(await pickWithAction(event, 1, 'picked through the API'))
      console.log(`action pick #${run + 1}: ${actionMs.at(-1)} ms`)
      fullMs.push(await pickWithClone([RELEASE]))
      console.log(`full clone + pick #${run + 1}: ${fullMs.at(-1)} ms`)
      twoActionMs.push(
        await pickWithAction(twoEvent, 2, 'picked through the API')
      )
      console.log(`action, two targets #${run + 1}: ${twoActionMs.at(-1)} ms`)
      twoFullMs.push(await pickWithClone([RELEASE, OLDER_RELEASE]))
      console.log(`full clone + two picks #${run + 1}: ${twoFullMs.at(-1)} ms`)
      gitActionMs.push(
        await pickWithAction(renamedEvent, 1, 'picking with git')
      )
      console.log(`action, pick with git #${run + 1}: ${gitActionMs.at(-1)} ms`)
      gitFullMs.push(await pickWithClone([RENAMED_RELEASE]))
      console.log(
        `full clone + pick across the rename #${run + 1}: ${gitFullMs.at(-1)} ms`
      )
    }
  } finally {
    await restore()
    await standIn.close()
  }

  const ratio = median(actionMs) / median(fullMs)
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, git: await git(root, '--version') },
    repository: {
      commits: commitCount,
      files: fileCount,
      bytesOnDisk: await sizeOf(bare),
      generationSeconds,
      requested: { commits: COMMITS, files: FILES }
    },
    runs: RUNS,
    actionPickMs: actionMs,
    fullClonePickMs: fullMs,
    medianActionPickMs: median(actionMs),
    medianFullClonePickMs: median(fullMs),
    ratio: Number(ratio.toFixed(4)),
    // Paired ratios: each action run against the full clone run right after
    // it, so both saw about the same load on the shared machine.
    pairRatios: actionMs.map((ms, i) => Number((ms / fullMs[i]).toFixed(4))),
    target: 0.05,
    met: ratio <= 0.05,
    twoTargets: {
      targets: [RELEASE, OLDER_RELEASE],
      actionPickMs: twoActionMs,
      fullClonePickMs: twoFullMs,
      medianActionPickMs: median(twoActionMs),
      medianFullClonePickMs: median(twoFullMs),
      ratio: Number((median(twoActionMs) / median(twoFullMs)).toFixed(4)),
      actionTwoOverOne: Number(
        (median(twoActionMs) / median(actionMs)).toFixed(3)
      )
    },
    pickWithGit: {
      target: RENAMED_RELEASE,
      actionPickMs: gitActionMs,
      fullClonePickMs: gitFullMs,
      medianActionPickMs: median(gitActionMs),
      medianFullClonePickMs: median(gitFullMs),
      ratio: Number((median(gitActionMs) / median(gitFullMs)).toFixed(4))
    },
    note: 'Action = built bundle through the runner harness (node start, API calls to the loopback stand-in; a clean pick writes a tree, a commit and a ref update through the API; a pick with git adds a partial fetch, merge-tree and a push). Full clone = git clone --branch of the release over file://, cherry-pick -x, push. Two targets: one request labelled for both release branches (one run of the action; one clone picking and pushing twice). Pick with git: onto a release on which the fixed file was renamed, which only git follows.'
  }
  await mkdir(join(root, 'bench/results'), { recursive: true })
  await writeFile(
    join(root, 'bench/results/cherry-pick.json'),
    `${JSON.stringify(report, null, 2)}\n`
  )
  console.log(
    `median action ${report.medianActionPickMs} ms vs full clone ${report.medianFullClonePickMs} ms: ratio ${report.ratio} (1/${(1 / ratio).toFixed(1)}), target ≤ 0.05 ${report.met ? 'met' : 'NOT met'}`
  )
  const two = report.twoTargets
  console.log(
    `two targets: median action ${two.medianActionPickMs} ms vs full clone ${two.medianFullClonePickMs} ms: ratio ${two.ratio} (1/${(1 / two.ratio).toFixed(1)}); the action's second target adds ${((two.actionTwoOverOne - 1) * 100).toFixed(0)}%`
  )
  const withGit = report.pickWithGit
  console.log(
    `pick with git (across a rename): median action ${withGit.medianActionPickMs} ms vs full clone ${withGit.medianFullClonePickMs} ms: ratio ${withGit.ratio} (1/${(1 / withGit.ratio).toFixed(1)})`
  )
}

await main()
