import type { Deployment, ECSClient, Service, Task } from '@aws-sdk/client-ecs'
import type { Clock } from '../common/clock.js'
import { formatDuration } from '../common/duration.js'
import { EcsReader } from './ecs-reader.js'
import {
  classifyServiceEvent,
  classifyStoppedTask,
  parseHealthCheckEvent,
  reportOf,
  type Classification,
  type HealthCheckEvent
} from './failure-classifier.js'
import { PollSchedule } from './poll-schedule.js'
import type {
  FailureCategory,
  StoppedTaskReport,
  WatchResult,
  WatchTarget
} from './types.js'

/** What the watcher needs from outside: a client, a clock, a log. */
export interface WatchDeps {
  ecs: ECSClient
  clock: Clock
  log?: (line: string) => void
  /** Seconds between polls: `min` while things change, up to `max` idle. */
  pollIntervalSeconds?: { min: number; max: number }
  /**
   * Real seconds one ECS call may take, SDK retries included, before the
   * poll counts as throttled. Only for real clocks; unset in tests.
   */
  callTimeoutSeconds?: number
  /** Receives the reader, so callers can count API calls. */
  onReader?: (reader: EcsReader) => void
}

/**
 * Ten services polled every 5 s cost 2 ListTasks/s, a tenth of ECS's 20/s
 * sustained cluster-read rate; idle polls stretch to 10 s so a steady state
 * is still seen within 10 s.
 */
export const DEFAULT_POLL_INTERVAL = { min: 5, max: 10 }

/** Consecutive throttled or 5xx polls tolerated before giving up. */
const MAX_ERROR_STREAK = 20
const MAX_TIMELINE = 300

type Phase = 'startup' | 'strict'

class ServiceWatch {
  phase: Phase = 'startup'
  deployment?: Deployment
  deploymentId?: string
  resolved = false
  startupFailures = 0
  strictFailures = 0
  soakSince?: number
  statusLine = ''
  seenEvents = new Set<string>()
  eventsBaselined = false
  lastHealthEvent?: HealthCheckEvent
  stopped: StoppedTaskReport[] = []
  timeline: WatchResult['timeline'] = []
  result?: WatchResult

  constructor(
    readonly target: WatchTarget,
    readonly start: number
  ) {
    this.deploymentId = target.deploymentId
  }

  get key(): string {
    return `${this.target.cluster}\u0000${this.target.service}`
  }
}

function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return (
    /throttl|toomanyrequests|requestlimitexceeded|abort|timeout/i.test(
      e?.name ?? ''
    ) || e?.$metadata?.httpStatusCode === 429
  )
}

function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })
    ?.$metadata?.httpStatusCode
  return isThrottling(error) || (status !== undefined && status >= 500)
}

function shortTaskDefinition(arn: string | undefined): string {
  return (arn ?? '?').split('/').pop() ?? '?'
}

function deploymentLine(d: Deployment): string {
  const rollout = d.rolloutState ? ` ${d.rolloutState}` : ''
  return `${d.status} ${shortTaskDefinition(d.taskDefinition)} desired ${d.desiredCount ?? 0} running ${d.runningCount ?? 0} pending ${d.pendingCount ?? 0} failed ${d.failedTasks ?? 0}${rollout}`
}

function serviceMatches(service: Service, name: string): boolean {
  return service.serviceName === name || service.serviceArn === name
}

/** Same task definition, whether given as a full ARN or `family:revision`. */
export function sameTaskDefinition(a: string, b: string | undefined): boolean {
  if (!b) return false
  return a === b || shortTaskDefinition(a) === shortTaskDefinition(b)
}

/** The deployment a target follows, as the service shows it now. */
export function findDeployment(
  service: Service,
  target: Pick<WatchTarget, 'deploymentId' | 'taskDefinitionArn'>
): Deployment | undefined {
  const deployments = service.deployments ?? []
  if (target.deploymentId) {
    return deployments.find((d) => d.id === target.deploymentId)
  }
  if (target.taskDefinitionArn) {
    const arn = target.taskDefinitionArn
    const matching = deployments.filter((d) =>
      sameTaskDefinition(arn, d.taskDefinition)
    )
    return matching.find((d) => d.status === 'PRIMARY') ?? matching[0]
  }
  return deployments.find((d) => d.status === 'PRIMARY')
}

