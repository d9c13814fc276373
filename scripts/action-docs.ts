/**
 * Writes each action's input and output tables into actions/<name>/README.md
 * between `<!-- action-docs:<name> -->` and `<!-- /action-docs:<name> -->`,
 * from its action.yml, so the docs cannot drift from what the actions declare.
 * `npm run docs` rewrites them; the README test fails when they differ.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

const root = new URL('..', import.meta.url).pathname

interface ActionMeta {
  inputs?: Record<
    string,
    { description?: string; required?: boolean; default?: unknown }
  >
  outputs?: Record<string, { description?: string }>
}

function clean(text: unknown): string {
  return String(text ?? '')
    .replace(/\s+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()
}

/** The names of the actions: the folders of actions/. */
export function actionNames(): string[] {
  return readdirSync(join(root, 'actions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}

/** Path of an action's README. */
export function actionReadmePath(name: string): string {
  return join(root, 'actions', name, 'README.md')
}

/** The Markdown tables of one action's inputs and outputs. */
export function actionTables(name: string): string {
  const meta = parse(
    readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8')
  ) as ActionMeta
  const lines = [
    '| input | required | default | description |',
    '| --- | --- | --- | --- |'
  ]
  for (const [input, spec] of Object.entries(meta.inputs ?? {})) {
    const fallback =
      spec.default === undefined || spec.default === ''
        ? ''
        : `\`${clean(spec.default)}\``
    lines.push(
      `| \`${input}\` | ${spec.required ? 'yes' : 'no'} | ${fallback} | ${clean(spec.description)} |`
    )
  }
  lines.push('', '| output | description |', '| --- | --- |')
  for (const [output, spec] of Object.entries(meta.outputs ?? {})) {
    lines.push(`| \`${output}\` | ${clean(spec.description)} |`)
  }
  return lines.join('\n')
}

/** An action README's text with its tables brought up to date. */
export function renderActionReadme(name: string, readme: string): string {
  const open = `<!-- action-docs:${name} -->`
  const close = `<!-- /action-docs:${name} -->`
  const start = readme.indexOf(open)
  const end = readme.indexOf(close)
  if (start < 0 || end < start) return readme
  return `${readme.slice(0, start + open.length)}\n\n${actionTables(name)}\n\n${readme.slice(end)}`
}

if (
  process.argv[1] &&
  import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')
) {
  for (const name of actionNames()) {
    const file = actionReadmePath(name)
    writeFileSync(file, renderActionReadme(name, readFileSync(file, 'utf8')))
    console.log(`actions/${name}/README.md tables rewritten`)
  }
}
