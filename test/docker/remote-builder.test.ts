import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CommandRunner } from '../../src/common/command-runner.js'
import { ConfigurationError } from '../../src/common/errors.js'
import {
  connectRemoteBuilder,
  parseRemoteBuilder,
  remoteBuilderCreateArgs,
  type RemoteBuilderSpec
} from '../../src/docker/remote-builder.js'
import { selfSignedCertificate } from '../support/test-certificates.js'

let dir: string
let cert: string
let key: string

/** A self-signed certificate and its key, made with openssl. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ert-remote-unit-'))
  ;({ cert, key } = selfSignedCertificate(dir))
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const resolvePath = (path: string): string =>
  path.startsWith('/') ? path : join(dir, path)

function parse(
  inputs: Partial<Parameters<typeof parseRemoteBuilder>[0]>
): RemoteBuilderSpec | undefined {
  return parseRemoteBuilder({ resolvePath, ...inputs })
}

function parseError(
  inputs: Partial<Parameters<typeof parseRemoteBuilder>[0]>
): ConfigurationError {
  try {
    parse(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError)
    return error as ConfigurationError
  }
  throw new Error('no error')
}

describe('parseRemoteBuilder', () => {
  it('is undefined without an endpoint or credentials', () => {
    expect(parse({})).toBeUndefined()
    expect(parse({ builder: 'ert-buildkit' })).toBeUndefined()
  })

  it('takes PEM text and file paths (relative to the workspace)', () => {
    const spec = parse({
      endpoint: 'tcp://buildkit.internal:1234',
      ca: 'cert.pem',
      cert,
      key
    })
    expect(spec).toEqual({
      endpoint: 'tcp://buildkit.internal:1234',
      host: 'buildkit.internal',
      port: 1234,
      ca: { file: join(dir, 'cert.pem') },
      cert: { pem: cert },
      key: { pem: key }
    })
    expect(
      parse({ endpoint: 'tcp://[fd00::1]:1234', ca: cert, cert, key })?.host
    ).toBe('fd00::1')
  })

  it.each([
    ['unix:///run/buildkit/buildkitd.sock'],
    ['tcp://buildkit.internal'],
    ['tcp://buildkit.internal:70000'],
    ['https://buildkit.internal:1234'],
    ['tcp://buildkit internal:1234']
  ])('refuses endpoint %s, naming the input and the value', (endpoint) => {
    expect(parseError({ endpoint, ca: cert, cert, key }).message).toBe(
      `Input "builder-endpoint" has "${endpoint}", which is not tcp://host:port (e.g. tcp://buildkit.internal:1234)`
    )
  })

  it('refuses builder and builder-endpoint together', () => {
    expect(
      parseError({
        builder: 'ert-buildkit',
        endpoint: 'tcp://127.0.0.1:1234',
        ca: cert,
        cert,
        key
      }).message
    ).toBe(
      'Inputs "builder" ("ert-buildkit") and "builder-endpoint" ("tcp://127.0.0.1:1234") are both set: give one'
    )
  })

  it('refuses a certificate without its key, and credentials without an endpoint', () => {
    expect(
      parseError({ endpoint: 'tcp://127.0.0.1:1234', ca: cert, cert }).message
    ).toBe(
      'Input "builder-endpoint" ("tcp://127.0.0.1:1234") needs input "builder-key" too (builder-ca, builder-cert given): the builder takes clients with a certificate from its CA only'
    )
    expect(parseError({ endpoint: 'tcp://127.0.0.1:1234' }).message).toContain(
      'needs input "builder-ca" too:'
    )
    expect(parseError({ cert, key }).message).toBe(
      'Input "builder-cert" is set but input "builder-endpoint" is empty: the certificates are for a remote builder'
    )
  })

  it('names a missing CA file, but never echoes the key input', () => {
    expect(
      parseError({
        endpoint: 'tcp://127.0.0.1:1234',
        ca: 'certs/missing-ca.pem',
        cert,
        key
      }).message
    ).toBe(
      'Input "builder-ca" has "certs/missing-ca.pem", which is neither PEM text nor an existing file'
    )
    const secret = 'c2VjcmV0LWtleS1ieXRlcw=='
    const message = parseError({
      endpoint: 'tcp://127.0.0.1:1234',
      ca: cert,
      cert,
      key: secret
    }).message
    expect(message).toBe(
      'Input "builder-key" has (value hidden), which is neither PEM text nor an existing file'
    )
  })

  it('parses PEM text without echoing it', () => {
    const broken = key.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!')
    const message = parseError({
      endpoint: 'tcp://127.0.0.1:1234',
      ca: cert,
      cert,
      key: broken
    }).message
    expect(message).toMatch(
      /^Input "builder-key" holds PEM text that is not a private key \(/
    )
    for (const line of broken.split('\n').filter((l) => !l.startsWith('---'))) {
      if (line) expect(message).not.toContain(line)
    }
    expect(
      parseError({ endpoint: 'tcp://127.0.0.1:1234', ca: key, cert, key })
        .message
    ).toMatch(/^Input "builder-ca" holds PEM text that is not a certificate/)
  })
})

describe('remoteBuilderCreateArgs', () => {
  it('creates a remote-driver builder with the TLS files and the host as server name, without --use', () => {
    const spec = parse({
      endpoint: 'tcp://buildkit.internal:1234',
      ca: cert,
      cert,
      key
    }) as RemoteBuilderSpec
    expect(
      remoteBuilderCreateArgs('build-cached-image-1', spec, {
        cacert: '/tmp/t/ca.pem',
        cert: '/tmp/t/cert.pem',
        key: '/tmp/t/key.pem'
      })
    ).toEqual([
      'buildx',
      'create',
      '--name',
      'build-cached-image-1',
      '--driver',
      'remote',
      '--driver-opt',
      'cacert=/tmp/t/ca.pem,cert=/tmp/t/cert.pem,key=/tmp/t/key.pem,servername=buildkit.internal',
      'tcp://buildkit.internal:1234'
    ])
  })
})

describe('connectRemoteBuilder', () => {
  function scripted(failing: string[] = []): {
    runner: CommandRunner
    calls: string[]
  } {
    const calls: string[] = []
    const runner: CommandRunner = async (_command, args) => {
      const line = args.join(' ')
      calls.push(line)
      const fails = failing.some((prefix) => line.startsWith(prefix))
      return fails
        ? {
            exitCode: 1,
            stdout: '',
            stderr: 'ERROR: context deadline exceeded\n'
          }
        : { exitCode: 0, stdout: '', stderr: '' }
    }
    return { runner, calls }
  }

  const specOf = (): RemoteBuilderSpec =>
    parse({
      endpoint: 'tcp://127.0.0.1:1234',
      ca: join(dir, 'cert.pem'),
      cert,
      key
    }) as RemoteBuilderSpec

  it('writes PEM text to private files, checks them, creates and bootstraps the entry; remove() takes the entry and the files away', async () => {
    const tls = join(dir, 'tls-ok')
    const { runner, calls } = scripted()
    const probed: string[] = []
    const remote = await connectRemoteBuilder(runner, specOf(), {
      name: 'bci-1',
      dir: tls,
      probe: async (_spec, files) => {
        probed.push(files.cacert, files.cert, files.key)
        return ''
      }
    })
    expect(probed).toEqual([
      join(dir, 'cert.pem'),
      join(tls, 'cert.pem'),
      join(tls, 'key.pem')
    ])
    expect(statSync(tls).mode & 0o777).toBe(0o700)
    expect(statSync(join(tls, 'key.pem')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(tls, 'key.pem'), 'utf8')).toBe(key)
    expect(calls).toEqual([
      `buildx create --name bci-1 --driver remote --driver-opt cacert=${join(dir, 'cert.pem')},cert=${join(tls, 'cert.pem')},key=${join(tls, 'key.pem')},servername=127.0.0.1 tcp://127.0.0.1:1234`,
      'buildx inspect --bootstrap bci-1'
    ])
    await remote.remove()
    expect(calls.at(-1)).toBe('buildx rm bci-1')
    expect(existsSync(tls)).toBe(false)
  })

  it('refuses before creating anything when the handshake fails, and leaves no files', async () => {
    const tls = join(dir, 'tls-refused')
    const { runner, calls } = scripted()
    await expect(
      connectRemoteBuilder(runner, specOf(), {
        name: 'bci-2',
        dir: tls,
        probe: async () => 'the builder refused the client certificate'
      })
    ).rejects.toThrow(
      'The BuildKit at input "builder-endpoint" ("tcp://127.0.0.1:1234") refused this runner: the builder refused the client certificate'
    )
    expect(calls).toEqual([])
    expect(existsSync(tls)).toBe(false)
  })

  it('removes the entry when buildx cannot bootstrap it', async () => {
    const tls = join(dir, 'tls-bootstrap')
    const { runner, calls } = scripted(['buildx inspect'])
    await expect(
      connectRemoteBuilder(runner, specOf(), {
        name: 'bci-3',
        dir: tls,
        probe: async () => ''
      })
    ).rejects.toThrow(
      'buildx could not connect to the BuildKit at input "builder-endpoint" ("tcp://127.0.0.1:1234"): ERROR: context deadline exceeded'
    )
    expect(calls.at(-1)).toBe('buildx rm bci-3')
    expect(existsSync(tls)).toBe(false)
  })
})
