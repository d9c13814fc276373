import { ConfigurationError } from './errors.js'

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1 }

/**
 * Parses `90s`, `10m`, `1h30m`, `2h` or a bare number of seconds into
 * seconds. `name` is the input it came from, so the error can name it.
 */
export function parseDuration(name: string, value: string): number {
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text)
  if (!text || !match || !(match[1] ?? match[2] ?? match[3])) {
    throw new ConfigurationError(
      `Input "${name}" has "${value}", which is not a duration: use seconds or a form such as 90s, 10m, 1h30m`
    )
  }
  const [, h, m, s] = match
  return (
    Number(h ?? 0) * UNIT_SECONDS.h +
    Number(m ?? 0) * UNIT_SECONDS.m +
    Number(s ?? 0)
  )
}

/** Formats seconds for people: `75` → `1m15s`. */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const parts = [
    h ? `${h}h` : '',
    m ? `${m}m` : '',
    s || (!h && !m) ? `${s}s` : ''
  ]
  return parts.join('')
}
