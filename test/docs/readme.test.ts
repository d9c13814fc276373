import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as prettier from 'prettier'
import {
  actionNames,
  actionReadmePath,
  renderActionReadme
} from '../../scripts/action-docs.js'

// Keeps the documents true: the root README stays a short front door that
// links every action, and each action folder has a README with a usage
// example and input/output tables identical to what its action.yml declares.
const root = new URL('../..', import.meta.url).pathname
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const actions = actionNames()

describe('README', () => {
  it('is the front door: at most 12 KB', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(12 * 1024)
  })

  it.each(actions)('links the README of %s', (name) => {
    expect(readme).toContain(`(actions/${name}/README.md)`)
  })

  it('names the commands a newcomer needs, without sudo', () => {
    for (const command of [
      'npm ci',
      'bash scripts/test-env.sh up',
      'npm test',
      'npm run rehearse'
    ]) {
      expect(readme).toContain(command)
    }
    expect(readme).not.toMatch(/\bsudo\b/)
  })

  it('shows the rehearsal CI runs, and CI runs it as written', () => {
    const command = 'npm run rehearse -- --fail'
    expect(readme).toContain(command)
    // CI runs it inside `npm test`, through the rehearsal e2e suite.
    const ci = readFileSync(join(root, '.ci/run'), 'utf8')
    expect(ci.split('\n').map((line) => line.trim())).toContain(
      'npm test -- --json --outputFile="$results" || status=$?'
    )
    const e2e = readFileSync(
      join(root, 'test/rehearsal/rehearse.e2e.test.ts'),
      'utf8'
    )
    expect(e2e).toContain(
      `['run', '--silent', ${command
        .split(' ')
        .slice(2)
        .map((word) => `'${word}'`)
        .join(', ')}`
    )
  })

  it('links documents that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^[a-z]+:/.test(target))
    expect(links.length).toBeGreaterThan(5)
    for (const target of links) {
      expect({ target, exists: existsSync(join(root, target)) }).toEqual({
        target,
        exists: true
      })
    }
  })
})

describe.each(actions)('actions/%s/README.md', (name) => {
  const file = actionReadmePath(name)
  const text = existsSync(file) ? readFileSync(file, 'utf8') : ''

  it('exists, with a usage example and the table markers', () => {
    expect(existsSync(file)).toBe(true)
    expect(text).toMatch(new RegExp(`uses: [^\\n]*actions/${name}@`))
    expect(text).toContain(`<!-- action-docs:${name} -->`)
    expect(text).toContain(`<!-- /action-docs:${name} -->`)
  })

  it('lists every input and output exactly as action.yml declares them (npm run docs)', async () => {
    const options = {
      ...(await prettier.resolveConfig(file)),
      parser: 'markdown'
    }
    const expected = await prettier.format(
      renderActionReadme(name, text),
      options
    )
    expect(text).toBe(expected)
  })
})
