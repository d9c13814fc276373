import { EcsApiError } from './errors.js'
import { SeededRandom } from './random.js'

/** Fault rates for one operation or for all (0..1), plus added latency. */
export interface FaultRule {
  /** Share of requests answered with ThrottlingException (HTTP 400). */
  throttleRate?: number
  /** Share of requests answered with ServerException (HTTP 500). */
  serverErrorRate?: number
  /** Real milliseconds to wait before answering. */
  latencyMs?: number
}

/** A scripted failure of the next `count` matching requests, whatever the rates. */
export interface ScriptedFault {
  /** Operation name (`DescribeServices`); any operation when omitted. */
  operation?: string
  error: FaultKind
  count?: number
}

export interface FaultConfig extends FaultRule {
  /** Per-operation rules, replacing the global rule's fields they set. */
  operations?: Record<string, FaultRule>
  failNext?: ScriptedFault[]
  /** Seed of the fault dice; the same seed gives the same faults. */
  seed?: number
  /**
   * Simulated epoch ms from which every request is answered
   * ExpiredTokenException, as AWS does once a role session ends.
   */
  credentialsExpireAt?: number
}

export type FaultKind =
  'throttle' | 'server-error' | 'access-denied' | 'expired-token'

export interface FaultDecision {
  latencyMs: number
  fault?: FaultKind
  error?: EcsApiError
}

function errorFor(kind: FaultKind, operation: string): EcsApiError {
  // ECR's operations are logged as `ecr:<Operation>`, which is their IAM action too.
  const action = operation.includes(':') ? operation : `ecs:${operation}`
  switch (kind) {
    case 'throttle':
      return new EcsApiError('ThrottlingException', 'Rate exceeded')
    case 'access-denied':
      return new EcsApiError(
        'AccessDeniedException',
        `User: arn:aws:sts::123456789012:assumed-role/deploy/session is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`
      )
    case 'expired-token':
      return new EcsApiError(
        'ExpiredTokenException',
        'The security token included in the request is expired'
      )
    default:
      return new EcsApiError(
        'ServerException',
        'Service Unavailable. Please try again later.',
        500
      )
  }
}

function checkRate(value: number | undefined, name: string): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) {
    throw new Error(`${name} must be between 0 and 1, got ${value}`)
  }
}

/** Decides, per request, whether to delay it and whether to fail it. */
export class FaultInjector {
  private config: FaultConfig = {}
  private scripted: Required<ScriptedFault>[] = []
  private dice: SeededRandom

  constructor(config: FaultConfig = {}, seed = 1) {
    this.dice = new SeededRandom(seed)
    this.set(config)
  }

  /** Replaces the whole configuration (and reseeds when a seed is given). */
  set(config: FaultConfig): void {
    for (const rule of [config, ...Object.values(config.operations ?? {})]) {
      checkRate(rule.throttleRate, 'throttleRate')
      checkRate(rule.serverErrorRate, 'serverErrorRate')
      if (rule.latencyMs !== undefined && !(rule.latencyMs >= 0)) {
        throw new Error(`latencyMs must be >= 0, got ${rule.latencyMs}`)
      }
    }
    this.config = { ...config, failNext: undefined }
    this.scripted = (config.failNext ?? []).map((f) => ({
      operation: f.operation ?? '',
      error: f.error,
      count: f.count ?? 1
    }))
    if (config.seed !== undefined) this.dice = new SeededRandom(config.seed)
  }

  get(): FaultConfig {
    return {
      ...this.config,
      failNext: this.scripted.filter((f) => f.count > 0)
    }
  }

  decide(operation: string, now = 0): FaultDecision {
    const rule = { ...this.config, ...this.config.operations?.[operation] }
    const latencyMs = rule.latencyMs ?? 0
    const expireAt = this.config.credentialsExpireAt
    if (expireAt !== undefined && now >= expireAt) {
      return {
        latencyMs,
        fault: 'expired-token',
        error: errorFor('expired-token', operation)
      }
    }
    const scripted = this.scripted.find(
      (f) => f.count > 0 && (!f.operation || f.operation === operation)
    )
    if (scripted) {
      scripted.count--
      return {
        latencyMs,
        fault: scripted.error,
        error: errorFor(scripted.error, operation)
      }
    }
    // Always roll both dice so one rate does not shift the other's sequence.
    const throttle = this.dice.next() < (rule.throttleRate ?? 0)
    const server = this.dice.next() < (rule.serverErrorRate ?? 0)
    if (throttle)
      return {
        latencyMs,
        fault: 'throttle',
        error: errorFor('throttle', operation)
      }
    if (server) {
      return {
        latencyMs,
        fault: 'server-error',
        error: errorFor('server-error', operation)
      }
    }
    return { latencyMs }
  }
}
