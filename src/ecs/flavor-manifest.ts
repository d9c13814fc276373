import { Ajv, type ErrorObject } from 'ajv'
import { readFile } from 'node:fs/promises'
import { LineCounter, parseDocument, type Node } from 'yaml'
import { parseDuration } from '../common/duration.js'
import { ConfigurationError } from '../common/errors.js'
import { parseList } from '../common/inputs.js'
import {
  preDeployProblems,
  type ManifestPreDeploy
} from './flavor-manifest-pre-deploy.js'
import { flavorManifestSchema } from './flavor-manifest-schema.js'
import type { HealthPolicy, ResolvedFlavor } from './types.js'

/** Health keys as the manifest spells them; durations not yet parsed. */
export interface ManifestHealth {
  'startup-grace'?: string | number
  'startup-failure-budget'?: number
  'failure-budget'?: number
  'stable-for'?: string | number
  timeout?: string | number
}

export interface ManifestEnvironment {
  cluster: string
  region?: string
  'service-name': string
  rollout?: 'waves' | 'all-at-once'
  'pre-deploy'?: ManifestPreDeploy
  health?: ManifestHealth
}

export interface ManifestFlavor {
  name: string
  service?: string
  containers: string[]
  wave?: number
  'desired-count'?: number
  cpu?: string
  memory?: string
  'container-memory'?: Record<string, number>
  environment?: Record<string, string | number | boolean>
  command?: string[]
  health?: ManifestHealth
}

/** A parsed, schema-valid manifest and the file it came from. */
export interface FlavorManifest {
  file: string
  defaults?: { health?: ManifestHealth }
  environments: Record<string, ManifestEnvironment>
  flavors: ManifestFlavor[]
}

/** A resolved flavor plus what only deploy needs. */
export interface DeployFlavor extends ResolvedFlavor {
  /** Hard memory limit (MiB) per container name. */
  containerMemory?: Record<string, number>
  /** How this environment rolls waves out. */
  rollout: 'waves' | 'all-at-once'
  /** Tasks the service runs, set with every update; unset keeps the service's. */
  desiredCount?: number
}

/** The health policy when neither manifest nor inputs say otherwise. */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = {
  startupGraceSeconds: 300,
  startupFailureBudget: 3,
  failureBudget: 0,
  stableForSeconds: 60,
  timeoutSeconds: 1200
}

const DEFAULT_WAVE = 1

let validator: ReturnType<Ajv['compile']> | undefined

function validate(data: unknown): ErrorObject[] {
  validator ??= new Ajv({
    allErrors: true,
    strict: true,
    allowUnionTypes: true
  }).compile(flavorManifestSchema)
  return validator(data) ? [] : [...(validator.errors ?? [])]
}

/** `/flavors/1/wave` → `flavors[1].wave`, the way people read YAML paths. */
function readablePath(segments: (string | number)[]): string {
  if (segments.length === 0) return '(top level)'
  return segments
    .map((s, i) =>
      typeof s === 'number' ? `[${s}]` : `${i === 0 ? '' : '.'}${s}`
    )
    .join('')
}

function pointerSegments(pointer: string, data: unknown): (string | number)[] {
  if (!pointer) return []
  const segments: (string | number)[] = []
  let current: unknown = data
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    const segment: string | number = Array.isArray(current) ? Number(key) : key
    segments.push(segment)
    current =
      current && typeof current === 'object'
        ? (current as Record<string | number, unknown>)[segment]
        : undefined
  }
  return segments
}

function describeError(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(p.additionalProperty)}"`
    case 'required':
      return `missing required key "${String(p.missingProperty)}"`
    case 'enum':
      return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'type':
      return `expected ${String(p.type)}`
    case 'pattern':
      return `expected text matching ${String(p.pattern)}`
    case 'minItems':
      return `expected at least ${String(p.limit)} item(s)`
    case 'minimum':
      return `expected a number of at least ${String(p.limit)}`
    case 'anyOf':
      return 'expected a duration: seconds or a form such as 90s, 10m, 1h30m'
    default:
      return `expected a value that ${error.message ?? 'matches the schema'}`
  }
}

