import * as core from '@actions/core'
import { ConfigurationError, errorMessage } from './errors.js'

/**
 * The single error path every action's `run()` goes through: user mistakes
 * and failures both end in one `core.setFailed`, with the stack in debug.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (error) {
    if (
      error instanceof Error &&
      error.stack &&
      !(error instanceof ConfigurationError)
    ) {
      core.debug(error.stack)
    }
    core.setFailed(errorMessage(error))
  }
}

/** Sets an output, serialising objects and arrays as JSON. */
export function setOutputs(outputs: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(outputs)) {
    if (value === undefined) continue
    core.setOutput(
      name,
      typeof value === 'string' ? value : JSON.stringify(value)
    )
  }
}
