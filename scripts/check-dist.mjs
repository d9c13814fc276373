// Fails when dist/ differs from what the build just wrote: a stale, missing
// or untracked bundle cannot land. Run after scripts/build.mjs.
import { execFileSync } from 'node:child_process'

const status = execFileSync('git', ['status', '--porcelain', '--', 'dist/'], {
  encoding: 'utf8'
})
if (status.trim() !== '') {
  console.error(
    'dist/ is not what the build produces from src/. Changed files:'
  )
  console.error(status)
  console.error('Run `npm run build` and commit dist/.')
  process.exit(1)
}
console.log('dist/ matches the sources')