/**
 * Reads and validates the flavor manifest. Every error names the file, the
 * line, the path in the document and what was expected, all at once.
 */
export async function loadManifest(path: string): Promise<FlavorManifest> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigurationError(
      `Flavor manifest ${path} cannot be read (${code ?? String(error)}); set the "manifest" input to its path in the repository`
    )
  }
  return parseManifest(text, path)
}

/** Parses manifest text; `file` is only used in messages. */
export function parseManifest(text: string, file: string): FlavorManifest {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const at = lineCounter.linePos(e.pos[0])
      return `${file}:${at.line}:${at.col}: ${e.message.split('\n')[0]}`
    })
    throw new ConfigurationError(
      `Flavor manifest ${file} is not valid YAML:\n${lines.join('\n')}`
    )
  }
  const data: unknown = doc.toJS()
  const problems = validate(data).map((error) => {
    const segments = pointerSegments(error.instancePath, data)
    const node = segments.length
      ? (doc.getIn(segments, true) as Node | undefined)
      : doc.contents
    const offset = node?.range?.[0]
    const where =
      offset === undefined
        ? file
        : `${file}:${lineCounter.linePos(offset).line}`
    return `${where}: ${readablePath(segments)}: ${describeError(error)}`
  })
  const manifest = data as Omit<FlavorManifest, 'file'>
  if (problems.length === 0) problems.push(...semanticProblems(manifest, file))
  if (problems.length > 0) {
    throw new ConfigurationError(
      `Flavor manifest ${file} does not match its schema (schemas/ecs-flavors.schema.json):\n${[...new Set(problems)].join('\n')}`
    )
  }
  return { file, ...manifest }
}

function semanticProblems(
  manifest: Omit<FlavorManifest, 'file'>,
  file: string
): string[] {
  const problems: string[] = []
  const seen = new Map<string, number>()
  manifest.flavors.forEach((flavor, index) => {
    const first = seen.get(flavor.name)
    if (first !== undefined) {
      problems.push(
        `${file}: flavors[${index}].name: "${flavor.name}" is already the name of flavors[${first}]; names must be unique`
      )
    } else seen.set(flavor.name, index)
  })
  const healthBlocks: [string, ManifestHealth | undefined][] = [
    ['defaults.health', manifest.defaults?.health],
    ...Object.entries(manifest.environments).map(
      ([name, env]): [string, ManifestHealth | undefined] => [
        `environments.${name}.health`,
        env.health
      ]
    ),
    ...manifest.flavors.map((f, i): [string, ManifestHealth | undefined] => [
      `flavors[${i}].health`,
      f.health
    ])
  ]
  for (const [path, block] of healthBlocks) {
    for (const key of ['startup-grace', 'stable-for', 'timeout'] as const) {
      const value = block?.[key]
      if (typeof value === 'string') {
        try {
          parseDuration(key, value)
        } catch {
          problems.push(
            `${file}: ${path}.${key}: expected a duration such as 90s, 10m, 1h30m, got "${value}"`
          )
        }
      }
    }
  }
  problems.push(...preDeployProblems(manifest, file))
  return problems
}

function seconds(value: string | number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  return typeof value === 'number' ? value : parseDuration('health', value)
}

function applyHealth(base: HealthPolicy, over?: ManifestHealth): HealthPolicy {
  if (!over) return base
  return {
    startupGraceSeconds: seconds(
      over['startup-grace'],
      base.startupGraceSeconds
    ),
    startupFailureBudget:
      over['startup-failure-budget'] ?? base.startupFailureBudget,
    failureBudget: over['failure-budget'] ?? base.failureBudget,
    stableForSeconds: seconds(over['stable-for'], base.stableForSeconds),
    timeoutSeconds: seconds(over.timeout, base.timeoutSeconds)
  }
}

