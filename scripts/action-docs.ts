/**
 * Writes each action's input and output tables into README.md between
 * `<!-- action-docs:<name> -->` and `<!-- /action-docs:<name> -->`, from its
 * action.yml, so the README cannot drift from what the actions declare.
 * `npm run docs` rewrites; the README test fails when they differ.
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

/** README text with every action's tables brought up to date. */
export function renderReadme(readme: string): string {
  let text = readme
  for (const name of readdirSync(join(root, 'actions')).sort()) {
    const open = `<!-- action-docs:${name} -->`
    const close = `<!-- /action-docs:${name} -->`
    const start = text.indexOf(open)
    const end = text.indexOf(close)
    if (start < 0 || end < start) continue
    text = `${text.slice(0, start + open.length)}\n\n${actionTables(name)}\n\n${text.slice(end)}`
  }
  return text
}

if (
  process.argv[1] &&
  import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')
) {
  const file = join(root, 'README.md')
  writeFileSync(file, renderReadme(readFileSync(file, 'utf8')))
  console.log('README.md action tables rewritten')
}
