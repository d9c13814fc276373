/**
 * A field-by-field comparison of two task definition bodies, so dry runs
 * show what would change and an identical render is recognised as a no-op.
 */

/** One changed field: `before` undefined when added, `after` when removed. */
export interface FieldChange {
  path: string
  before?: unknown
  after?: unknown
}

type Json = unknown

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Arrays of named objects (containers, environment, secrets, volumes) are matched by name. */
function namedItems(value: Json[]): Map<string, Json> | undefined {
  if (value.length === 0) return new Map()
  const map = new Map<string, Json>()
  for (const item of value) {
    if (!isObject(item) || typeof item.name !== 'string' || map.has(item.name))
      return undefined
    map.set(item.name, item)
  }
  return map
}

function isEmpty(value: Json): boolean {
  return (
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0)
  )
}

function walk(
  path: string,
  before: Json,
  after: Json,
  out: FieldChange[]
): void {
  // ECS returns empty lists for fields a body never set: not a difference.
  if (isEmpty(before) && isEmpty(after)) return
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    for (const key of keys) {
      walk(path ? `${path}.${key}` : key, before[key], after[key], out)
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const b = namedItems(before)
    const a = namedItems(after)
    if (b && a && (b.size > 0 || a.size > 0)) {
      const names = [...new Set([...b.keys(), ...a.keys()])]
      for (const name of names) {
        walk(`${path}[${name}]`, b.get(name), a.get(name), out)
      }
      return
    }
    if (
      before.length === after.length &&
      before.some((item) => typeof item === 'object' && item !== null)
    ) {
      before.forEach((item, i) => walk(`${path}[${i}]`, item, after[i], out))
      return
    }
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push({
      path,
      ...(before !== undefined && { before }),
      ...(after !== undefined && { after })
    })
  }
}

/** Every field that differs between two task definition bodies. */
export function diffTaskDefinitions(before: Json, after: Json): FieldChange[] {
  const changes: FieldChange[] = []
  walk('', before, after, changes)
  return changes
}

function show(value: unknown): string {
  return JSON.stringify(value)
}

/** One line per change: `~ path: before → after`, `+ path: value`, `- path: value`. */
export function formatChanges(changes: FieldChange[]): string {
  if (changes.length === 0) return '(no change)'
  return changes
    .map((c) => {
      if (c.before === undefined) return `+ ${c.path}: ${show(c.after)}`
      if (c.after === undefined) return `- ${c.path}: ${show(c.before)}`
      return `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`
    })
    .join('\n')
}
