// A shared BuildKit reached over TCP with mutual TLS, used through a buildx
// `remote` builder that lives only as long as one action run: the daemon and
// its warm cache are shared by every runner, the buildx entry is not.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { connect } from 'node:tls'
import type { CommandRunner } from '../common/command-runner.js'
import { ConfigurationError } from '../common/errors.js'

/** A certificate or key input: a file on the runner, or PEM text from a secret. */
export type PemSource = { file: string } | { pem: string }

/** The `builder-endpoint` input and the credentials that go with it. */
export interface RemoteBuilderSpec {
  /** `tcp://host:port` as given. */
  endpoint: string
  /** The endpoint's host, which the daemon's certificate must name. */
  host: string
  port: number
  ca: PemSource
  cert: PemSource
  key: PemSource
}

/** The raw inputs; `resolvePath` makes a path absolute against the workspace. */
export interface RemoteBuilderInputs {
  builder?: string
  endpoint?: string
  ca?: string
  cert?: string
  key?: string
  resolvePath: (path: string) => string
}

const CREDENTIALS = ['builder-ca', 'builder-cert', 'builder-key'] as const
type CredentialInput = (typeof CREDENTIALS)[number]

/** Host and port of a `tcp://host:port` endpoint (IPv6 in brackets). */
function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match =
    /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(endpoint)
  const port = Number(match?.[2])
  if (!match || port < 1 || port > 65535) {
    throw new ConfigurationError(
      `Input "builder-endpoint" has "${endpoint}", which is not tcp://host:port (e.g. tcp://buildkit.internal:1234)`
    )
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port }
}

/**
 * PEM text is checked by parsing it, never echoed: it may be a key. A path
 * is echoed when missing, except for the key input, whose value could be a
 * mangled secret.
 */
function pemSource(
  name: CredentialInput,
  value: string,
  resolvePath: (path: string) => string
): PemSource {
  if (value.includes('-----BEGIN ')) {
    try {
      if (name === 'builder-key') createPrivateKey(value)
      else new X509Certificate(value)
    } catch (error) {
      const what = name === 'builder-key' ? 'a private key' : 'a certificate'
      throw new ConfigurationError(
        `Input "${name}" holds PEM text that is not ${what} (${(error as Error).message})`
      )
    }
    return { pem: value }
  }
  const file = resolvePath(value)
  if (!existsSync(file) || !statSync(file).isFile()) {
    const shown = name === 'builder-key' ? '(value hidden)' : `"${value}"`
    throw new ConfigurationError(
      `Input "${name}" has ${shown}, which is neither PEM text nor an existing file`
    )
  }
  return { file }
}

/**
 * The remote builder the inputs ask for, or undefined without an endpoint.
 * Mutual TLS is required: a buildkitd that takes any client on TCP runs
 * anyone's build as root on the shared machine.
 */
export function parseRemoteBuilder(
  inputs: RemoteBuilderInputs
): RemoteBuilderSpec | undefined {
  const values: Record<CredentialInput, string | undefined> = {
    'builder-ca': inputs.ca,
    'builder-cert': inputs.cert,
    'builder-key': inputs.key
  }
  const given = CREDENTIALS.filter((name) => values[name] !== undefined)
  if (!inputs.endpoint) {
    if (given.length) {
      throw new ConfigurationError(
        `Input "${given[0]}" is set but input "builder-endpoint" is empty: the certificates are for a remote builder`
      )
    }
    return undefined
  }
  if (inputs.builder) {
    throw new ConfigurationError(
      `Inputs "builder" ("${inputs.builder}") and "builder-endpoint" ("${inputs.endpoint}") are both set: give one`
    )
  }
  const { host, port } = parseEndpoint(inputs.endpoint)
  for (const name of CREDENTIALS) {
    if (values[name] === undefined) {
      const other = given.length ? ` (${given.join(', ')} given)` : ''
      throw new ConfigurationError(
        `Input "builder-endpoint" ("${inputs.endpoint}") needs input "${name}" too${other}: the builder takes clients with a certificate from its CA only`
      )
    }
  }
  const source = (name: CredentialInput): PemSource =>
    pemSource(name, values[name] as string, inputs.resolvePath)
  return {
    endpoint: inputs.endpoint,
    host,
    port,
    ca: source('builder-ca'),
    cert: source('builder-cert'),
    key: source('builder-key')
  }
}

/** The certificate and key files buildx reads. */
export interface TlsFiles {
  cacert: string
  cert: string
  key: string
}

/** `docker buildx create` of the remote builder; no `--use`, so the runner's current builder stays. */
export function remoteBuilderCreateArgs(
  name: string,
  spec: RemoteBuilderSpec,
  files: TlsFiles
): string[] {
  return [
    'buildx',
    'create',
    '--name',
    name,
    '--driver',
    'remote',
    '--driver-opt',
    `cacert=${files.cacert},cert=${files.cert},key=${files.key},servername=${spec.host}`,
    spec.endpoint
  ]
}

