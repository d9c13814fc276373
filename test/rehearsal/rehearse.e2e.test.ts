import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeWithDocker } from '../support/describe-with-docker.js'

// The README's rehearsal exactly as a newcomer types it (`npm run rehearse
// -- --fail`: light fixture, real-time simulator), plus --json to read its
// report. CI runs it only here, so this suite is what keeps that command
// working.
const root = new URL('../..', import.meta.url).pathname

interface Report {
  pushes: {
    push: string
    totalSeconds: number
    buildSeconds: number
    cachedSteps: number
    totalSteps: number
    firstMissedStep: string
    deployResult: string
    flavors: {
      flavor: string
      result: string
      changed: boolean
      rolledBack: boolean
    }[]
    failure?: string
  }[]
}

let work: string
let exitCode: number
let output = ''
let report: Report

describeWithDocker('npm run rehearse', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ert-rehearse-test-'))
    const json = join(work, 'report.json')
    const child = spawn(
      'npm',
      ['run', '--silent', 'rehearse', '--', '--fail', '--json', json],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    exitCode = await new Promise<number>((resolve) =>
      child.on('close', (code) => resolve(code ?? 1))
    )
    if (exitCode !== 0) console.error(output.slice(-6000))
    report = JSON.parse(await readFile(json, 'utf8')) as Report
  }, 1_200_000)

  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  it('exits 0 and prints the release report', () => {
    expect(exitCode).toBe(0)
    expect(output).toContain('## Release report')
  })

  it('looks each pushed image up in ECR (the stand-in reading the loopback registry) before deploying it', () => {
    const checks = output.match(
      /image check: The image 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/rehearsal-\S+\/monolith@sha256:[0-9a-f]{64} is in ECR repository rehearsal-\S+\/monolith/g
    )
    expect(checks?.length).toBe(report.pushes.length)
  })

  it('deploys every flavor healthy on the cold push', () => {
    const cold = report.pushes[0]
    expect(cold.deployResult).toBe('success')
    expect(cold.flavors.map((f) => [f.flavor, f.result, f.changed])).toEqual([
      ['taskworker', 'success', true],
      ['api', 'success', true],
      ['web', 'success', true]
    ])
  })

  it('rebuilds only the app layers on a fresh runner after a one-line code change', () => {
    const [cold, warm] = report.pushes
    expect(warm.deployResult).toBe('success')
    expect(warm.cachedSteps).toBeGreaterThan(0)
    expect(warm.cachedSteps).toBeLessThan(warm.totalSteps)
    expect(warm.firstMissedStep).toMatch(/app/)
    expect(warm.buildSeconds).toBeLessThan(cold.buildSeconds)
  })

  it('halts the failing release, names OOM, and rolls back what it changed', () => {
    const failing = report.pushes[2]
    expect(failing.deployResult).toBe('failed')
    expect(failing.failure).toMatch(/taskworker/)
    expect(failing.failure).toMatch(/oom|OutOfMemory|memory/i)
    const taskworker = failing.flavors.find((f) => f.flavor === 'taskworker')
    expect(taskworker?.result).not.toBe('success')
    for (const flavor of failing.flavors.filter((f) => f.changed)) {
      expect(flavor.rolledBack).toBe(true)
    }
  })
})
