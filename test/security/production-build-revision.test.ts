import { afterEach, describe, expect, it } from '@jest/globals'
import { getInputs } from '../../src/build-cached-image/inputs.js'
import { buildxArgs } from '../../src/docker/buildx-args.js'
import { clearInputs, setInputs } from '../support/action-inputs.js'

/**
 * Issue #14 item 1, build side: the commit travels with the image as its
 * OCI revision label, which buildx gets as a --label.
 */
const root = new URL('../..', import.meta.url).pathname
const BUILT = 'b'.repeat(40)
const saved = { ...process.env }

afterEach(() => {
  clearInputs()
  for (const key of Object.keys(process.env)) {
    if (!(key in saved)) delete process.env[key]
  }
  Object.assign(process.env, saved)
})

function argsFor(inputs: Record<string, string>): string[] {
  process.env.GITHUB_WORKSPACE = root
  process.env.GITHUB_SHA = BUILT
  setInputs({
    image: 'localhost:5000/team/monolith',
    context: 'test/fixtures/monolith',
    ...inputs
  })
  const parsed = getInputs()
  return buildxArgs(
    {
      context: parsed.context,
      file: parsed.file,
      tags: parsed.tags,
      buildArgs: [],
      secrets: [],
      platforms: [],
      push: false,
      load: false,
      labels: parsed.labels,
      cacheFrom: [],
      cacheTo: []
    },
    { name: 'default', driver: 'docker', containerdStore: true }
  )
}

describe('build-cached-image writes org.opencontainers.image.revision', () => {
  it('labels the image with the commit it is built from (GITHUB_SHA by default)', () => {
    const args = argsFor({ labels: 'team=payments' })
    expect(args).toContain(`org.opencontainers.image.revision=${BUILT}`)
    expect(args).toContain('team=payments')
    expect(
      args[args.indexOf(`org.opencontainers.image.revision=${BUILT}`) - 1]
    ).toBe('--label')
  })

  it('takes an explicit revision, and a label the caller set wins', () => {
    expect(argsFor({ revision: 'c'.repeat(40) })).toContain(
      `org.opencontainers.image.revision=${'c'.repeat(40)}`
    )
    const own = argsFor({
      labels: `org.opencontainers.image.revision=${'e'.repeat(40)}`
    })
    expect(
      own.filter((a) => a.startsWith('org.opencontainers.image.revision='))
    ).toEqual([`org.opencontainers.image.revision=${'e'.repeat(40)}`])
  })

  it('refuses a revision that is not a commit, naming the input', () => {
    expect(() => argsFor({ revision: 'main\nx=y' })).toThrow(
      'Input "revision" has "main'
    )
  })
})