function fillPattern(pattern: string, flavor: string, environment: string) {
  return pattern
    .replace(/\{flavor\}/g, flavor)
    .replace(/\{environment\}/g, environment)
}

/**
 * The flavors `selector` names in `environment`, ordered by wave and then by
 * manifest order. `selector` is `all`, a comma or newline separated list of
 * names, or `wave:N`. Unknown names throw, listing the known ones.
 */
export function resolveFlavors(
  manifest: FlavorManifest,
  environment: string,
  selector: string
): DeployFlavor[] {
  const env = manifest.environments[environment]
  const knownEnvs = Object.keys(manifest.environments)
  if (!env) {
    throw new ConfigurationError(
      `Environment "${environment}" is not in ${manifest.file}; known environments: ${knownEnvs.join(', ')}`
    )
  }
  const known = manifest.flavors.map((f) => f.name)
  const text = selector.trim()
  let chosen: ManifestFlavor[]
  const wave = /^wave\s*:\s*(\S*)$/i.exec(text)
  if (text === '' || text.toLowerCase() === 'all') {
    chosen = manifest.flavors
  } else if (wave) {
    if (!/^\d+$/.test(wave[1])) {
      throw new ConfigurationError(
        `Flavor selector "${selector}" has a wave that is not a whole number; use wave:N`
      )
    }
    const n = Number(wave[1])
    chosen = manifest.flavors.filter((f) => (f.wave ?? DEFAULT_WAVE) === n)
    if (chosen.length === 0) {
      const waves = [
        ...new Set(manifest.flavors.map((f) => f.wave ?? DEFAULT_WAVE))
      ].sort((a, b) => a - b)
      throw new ConfigurationError(
        `No flavor in ${manifest.file} is in wave ${n}; known waves: ${waves.join(', ')}`
      )
    }
  } else {
    const names = parseList(text)
    const unknown = names.filter((n) => !known.includes(n))
    if (unknown.length > 0) {
      throw new ConfigurationError(
        `Unknown flavor${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} (not in ${manifest.file}); known flavors: ${known.join(', ')}`
      )
    }
    chosen = manifest.flavors.filter((f) => names.includes(f.name))
  }

  const base = applyHealth(
    applyHealth(DEFAULT_HEALTH_POLICY, manifest.defaults?.health),
    env.health
  )
  const region =
    env.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? ''
  const resolved = chosen.map((f): DeployFlavor => ({
    name: f.name,
    environment,
    cluster: env.cluster,
    region,
    service: fillPattern(f.service ?? env['service-name'], f.name, environment),
    containers: [...f.containers],
    wave: f.wave ?? DEFAULT_WAVE,
    ...(f['desired-count'] !== undefined && {
      desiredCount: f['desired-count']
    }),
    ...(f.cpu !== undefined && { cpu: f.cpu }),
    ...(f.memory !== undefined && { memory: f.memory }),
    ...(f['container-memory'] && {
      containerMemory: { ...f['container-memory'] }
    }),
    ...(f.environment && {
      environmentVariables: Object.fromEntries(
        Object.entries(f.environment).map(([k, v]) => [k, String(v)])
      )
    }),
    ...(f.command && { command: [...f.command] }),
    policy: applyHealth(base, f.health),
    rollout: env.rollout ?? 'waves'
  }))
  const byService = new Map<string, string>()
  for (const f of resolved) {
    const other = byService.get(`${f.cluster}/${f.service}`)
    if (other) {
      throw new ConfigurationError(
        `Flavors "${other}" and "${f.name}" both resolve to service ${f.service} in cluster ${f.cluster}; give one an explicit "service" or put {flavor} in the environment's service-name`
      )
    }
    byService.set(`${f.cluster}/${f.service}`, f.name)
  }
  // Stable sort: manifest order inside a wave.
  return resolved.sort((a, b) => a.wave - b.wave)
}
