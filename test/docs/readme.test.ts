import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { renderReadme } from '../../scripts/action-docs.js'

// Keeps the README true: each action has a section with a usage example and
// input/output tables identical to what its action.yml declares.
const root = new URL('../..', import.meta.url).pathname
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const actions = readdirSync(join(root, 'actions')).sort()

describe('README', () => {
  it.each(actions)(
    'has a section for %s with a usage example and its tables',
    (name) => {
      expect(readme).toContain(`<!-- action-docs:${name} -->`)
      expect(readme).toContain(`<!-- /action-docs:${name} -->`)
      expect(readme).toMatch(new RegExp(`uses: [^\\n]*actions/${name}@`))
    }
  )

  it('lists every input and output exactly as the action.yml files declare them (npm run docs)', async () => {
    const options = {
      ...(await prettier.resolveConfig(join(root, 'README.md'))),
      parser: 'markdown'
    }
    const expected = await prettier.format(renderReadme(readme), options)
    expect(readme).toBe(expected)
  })

  it('names the commands a newcomer needs', () => {
    for (const command of [
      'npm ci',
      'scripts/test-env.sh up',
      'npm test',
      'npm run rehearse'
    ]) {
      expect(readme).toContain(command)
    }
  })
})