/** PEM text goes to a private file in `dir`; a file input is used where it is. */
async function tlsFiles(
  spec: RemoteBuilderSpec,
  dir: string
): Promise<TlsFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const place = async (source: PemSource, file: string): Promise<string> => {
    if ('file' in source) return source.file
    const path = join(dir, file)
    await writeFile(
      path,
      source.pem.endsWith('\n') ? source.pem : `${source.pem}\n`,
      {
        mode: 0o600
      }
    )
    return path
  }
  return {
    cacert: await place(spec.ca, 'ca.pem'),
    cert: await place(spec.cert, 'cert.pem'),
    key: await place(spec.key, 'key.pem')
  }
}

/** Why a TLS handshake failed, in terms of the inputs. */
function handshakeProblem(code: string, message: string, host: string): string {
  if (
    /ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(
      code
    )
  ) {
    return `the builder refused the client certificate (${message.split('\n')[0].replace(/^.*:(tlsv1 alert [^:]+):.*$/, '$1')}): "builder-cert" and "builder-key" must be issued by the CA the builder trusts`
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the builder's certificate does not name ${host} (${message})`
  }
  if (/VERIFY|SELF_SIGNED|ISSUER|CERT_/.test(code)) {
    return `the builder's certificate does not check out against "builder-ca" (${message})`
  }
  if (
    /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/.test(code)
  ) {
    return `nothing answers there (${message})`
  }
  if (/KEY_VALUES_MISMATCH|BAD_DECRYPT|NO_START_LINE/.test(code)) {
    return `"builder-key" is not the key of "builder-cert" (${message})`
  }
  return `${code ? `${code}: ` : ''}${message}`
}

/**
 * One TLS handshake with the client certificate, then the HTTP/2 preface
 * gRPC speaks: the daemon answers with its settings when it accepts the
 * client. Returns '' when it does, else why not. Far quicker and clearer
 * than buildx, which waits 20 s and says "context deadline exceeded".
 */
export async function probeRemoteBuilder(
  spec: RemoteBuilderSpec,
  files: TlsFiles,
  timeoutMs = 10_000
): Promise<string> {
  const [ca, cert, key] = await Promise.all(
    [files.cacert, files.cert, files.key].map((f) => readFile(f))
  )
  return new Promise((resolve) => {
    const done = (problem: string): void => {
      socket?.destroy()
      resolve(problem)
    }
    let socket: ReturnType<typeof connect> | undefined
    try {
      socket = connect({
        host: spec.host,
        port: spec.port,
        // An IP is checked against the certificate's IP names, without SNI.
        ...(isIP(spec.host) ? {} : { servername: spec.host }),
        ca,
        cert,
        key,
        ALPNProtocols: ['h2']
      })
    } catch (error) {
      const { code = '', message } = error as NodeJS.ErrnoException
      resolve(handshakeProblem(code, message, spec.host))
      return
    }
    socket.setTimeout(timeoutMs, () =>
      done(`no answer from ${spec.host}:${spec.port} in ${timeoutMs / 1000} s`)
    )
    socket.on('secureConnect', () =>
      socket?.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    )
    socket.on('data', () => done(''))
    socket.on('error', (error: NodeJS.ErrnoException) =>
      done(handshakeProblem(error.code ?? '', error.message, spec.host))
    )
    socket.on('close', () => done('the builder closed the connection'))
  })
}

/** A buildx entry for the shared builder, removed with `remove()`. */
export interface RemoteBuilder {
  name: string
  remove(): Promise<void>
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? ''
}

/**
 * Checks the certificates with one handshake, then creates the buildx
 * entry and connects it once (`inspect --bootstrap`), so a certificate the
 * builder refuses fails here, naming the inputs, not halfway into a build.
 */
export async function connectRemoteBuilder(
  runner: CommandRunner,
  spec: RemoteBuilderSpec,
  options: {
    name: string
    dir: string
    probe?: typeof probeRemoteBuilder
  }
): Promise<RemoteBuilder> {
  const { name, dir, probe = probeRemoteBuilder } = options
  const where = `input "builder-endpoint" ("${spec.endpoint}")`
  const cleanUp = (): Promise<void> => rm(dir, { recursive: true, force: true })
  const remove = async (): Promise<void> => {
    await runner('docker', ['buildx', 'rm', name])
    await cleanUp()
  }
  const files = await tlsFiles(spec, dir)
  const problem = await probe(spec, files)
  if (problem) {
    await cleanUp()
    throw new Error(`The BuildKit at ${where} refused this runner: ${problem}`)
  }
  const created = await runner(
    'docker',
    remoteBuilderCreateArgs(name, spec, files)
  )
  if (created.exitCode !== 0) {
    await cleanUp()
    throw new Error(
      `Could not create a buildx remote builder for ${where}: ${lastLine(created.stderr)}`
    )
  }
  const inspect = await runner('docker', [
    'buildx',
    'inspect',
    '--bootstrap',
    name
  ])
  if (inspect.exitCode !== 0) {
    await remove()
    throw new Error(
      `buildx could not connect to the BuildKit at ${where}: ${lastLine(inspect.stderr)}`
    )
  }
  return { name, remove }
}