/** A stopped task belongs to our deployment when ECS says it started it. */
function belongsTo(task: Task, deployment: Deployment | undefined): boolean {
  if (!deployment) return false
  if (task.startedBy) return task.startedBy === deployment.id
  return sameTaskDefinition(
    deployment.taskDefinition ?? '',
    task.taskDefinitionArn
  )
}

/**
 * Watches the deployments of several services together until each is
 * healthy, failed or timed out, and says why.
 *
 * Each poll makes one DescribeServices per 10 services of a cluster, one
 * ListTasks(STOPPED) per service and one DescribeTasks per 100 stopped
 * tasks not seen before. A service passes through two phases: during
 * `startupGraceSeconds` stopped tasks count against the lenient
 * `startupFailureBudget`; after grace, or once every desired task of the
 * deployment runs, the strict `failureBudget` applies. It is healthy once
 * it has stayed steady for `stableForSeconds`. Causes that no retry can fix
 * (image pull, secrets) end the watch at once.
 */
export async function watchDeployments(
  targets: WatchTarget[],
  deps: WatchDeps
): Promise<WatchResult[]> {
  const { clock } = deps
  const log = deps.log ?? (() => undefined)
  const interval = deps.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL
  const schedule = new PollSchedule(interval.min, interval.max)
  const reader = new EcsReader(
    deps.ecs,
    deps.callTimeoutSeconds ? deps.callTimeoutSeconds * 1000 : undefined
  )
  deps.onReader?.(reader)
  const start = clock.now()
  const watches = targets.map((t) => new ServiceWatch(t, start))
  const seenTasks = new Set<string>()
  let errorStreak = 0

  const elapsed = (now: number): number => (now - start) / 1000
  const note = (w: ServiceWatch, now: number, text: string): void => {
    if (w.timeline.length < MAX_TIMELINE) {
      w.timeline.push({ atSeconds: Math.round(elapsed(now) * 10) / 10, text })
    }
  }
  const finish = (
    w: ServiceWatch,
    now: number,
    result: WatchResult['result'],
    category?: FailureCategory,
    reason?: string
  ): void => {
    const verdict =
      result === 'healthy' ? 'healthy' : `${result}: ${category ?? ''}`
    note(w, now, reason ? `${verdict} (${reason})` : verdict)
    log(
      `${w.target.service}: ${result.toUpperCase()}${category ? ` [${category}]` : ''}${reason ? ` ${reason}` : ''}`
    )
    w.result = {
      cluster: w.target.cluster,
      service: w.target.service,
      deploymentId: w.deploymentId,
      result,
      failureCategory: category,
      failureReason: reason,
      durationSeconds: Math.round(elapsed(now) * 10) / 10,
      stoppedTasks: w.stopped,
      timeline: w.timeline
    }
  }

  for (;;) {
    const active = watches.filter((w) => !w.result)
    if (active.length === 0) break
    let changed = false
    let throttled = false
    try {
      changed = await poll(active)
      errorStreak = 0
    } catch (error) {
      if (!isTransient(error)) throw error
      errorStreak++
      throttled = true
      const now = clock.now()
      log(
        `ECS answered ${(error as Error).name ?? 'an error'}; backing off (${errorStreak} in a row)`
      )
      if (errorStreak >= MAX_ERROR_STREAK) throw error
      for (const w of active) {
        if (elapsed(now) >= w.target.policy.timeoutSeconds) {
          finish(
            w,
            now,
            'timeout',
            'timeout',
            `ECS kept throttling; no verdict after ${formatDuration(elapsed(now))}`
          )
        }
      }
    }
    if (watches.every((w) => w.result)) break
    const now = clock.now()
    let wait = schedule.next({ changed, throttled })
    // Wake up for the next deadline so grace, soak and timeout end on time.
    for (const w of watches.filter((x) => !x.result)) {
      const p = w.target.policy
      const deadlines = [start + p.timeoutSeconds * 1000]
      if (w.phase === 'startup') {
        deadlines.push(start + p.startupGraceSeconds * 1000)
      }
      if (w.soakSince !== undefined) {
        deadlines.push(w.soakSince + p.stableForSeconds * 1000)
      }
      for (const d of deadlines) {
        if (d > now) wait = Math.min(wait, (d - now) / 1000)
      }
    }
    await clock.sleep(Math.max(wait, 0.05) * 1000)
  }
  return watches.map((w) => w.result as WatchResult)

  async function poll(active: ServiceWatch[]): Promise<boolean> {
    let changed = false
    const byCluster = new Map<string, ServiceWatch[]>()
    for (const w of active) {
      const list = byCluster.get(w.target.cluster) ?? []
      list.push(w)
      byCluster.set(w.target.cluster, list)
    }
    const services = new Map<ServiceWatch, Service | undefined>()
    for (const [cluster, list] of byCluster) {
      const out = await reader.describeServices(
        cluster,
        list.map((w) => w.target.service)
      )
      for (const w of list) {
        services.set(
          w,
          out.services.find((s) => serviceMatches(s, w.target.service))
        )
      }
    }
    const stoppedArns = new Map<ServiceWatch, string[]>()
    for (const w of active) {
      const arns = await reader.listStoppedTasks(
        w.target.cluster,
        w.target.service
      )
      stoppedArns.set(
        w,
        arns.filter((a) => !seenTasks.has(a))
      )
    }
    const tasksByArn = new Map<string, Task>()
    for (const [cluster, list] of byCluster) {
      const fresh = [...new Set(list.flatMap((w) => stoppedArns.get(w) ?? []))]
      if (fresh.length === 0) continue
      for (const task of await reader.describeTasks(cluster, fresh)) {
        if (task.taskArn) tasksByArn.set(task.taskArn, task)
      }
    }
    const now = clock.now()
    for (const w of active) {
      for (const arn of stoppedArns.get(w) ?? []) {
        // Tasks still stopping come back next poll with their exit codes.
        const task = tasksByArn.get(arn)
        if (task && (task.lastStatus === 'STOPPED' || task.stoppedAt)) {
          seenTasks.add(arn)
        }
      }
      if (
        await evaluate(
          w,
          services.get(w),
          (stoppedArns.get(w) ?? [])
            .map((a) => tasksByArn.get(a))
            .filter(
              (t): t is Task =>
                t !== undefined && (t.lastStatus === 'STOPPED' || !!t.stoppedAt)
            ),
          now
        )
      ) {
        changed = true
      }
    }
    return changed
  }

  /** Applies one poll's view to one service; true when anything changed. */
  async function evaluate(
    w: ServiceWatch,
    service: Service | undefined,
    newStopped: Task[],
    now: number
  ): Promise<boolean> {
    const p = w.target.policy
    let changed = false
    if (!service || service.status !== 'ACTIVE') {
      finish(
        w,
        now,
        'failed',
        undefined,
        `service ${w.target.service} is ${service?.status ?? 'missing'} in cluster ${w.target.cluster}`
      )
      return true
    }

    const deployment = w.resolved
      ? findDeployment(service, { deploymentId: w.deploymentId })
      : findDeployment(service, w.target)
    if (!w.resolved) {
      w.resolved = true
      w.deploymentId = deployment?.id
      if (deployment) {
        note(
          w,
          now,
          `following deployment ${deployment.id} (${shortTaskDefinition(deployment.taskDefinition)})`
        )
      }
    }
    w.deployment = deployment

    const line = (service.deployments ?? []).map(deploymentLine).join(' | ')
    if (line !== w.statusLine) {
      w.statusLine = line
      changed = true
      log(`${w.target.service}: ${line}`)
      note(w, now, line)
    }

    // Service events: log each new one; placement failures count.
    const since = deployment?.createdAt?.getTime() ?? Infinity
    const events = [...(service.events ?? [])].reverse()
    const failures: Classification[] = []
    let unhealthyNow = false
    for (const event of events) {
      const id = event.id ?? `${event.createdAt?.getTime()}:${event.message}`
      if (w.seenEvents.has(id)) continue
      w.seenEvents.add(id)
      const fresh =
        w.eventsBaselined || (event.createdAt?.getTime() ?? 0) >= since
      if (!fresh) continue
      const message = event.message ?? ''
      changed = true
      log(`${w.target.service} event: ${message}`)
      note(w, now, `event: ${message}`)
      const health = parseHealthCheckEvent(message)
      if (health) {
        w.lastHealthEvent = health
        unhealthyNow = true
      }
      const placement = classifyServiceEvent(message)
      if (placement) failures.push(placement)
    }
    w.eventsBaselined = true

    if (!deployment) {
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
      const wanted = w.deploymentId
        ? `deployment ${w.deploymentId}`
        : w.target.taskDefinitionArn
          ? `a deployment of ${shortTaskDefinition(w.target.taskDefinitionArn)}`
          : 'a PRIMARY deployment'
      finish(
        w,
        now,
        'failed',
        'rolled-back',
        `${wanted} is no longer on service ${w.target.service}; PRIMARY is ${shortTaskDefinition(primary?.taskDefinition)}${lastStoppedHint(w)}`
      )
      return true
    }

    // Stopped tasks of our deployment, classified and counted by phase.
    const definitionLimits = new Map<string, Map<string, number>>()
    for (const task of newStopped) {
      if (!belongsTo(task, deployment)) continue
      let report = reportOf(task)
      const candidate = classifyStoppedTask(
        report,
        task.healthStatus === 'UNHEALTHY'
      )
      if (
        candidate?.category === 'oom' &&
        task.taskDefinitionArn &&
        report.containers.some((c) => c.memoryLimit === undefined)
      ) {
        try {
          const limits =
            definitionLimits.get(task.taskDefinitionArn) ??
            (await reader.containerMemory(task.taskDefinitionArn))
          definitionLimits.set(task.taskDefinitionArn, limits)
          report = reportOf(task, (_arn, name) => limits.get(name))
        } catch {
          // The limit only decorates the message; the verdict stands without it.
        }
      }
      const classification = classifyStoppedTask(
        report,
        task.healthStatus === 'UNHEALTHY'
      )
      // Scale-in and user stops are not failures.
      if (!classification) continue
      if (
        classification.category === 'health-check' &&
        w.lastHealthEvent?.targetGroup
      ) {
        const ev = w.lastHealthEvent
        classification.reason += ` (target group ${ev.targetGroup}${ev.codes ? `, status codes [${ev.codes}]` : ''})`
      }
      report.category = classification.category
      w.stopped.push(report)
      changed = true
      const code = report.containers
        .filter((c) => c.exitCode !== undefined)
        .map((c) => `${c.name}=${c.exitCode}`)
        .join(' ')
      log(
        `${w.target.service}: task ${report.taskArn.split('/').pop()} stopped [${classification.category}] ${report.stoppedReason ?? ''}${code ? ` exit ${code}` : ''}`
      )
      note(
        w,
        now,
        `stopped [${classification.category}]: ${classification.reason}`
      )
      failures.push(classification)
    }

    for (const failure of failures) {
      w.soakSince = undefined
      if (failure.fatal) {
        finish(w, now, 'failed', failure.category, failure.reason)
        return true
      }
      if (w.phase === 'startup') w.startupFailures++
      else w.strictFailures++
      const [count, budget, label] =
        w.phase === 'startup'
          ? [w.startupFailures, p.startupFailureBudget, 'startup grace']
          : [w.strictFailures, p.failureBudget, 'strict phase']
      if (count > budget) {
        finish(
          w,
          now,
          'failed',
          failure.category,
          `${failure.reason} — ${count} failure(s) in the ${label}, budget ${budget}`
        )
        return true
      }
    }

    // Rolled back or replaced by someone else's deployment.
    if (
      deployment.rolloutState === 'FAILED' ||
      deployment.status !== 'PRIMARY'
    ) {
      const primary = service.deployments?.find((d) => d.status === 'PRIMARY')
      const why =
        deployment.rolloutState === 'FAILED'
          ? `deployment ${deployment.id} FAILED${deployment.rolloutStateReason ? `: ${deployment.rolloutStateReason}` : ''}`
          : `deployment ${deployment.id} is no longer PRIMARY (now ${deployment.status})`
      finish(
        w,
        now,
        'failed',
        'rolled-back',
        `${why}; PRIMARY is ${shortTaskDefinition(primary?.taskDefinition)}${lastStoppedHint(w)}`
      )
      return true
    }

    const desired = deployment.desiredCount ?? 0
    const running = deployment.runningCount ?? 0
    const others = (service.deployments ?? []).filter(
      (d) => d.id !== deployment.id
    )
    // Counts alone say RUNNING, not healthy. ECS drains the old deployment
    // only as new tasks pass their health checks, and completes the rollout
    // once all do, so either one is the sign that the new tasks are healthy.
    const allRunning =
      running >= desired &&
      !unhealthyNow &&
      (deployment.rolloutState === undefined ||
        deployment.rolloutState === 'COMPLETED' ||
        others.every((d) => (d.runningCount ?? 0) === 0))
    if (w.phase === 'startup') {
      const graceOver = elapsed(now) >= p.startupGraceSeconds
      if (graceOver || allRunning) {
        w.phase = 'strict'
        changed = true
        const why = allRunning
          ? `all ${desired} desired task(s) running`
          : 'startup grace over'
        log(
          `${w.target.service}: ${why}; failure budget ${p.failureBudget} applies now`
        )
        note(w, now, `${why}; strict failure budget ${p.failureBudget}`)
      }
    }

    const steady =
      allRunning &&
      (deployment.pendingCount ?? 0) === 0 &&
      running === desired &&
      (deployment.rolloutState === 'COMPLETED' || others.length === 0) &&
      failures.length === 0
    if (steady) {
      if (w.soakSince === undefined) {
        w.soakSince = now
        changed = true
        log(
          `${w.target.service}: steady; soaking for ${formatDuration(p.stableForSeconds)}`
        )
        note(w, now, `steady; soak ${formatDuration(p.stableForSeconds)}`)
      }
      if ((now - w.soakSince) / 1000 >= p.stableForSeconds) {
        finish(w, now, 'healthy')
        return true
      }
    } else if (w.soakSince !== undefined) {
      w.soakSince = undefined
      changed = true
      note(w, now, 'left steady state; soak restarts')
    }

    if (elapsed(now) >= p.timeoutSeconds) {
      finish(
        w,
        now,
        'timeout',
        'timeout',
        `not healthy after ${formatDuration(elapsed(now))}: ${w.statusLine}${lastStoppedHint(w)}`
      )
      return true
    }
    return changed
  }
}

