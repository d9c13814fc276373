/** How long the AWS session lasts, against how long a run may need it. */
import { formatDuration } from './duration.js'

interface CredentialClient {
  config: { credentials: () => Promise<{ expiration?: Date }> }
}

/**
 * When the credentials the SDK resolved expire (`AWS_CREDENTIAL_EXPIRATION`,
 * a credential process, SSO…); undefined when they do not say, or when
 * there are none (the first call reports that, naming itself).
 */
export async function credentialExpiration(
  client: CredentialClient
): Promise<Date | undefined> {
  try {
    const expiration = (await client.config.credentials()).expiration
    return expiration && !Number.isNaN(expiration.getTime())
      ? expiration
      : undefined
  } catch {
    return undefined
  }
}

/** The warning to give when the session can end before the run's longest wait; undefined when it cannot. */
export function sessionWarning(
  expiration: Date | undefined,
  nowMs: number,
  neededSeconds: number,
  what: string
): string | undefined {
  if (!expiration) return undefined
  const leftSeconds = (expiration.getTime() - nowMs) / 1000
  if (leftSeconds >= neededSeconds) return undefined
  return (
    `The AWS credentials expire at ${expiration.toISOString()} (in ${formatDuration(Math.max(leftSeconds, 0))}), ` +
    `but ${what} can take up to ${formatDuration(neededSeconds)}. Raise role-duration-seconds of ` +
    `configure-aws-credentials to at least ${Math.ceil(neededSeconds / 60) * 60} (the IAM role's maximum ` +
    `session duration must allow it); otherwise the run stops when the session ends.`
  )
}

/** Whether an error message is one `describeAwsFailure` gave for expired credentials. */
export function saysCredentialsExpired(text: string | undefined): boolean {
  return !!text && text.includes('the AWS credentials expired')
}
