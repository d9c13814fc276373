import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it
} from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getInputs } from '../../src/build-cached-image/inputs.js'
import { clearInputs, setInputs } from '../support/action-inputs.js'
import { selfSignedCertificate } from '../support/test-certificates.js'

const root = new URL('../..', import.meta.url).pathname
const saved = { ...process.env }
let dir: string
let cert: string
let key: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ert-remote-inputs-'))
  ;({ cert, key } = selfSignedCertificate(dir))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

afterEach(() => {
  clearInputs()
  for (const k of Object.keys(process.env)) {
    if (!(k in saved)) delete process.env[k]
  }
  Object.assign(process.env, saved)
})

/** getInputs with the fixture's context, and what it wrote to stdout (workflow commands). */
function inputsWith(inputs: Record<string, string>): {
  value: ReturnType<typeof getInputs>
  stdout: string
} {
  process.env.GITHUB_WORKSPACE = root
  setInputs({
    image: 'localhost:5000/team/monolith',
    context: 'test/fixtures/monolith',
    ...inputs
  })
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    written.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    return { value: getInputs(), stdout: written.join('') }
  } finally {
    process.stdout.write = write
  }
}

describe('build-cached-image inputs of a remote builder', () => {
  it('has no remote builder without builder-endpoint', () => {
    expect(inputsWith({}).value.remoteBuilder).toBeUndefined()
  })

  it('reads the endpoint with PEM credentials, masking every line of them', () => {
    const { value, stdout } = inputsWith({
      'builder-endpoint': 'tcp://buildkit.internal:1234',
      'builder-ca': cert,
      'builder-cert': cert,
      'builder-key': key
    })
    expect(value.remoteBuilder).toMatchObject({
      endpoint: 'tcp://buildkit.internal:1234',
      host: 'buildkit.internal',
      port: 1234,
      // Inputs are trimmed as the runner's getInput trims them; the file gets its newline back.
      key: { pem: key.trim() }
    })
    expect(value.builder).toBeUndefined()
    const masks = stdout
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length))
    for (const line of key.split('\n').filter((l) => l && !l.startsWith('-'))) {
      expect(masks).toContain(line)
    }
  })

  it('reads credential file paths relative to the workspace', () => {
    const { value } = inputsWith({
      'builder-endpoint': 'tcp://127.0.0.1:1234',
      'builder-ca': join(dir, 'cert.pem'),
      'builder-cert': join(dir, 'cert.pem'),
      'builder-key': join(dir, 'key.pem')
    })
    expect(value.remoteBuilder?.key).toEqual({ file: join(dir, 'key.pem') })
  })

  it('fails naming the inputs when builder and builder-endpoint are both given', () => {
    expect(() =>
      inputsWith({
        builder: 'ert-buildkit',
        'builder-endpoint': 'tcp://127.0.0.1:1234',
        'builder-ca': cert,
        'builder-cert': cert,
        'builder-key': key
      })
    ).toThrow(
      'Inputs "builder" ("ert-buildkit") and "builder-endpoint" ("tcp://127.0.0.1:1234") are both set: give one'
    )
  })

  it('fails on an endpoint that is not tcp://host:port, and on a missing CA file', () => {
    expect(() =>
      inputsWith({
        'builder-endpoint': 'buildkit.internal:1234',
        'builder-ca': cert,
        'builder-cert': cert,
        'builder-key': key
      })
    ).toThrow(
      'Input "builder-endpoint" has "buildkit.internal:1234", which is not tcp://host:port'
    )
    expect(() =>
      inputsWith({
        'builder-endpoint': 'tcp://127.0.0.1:1234',
        'builder-ca': 'certs/ca.pem',
        'builder-cert': cert,
        'builder-key': key
      })
    ).toThrow(
      'Input "builder-ca" has "certs/ca.pem", which is neither PEM text nor an existing file'
    )
  })
})