function lastStoppedHint(w: { stopped: StoppedTaskReport[] }): string {
  const last = w.stopped[w.stopped.length - 1]
  if (!last) return ''
  const c = last.containers.find(
    (x) => x.exitCode !== undefined && x.exitCode !== 0
  )
  return `; last stopped task: ${last.stoppedReason ?? last.stopCode ?? ''}${c ? ` (${c.name} exit ${c.exitCode})` : ''}`
}

/** A problem found before watching: the action turns it into an input error. */
export interface TargetProblem {
  target: WatchTarget
  field: 'cluster' | 'service' | 'deploymentId' | 'taskDefinitionArn'
  message: string
}

/**
 * Checks that every cluster, service and deployment a watch would follow
 * exists, with one DescribeServices per 10 services, so bad input fails
 * before any waiting.
 */
export async function checkTargets(
  targets: WatchTarget[],
  ecs: ECSClient
): Promise<TargetProblem[]> {
  const reader = new EcsReader(ecs)
  const problems: TargetProblem[] = []
  const clusters = [...new Set(targets.map((t) => t.cluster))]
  for (const cluster of clusters) {
    const list = targets.filter((t) => t.cluster === cluster)
    let found: Service[]
    try {
      found = (
        await reader.describeServices(
          cluster,
          list.map((t) => t.service)
        )
      ).services
    } catch (error) {
      if ((error as Error).name === 'ClusterNotFoundException') {
        for (const t of list) {
          problems.push({
            target: t,
            field: 'cluster',
            message: `cluster "${cluster}" not found`
          })
        }
        continue
      }
      throw error
    }
    for (const t of list) {
      const service = found.find((s) => serviceMatches(s, t.service))
      if (!service || service.status !== 'ACTIVE') {
        problems.push({
          target: t,
          field: 'service',
          message: `service "${t.service}" ${service ? `is ${service.status}` : 'not found'} in cluster "${cluster}"`
        })
        continue
      }
      if (t.deploymentId && !findDeployment(service, t)) {
        problems.push({
          target: t,
          field: 'deploymentId',
          message: `deployment "${t.deploymentId}" is not on service "${t.service}" (it has ${(service.deployments ?? []).map((d) => d.id).join(', ') || 'none'})`
        })
      } else if (t.taskDefinitionArn && !findDeployment(service, t)) {
        problems.push({
          target: t,
          field: 'taskDefinitionArn',
          message: `no deployment of task definition "${t.taskDefinitionArn}" on service "${t.service}"`
        })
      }
    }
  }
  return problems
}
