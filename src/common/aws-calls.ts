/** One way every AWS client is configured and every AWS error is worded: the call named, transient told from fatal. */

/** What kind of failure an AWS error is, which decides retry and wording. */
export type AwsFailureKind =
  | 'throttled'
  | 'server'
  | 'timeout'
  | 'permission'
  | 'expired-credentials'
  | 'missing-credentials'
  | 'other'

/** Attempts per call, SDK retries included, unless `AWS_MAX_ATTEMPTS` says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 8

/** Real seconds one HTTP attempt may take before it is abandoned and retried. */
export const DEFAULT_CALL_TIMEOUT_SECONDS = 30

interface SdkError {
  name?: string
  message?: string
  code?: string
  $metadata?: { httpStatusCode?: number; attempts?: number }
}

const THROTTLING =
  /throttl|toomanyrequests|requestlimitexceeded|ratelimit|slowdown/i
const PERMISSION =
  /^(AccessDenied(Exception)?|UnauthorizedOperation|AuthorizationError|NotAuthorized)$/
const EXPIRED =
  /^(ExpiredToken(Exception)?|RequestExpired|TokenRefreshRequired)$/
const BAD_CREDENTIALS =
  /^(UnrecognizedClientException|InvalidClientTokenId|InvalidSignatureException|SignatureDoesNotMatch|CredentialsProviderError)$/

/** Sorts an SDK error into the kinds the actions treat differently. */
export function awsFailureKind(error: unknown): AwsFailureKind {
  const e = (error ?? {}) as SdkError
  const name = e.name ?? ''
  const status = e.$metadata?.httpStatusCode
  if (PERMISSION.test(name)) return 'permission'
  if (EXPIRED.test(name)) return 'expired-credentials'
  if (
    BAD_CREDENTIALS.test(name) ||
    /could not load credentials/i.test(e.message ?? '')
  ) {
    return 'missing-credentials'
  }
  if (THROTTLING.test(name) || status === 429) return 'throttled'
  if (/timeout|abort/i.test(name) || e.code === 'ETIMEDOUT') return 'timeout'
  if (status !== undefined && status >= 500) return 'server'
  return 'other'
}

/** Throttling, 5xx and timeouts: worth another poll or a later try. */
export function isTransientAwsError(error: unknown): boolean {
  return ['throttled', 'server', 'timeout'].includes(awsFailureKind(error))
}

/** Expired or missing credentials: nothing this run does will succeed again. */
export function isCredentialFailure(error: unknown): boolean {
  const kind = awsFailureKind(error)
  return kind === 'expired-credentials' || kind === 'missing-credentials'
}

/** `UpdateServiceCommand` → `UpdateService`. */
function operationOf(commandName: string | undefined): string {
  return (commandName ?? 'an AWS call').replace(/Command$/, '')
}

/**
 * The sentence an AWS error ends in: which call, what kind of failure, and
 * for a fatal one what to change. The original error object is kept (its
 * name and metadata still classify it); only its message is rewritten.
 */
export function describeAwsFailure(
  error: unknown,
  service: { label: string; iamPrefix: string },
  commandName: string | undefined
): string {
  const e = (error ?? {}) as SdkError
  const operation = operationOf(commandName)
  const call = `${service.label} ${operation}`
  const original = `${e.name ?? 'Error'}: ${e.message ?? String(error)}`
  const attempts = e.$metadata?.attempts
  const tried = attempts && attempts > 1 ? ` after ${attempts} attempts` : ''
  switch (awsFailureKind(error)) {
    case 'permission':
      return `${call} was refused (${original}): the role lacks permission ${service.iamPrefix}:${operation}. Not retried.`
    case 'expired-credentials':
      return `${call} failed: the AWS credentials expired (${original}). Not retried; raise role-duration-seconds of configure-aws-credentials (and the role's maximum session duration) above the deploy's wait.`
    case 'missing-credentials':
      return `${call} failed: no valid AWS credentials (${original}). Not retried; configure AWS credentials (configure-aws-credentials with OIDC) before this step.`
    case 'throttled':
      return `${call} was throttled${tried} and the retry budget is spent (${original}).`
    case 'server':
      return `${call} failed with a server error${tried} (${original}).`
    case 'timeout':
      return `${call} timed out${tried} (${original}).`
    default:
      return `${call} failed: ${original}`
  }
}

/** The SDK options every AWS client of the actions shares. */
export function awsClientConfig(
  region: string | undefined,
  callTimeoutSeconds = DEFAULT_CALL_TIMEOUT_SECONDS
): {
  region: string | undefined
  maxAttempts: number
  retryMode: string
  requestHandler: {
    requestTimeout: number
    connectionTimeout: number
    throwOnRequestTimeout: boolean
  }
} {
  const fromEnv = Number(process.env.AWS_MAX_ATTEMPTS)
  return {
    region: region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
    // The SDK's own variable: the budget of attempts, retries included.
    maxAttempts:
      Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_ATTEMPTS,
    // Adaptive retry backs off on throttling without our help.
    retryMode: 'adaptive',
    requestHandler: {
      requestTimeout: callTimeoutSeconds * 1000,
      connectionTimeout: Math.min(callTimeoutSeconds, 10) * 1000,
      // Without it the SDK only logs a warning and keeps waiting.
      throwOnRequestTimeout: true
    }
  }
}

interface MiddlewareClient {
  middlewareStack: {
    add: (
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string }
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' }
    ) => void
  }
}

/**
 * Rewrites the message of every error a client's calls end in (after the
 * SDK's retries, which run inside this step) with `describeAwsFailure`.
 */
export function nameAwsCalls<C>(
  client: C,
  service: { label: string; iamPrefix: string }
): C {
  ;(client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args)
      } catch (error) {
        if (error instanceof Error && !(error as { $named?: boolean }).$named) {
          error.message = describeAwsFailure(
            error,
            service,
            context.commandName
          )
          Object.defineProperty(error, '$named', { value: true })
        }
        throw error
      }
    },
    { step: 'initialize', name: 'nameAwsCalls', priority: 'high' }
  )
  return client
}

/** Awaits `call`; an error it ends in is prefixed with the flavors it was for. */
export async function forFlavors<T>(
  flavors: readonly string[],
  call: Promise<T>
): Promise<T> {
  try {
    return await call
  } catch (error) {
    if (error instanceof Error) {
      const who = flavors.length === 1 ? 'flavor' : 'flavors'
      error.message = `${who} ${flavors.join(', ')}: ${error.message}`
    }
    throw error
  }
}
