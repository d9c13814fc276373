/**
 * A mistake in what the user gave the action (an input, a manifest, an event).
 * Raised before any side effect, so the message alone must say what to fix.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigurationError'
  }
}

/** The one way an unknown thrown value becomes the text of `core.setFailed`. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
