/**
 * What a simulated container does, scripted per container definition through
 * the `SIM_BEHAVIOR` environment variable or per image through rules.
 *
 * Grammar: terms separated by commas; a term is a name followed by
 * colon-separated arguments, each a duration (`20s`, `8m`, `500ms`, a bare
 * number is seconds) or `key=value`:
 *
 *   healthy[:T]            passes health checks T after RUNNING (default 5s)
 *   slow-start:T           the same as healthy:T; with a grace period shorter
 *                          than T the scheduler kills it as unhealthy first
 *   crash:T[:exit=N]       the container exits with code N (default 1) T after RUNNING
 *   oom:T                  killed for memory T after RUNNING (exit 137)
 *   healthy-then-fail:T    health checks start failing T after RUNNING
 *   unhealthy              never passes health checks
 *   pull-error             the image cannot be pulled (task never runs)
 *   secrets-error          secrets cannot be fetched (task never runs)
 *   placement              no capacity: the task is never placed
 *
 * Without any term a container is `healthy:5s`. With crash, oom or unhealthy
 * and no healthy term it never passes health checks: `healthy:10s,oom:2m`
 * serves for a while and then runs out of memory.
 */

/** Seconds before an unhealthy task is noticed when there is no grace period. */
export const DEFAULT_HEALTHY_MS = 5_000

export interface ContainerPlan {
  /** Undefined: never passes health checks. */
  healthyAfterMs?: number
  exit?: { afterMs: number; exitCode: number; oom: boolean }
  failHealthAfterMs?: number
  startFailure?: 'pull' | 'secrets'
  placement?: boolean
}

/** The combined fate of a task, from its essential containers. */
export interface TaskPlan {
  readyAfterMs?: number
  exit?: { afterMs: number; exitCode: number; oom: boolean; container: string }
  failHealthAfterMs?: number
  startFailure?: { kind: 'pull' | 'secrets'; container: string }
  placement: boolean
}

/** A rule that gives every container whose image matches a behaviour. */
export interface BehaviorRule {
  /** Image reference; `*` matches any run of characters (`*:broken`). */
  image: string
  behavior: string
}

const TERMS = new Set([
  'healthy',
  'slow-start',
  'crash',
  'oom',
  'healthy-then-fail',
  'unhealthy',
  'pull-error',
  'secrets-error',
  'placement'
])

/** Parses a duration argument; a bare number counts seconds. */
export function parseSimDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new Error(`invalid duration "${text}" (use 500ms, 20s, 8m, 1h)`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000
  return Math.round(n * factor)
}

/** Parses a behaviour string; throws with the offending term on bad input. */
export function parseBehavior(text: string): ContainerPlan {
  const plan: ContainerPlan = {}
  let healthy: number | undefined
  let failing = false
  for (const raw of text.split(',')) {
    const term = raw.trim()
    if (!term) continue
    const [name, ...args] = term.split(':')
    if (!TERMS.has(name)) {
      throw new Error(
        `unknown SIM_BEHAVIOR term "${name}" in "${text}" (known: ${[...TERMS].join(', ')})`
      )
    }
    const durations = args.filter((a) => !a.includes('=')).map(parseSimDuration)
    const options = Object.fromEntries(
      args.filter((a) => a.includes('=')).map((a) => a.split('=', 2))
    ) as Record<string, string>
    const at = durations[0]
    const need = (): number => {
      if (at === undefined) throw new Error(`"${term}" needs a duration`)
      return at
    }
    switch (name) {
      case 'healthy':
      case 'slow-start':
        healthy = at ?? DEFAULT_HEALTHY_MS
        break
      case 'crash': {
        const exitCode = Number(options.exit ?? '1')
        if (!Number.isInteger(exitCode)) {
          throw new Error(`"${term}": exit must be an integer`)
        }
        plan.exit = { afterMs: need(), exitCode, oom: false }
        failing = true
        break
      }
      case 'oom':
        plan.exit = { afterMs: need(), exitCode: 137, oom: true }
        failing = true
        break
      case 'healthy-then-fail':
        plan.failHealthAfterMs = need()
        break
      case 'unhealthy':
        failing = true
        break
      case 'pull-error':
        plan.startFailure = 'pull'
        break
      case 'secrets-error':
        plan.startFailure = 'secrets'
        break
      case 'placement':
        plan.placement = true
        break
    }
  }
  if (healthy !== undefined) plan.healthyAfterMs = healthy
  else if (!failing) plan.healthyAfterMs = DEFAULT_HEALTHY_MS
  return plan
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  return new RegExp(`^${escaped}$`)
}

/** The behaviour text of one container: its env, then image rules (newest first). */
export function behaviorFor(
  container: {
    image?: string
    environment?: { name?: string; value?: string }[]
  },
  rules: readonly BehaviorRule[]
): string {
  const env = container.environment?.find((e) => e.name === 'SIM_BEHAVIOR')
  if (env?.value) return env.value
  for (let i = rules.length - 1; i >= 0; i--) {
    if (globToRegExp(rules[i].image).test(container.image ?? '')) {
      return rules[i].behavior
    }
  }
  return ''
}

/** Combines the plans of a task's essential containers into one fate. */
export function planTask(
  containers: {
    name?: string
    image?: string
    essential?: boolean
    environment?: { name?: string; value?: string }[]
  }[],
  rules: readonly BehaviorRule[]
): TaskPlan {
  const task: TaskPlan = { placement: false, readyAfterMs: 0 }
  for (const c of containers) {
    const plan = parseBehavior(behaviorFor(c, rules))
    const name = c.name ?? ''
    if (plan.placement) task.placement = true
    if (plan.startFailure) {
      // Secrets are fetched before the image is pulled, so they fail first.
      if (!task.startFailure || plan.startFailure === 'secrets') {
        task.startFailure = { kind: plan.startFailure, container: name }
      }
    }
    if (c.essential === false) continue
    if (plan.healthyAfterMs === undefined) task.readyAfterMs = undefined
    else if (task.readyAfterMs !== undefined) {
      task.readyAfterMs = Math.max(task.readyAfterMs, plan.healthyAfterMs)
    }
    if (plan.exit && (!task.exit || plan.exit.afterMs < task.exit.afterMs)) {
      task.exit = { ...plan.exit, container: name }
    }
    if (
      plan.failHealthAfterMs !== undefined &&
      (task.failHealthAfterMs === undefined ||
        plan.failHealthAfterMs < task.failHealthAfterMs)
    ) {
      task.failHealthAfterMs = plan.failHealthAfterMs
    }
  }
  return task
}
