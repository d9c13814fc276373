import * as core from '@actions/core'
import { parseDuration } from './duration.js'
import { ConfigurationError } from './errors.js'

/** A required input; empty or missing throws naming it. */
export function getRequiredInput(name: string): string {
  const value = core.getInput(name).trim()
  if (!value) throw new ConfigurationError(`Input "${name}" is required`)
  return value
}

/** An optional input: `undefined` when empty. */
export function getOptionalInput(name: string): string | undefined {
  const value = core.getInput(name).trim()
  return value === '' ? undefined : value
}

/**
 * An input that is a file path or PEM text (a certificate or key from a
 * secret). PEM text is masked whole and line by line, since the runner
 * matches masks against single log lines.
 */
export function getPemInput(name: string): string | undefined {
  const value = getOptionalInput(name)
  if (value?.includes('-----BEGIN ')) {
    core.setSecret(value)
    for (const line of value.split(/\r?\n/)) {
      const text = line.trim()
      if (text && !text.startsWith('-----')) core.setSecret(text)
    }
  }
  return value
}

/**
 * A boolean input; `fallback` when empty. Accepts the YAML 1.2 core forms that
 * `core.getBooleanInput` accepts, but names the input and value when it fails.
 */
export function getBoolean(name: string, fallback: boolean): boolean {
  const value = getOptionalInput(name)
  if (value === undefined) return fallback
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new ConfigurationError(
    `Input "${name}" has "${value}", which is not a boolean: use true or false`
  )
}

/** A list input: one item per line or comma separated, blanks dropped. */
export function getList(name: string): string[] {
  return parseList(core.getInput(name))
}

/** Splits newline- or comma-separated text into trimmed, non-empty items. */
export function parseList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** A duration input in seconds (`90s`, `10m`, `1h30m`); `fallback` when empty. */
export function getDurationSeconds(name: string, fallback: number): number {
  const value = getOptionalInput(name)
  return value === undefined ? fallback : parseDuration(name, value)
}

/** A whole number input at least `min`; `fallback` when empty. */
export function getInteger(name: string, fallback: number, min = 0): number {
  const value = getOptionalInput(name)
  if (value === undefined) return fallback
  if (!/^-?\d+$/.test(value) || Number(value) < min) {
    throw new ConfigurationError(
      `Input "${name}" has "${value}", which is not a whole number of at least ${min}`
    )
  }
  return Number(value)
}

/** One of a fixed set of values; `fallback` when empty. */
export function getChoice<T extends string>(
  name: string,
  choices: readonly T[],
  fallback: T
): T {
  const value = getOptionalInput(name)
  if (value === undefined) return fallback
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigurationError(
      `Input "${name}" has "${value}"; expected one of: ${choices.join(', ')}`
    )
  }
  return value as T
}
