// Bundles every action in actions/ with ncc into dist/<name>/index.js.
// The list of actions is the folder listing, so a new action needs no edit here.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  readdirSync,
  rmSync,
  mkdirSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const only = process.argv.slice(2)
const names = readdirSync(join(root, 'actions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort()

if (only.length === 0)
  rmSync(join(root, 'dist'), { recursive: true, force: true })
mkdirSync(join(root, 'dist'), { recursive: true })
// Keeps dist/ in git even before the first action exists.
writeFileSync(join(root, 'dist', '.gitkeep'), '')

const ncc = join(
  root,
  'node_modules',
  '@vercel',
  'ncc',
  'dist',
  'ncc',
  'cli.js'
)
for (const name of names) {
  const entry = join(root, 'src', name, 'index.ts')
  if (!existsSync(entry)) {
    console.error(`actions/${name} has no src/${name}/index.ts`)
    process.exit(1)
  }
  const out = join(root, 'dist', name)
  rmSync(out, { recursive: true, force: true })
  execFileSync(
    process.execPath,
    [ncc, 'build', entry, '-o', out, '--license', 'licenses.txt', '--quiet'],
    { stdio: 'inherit', cwd: root }
  )
  // An action with a post step (runs.post) has src/<name>/post.ts.
  const post = join(root, 'src', name, 'post.ts')
  if (existsSync(post)) {
    execFileSync(
      process.execPath,
      [
        ncc,
        'build',
        post,
        '-o',
        join(out, 'post'),
        '--license',
        'licenses.txt',
        '--quiet'
      ],
      { stdio: 'inherit', cwd: root }
    )
  }
  console.log(`built dist/${name}`)
}
