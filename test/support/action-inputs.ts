/**
 * Action inputs for unit tests, set the way the runner sets them:
 * `INPUT_<NAME>` upper-cased, spaces to `_`, hyphens kept.
 */
export function setInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs)) {
    process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
}

/** Removes every `INPUT_*` variable, so one test's inputs never reach the next. */
export function clearInputs(): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('INPUT_')) delete process.env[key]
  }
}
