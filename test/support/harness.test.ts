import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  failureMessage,
  messages,
  parseFileCommands,
  runAction
} from './runner-harness.js'

const root = new URL('../..', import.meta.url).pathname
let out: string

// The fixture is bundled with ncc like a real action, so the harness is
// exercised against the same kind of file the runner executes.
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'ert-fixture-'))
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'),
      'build',
      join(root, 'test/fixtures/harness-action/index.ts'),
      '-o',
      out,
      '--quiet'
    ],
    { cwd: root }
  )
}, 120_000)

afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('runner harness', () => {
  it('passes inputs and the event, and reads outputs, state, summary and annotations', async () => {
    const result = await runAction({
      bundle: join(out, 'index.js'),
      inputs: { greeting: 'hello', who: 'release team' },
      event: { number: 42 }
    })
    expect(result.exitCode).toBe(0)
    expect(result.outputs).toEqual({
      message: 'hello, release team',
      multiline: 'first\nsecond',
      'event-number': '42'
    })
    expect(result.state).toEqual({ seen: 'yes' })
    expect(result.summary).toContain('<h1>Harness fixture</h1>')
    expect(result.summary).toContain('greeting=hello')
    expect(messages(result, 'warning')).toEqual(['a warning\nwith two lines'])
  })

  it('reports a failing action by exit code and ::error::', async () => {
    const result = await runAction({
      bundle: join(out, 'index.js'),
      inputs: { greeting: 'hi', fail: true }
    })
    expect(result.exitCode).toBe(1)
    expect(messages(result, 'error')).toEqual([
      'asked to fail with 100% certainty'
    ])
  })

  it('fails a required input that is missing', async () => {
    const result = await runAction({ bundle: join(out, 'index.js') })
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr + result.stdout).toMatch(/greeting/)
  })

  it('stops an action at its time limit and says so, with the limit and its last lines', async () => {
    const result = await runAction({
      bundle: join(out, 'index.js'),
      inputs: { greeting: 'hi', hang: true },
      timeoutMs: 1500
    })
    expect(result.timedOutAfterMs).toBe(1500)
    expect(result.exitCode).toBe(137)
    expect(result.durationMs).toBeGreaterThanOrEqual(1500)
    const message = failureMessage('harness-fixture', result)
    expect(message).toContain(
      'harness-fixture was stopped by its time limit of 1.5 s (killed, exit 137)'
    )
    expect(message).toContain('working on step 30')
    expect(message).not.toContain('working on step 1\n')
  })

  it('names the exit code and the error of an action that failed on its own', async () => {
    const result = await runAction({
      bundle: join(out, 'index.js'),
      inputs: { greeting: 'hi', fail: true }
    })
    expect(result.timedOutAfterMs).toBeUndefined()
    expect(failureMessage('harness-fixture', result)).toBe(
      'harness-fixture failed (exit 1): asked to fail with 100% certainty'
    )
  })

  it('keeps hyphens in input names', async () => {
    const result = await runAction({
      bundle: join(out, 'index.js'),
      inputs: { greeting: 'x', who: 'y' },
      env: { 'INPUT_WHO-ELSE': 'ignored' }
    })
    expect(result.outputs.message).toBe('x, y')
  })
})

describe('parseFileCommands', () => {
  it('reads both the key=value and the heredoc forms', () => {
    expect(
      parseFileCommands('a=1\nb<<EOF_1\nx\ny\nEOF_1\nc=has=equals\n')
    ).toEqual({ a: '1', b: 'x\ny', c: 'has=equals' })
  })
})
