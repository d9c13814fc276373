/**
 * ECS's own record of a deployment (ServiceDeployment): one per
 * CreateService/UpdateService that starts a deployment, kept through its
 * rollback. The strategies module moves it along; this one holds its shape
 * and the four operations that read and steer it.
 */
import type {
  ContinueServiceDeploymentRequest,
  DescribeServiceDeploymentsRequest,
  ListServiceDeploymentsRequest,
  StopServiceDeploymentRequest
} from '@aws-sdk/client-ecs'
import { EcsApiError, invalidParameter } from './errors.js'
import { seconds } from './shapes.js'
import type { Deployment, Service, World } from './world.js'

type Json = Record<string, unknown>

export type ServiceDeploymentStatus =
  | 'PENDING'
  | 'IN_PROGRESS'
  | 'SUCCESSFUL'
  | 'STOPPED'
  | 'STOP_REQUESTED'
  | 'ROLLBACK_REQUESTED'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_SUCCESSFUL'
  | 'ROLLBACK_FAILED'

export type LifecycleStage =
  | 'RECONCILE_SERVICE'
  | 'PRE_SCALE_UP'
  | 'SCALE_UP'
  | 'POST_SCALE_UP'
  | 'TEST_TRAFFIC_SHIFT'
  | 'POST_TEST_TRAFFIC_SHIFT'
  | 'PRODUCTION_TRAFFIC_SHIFT'
  | 'POST_PRODUCTION_TRAFFIC_SHIFT'
  | 'BAKE_TIME'
  | 'CLEAN_UP'

export type MonitorStatus =
  'TRIGGERED' | 'MONITORING' | 'MONITORING_COMPLETE' | 'DISABLED'

export interface HookDetail {
  hookId: string
  stage: LifecycleStage
  targetType: 'PAUSE' | 'AWS_LAMBDA'
  targetArn?: string
  status: 'AWAITING_ACTION' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED'
}

export interface ServiceDeploymentRecord {
  arn: string
  service: Service
  createdAt: number
  startedAt?: number
  updatedAt: number
  finishedAt?: number
  stoppedAt?: number
  status: ServiceDeploymentStatus
  statusReason?: string
  strategy: 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY'
  lifecycleStage?: LifecycleStage
  /** When the current stage (or traffic step) began. */
  stageSince: number
  target: Deployment
  targetRevisionArn: string
  /** The deployments that were serving when this one started. */
  sources: { deployment: Deployment; revisionArn: string }[]
  /** Production traffic on the target revision, percent. */
  trafficPercent: number
  /** When the alarm watch after steady state ends (rolling with alarms). */
  monitorUntil?: number
  alarmStatus: MonitorStatus
  triggeredAlarms: string[]
  breakerStatus: MonitorStatus
  rollback?: { reason: string; startedAt: number; revisionArn: string }
  /** The deployment that brings the source revision back (rolling rollback). */
  rollbackDeployment?: Deployment
  hooks: HookDetail[]
  /** Deployment configuration as it was when the deployment started. */
  configuration: Service['deploymentConfiguration']
}

const FINAL: ServiceDeploymentStatus[] = [
  'SUCCESSFUL',
  'STOPPED',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED'
]

export function isFinal(record: ServiceDeploymentRecord): boolean {
  return FINAL.includes(record.status)
}

/** Per-world state the ECS model keeps outside its core maps. */
interface Ledger {
  records: ServiceDeploymentRecord[]
  alarms: Map<string, string>
}
const ledgers = new WeakMap<World, Ledger>()

function ledger(world: World): Ledger {
  let l = ledgers.get(world)
  if (!l) {
    l = { records: [], alarms: new Map() }
    ledgers.set(world, l)
  }
  return l
}

export function serviceDeployments(world: World): ServiceDeploymentRecord[] {
  return ledger(world).records
}

/** CloudWatch alarm state as the simulator plays it (OK unless set). */
export function alarmState(world: World, name: string): string {
  return ledger(world).alarms.get(name) ?? 'OK'
}

export function setAlarmState(world: World, name: string, state: string): void {
  if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state)) {
    throw new Error(`alarm state must be OK, ALARM or INSUFFICIENT_DATA`)
  }
  ledger(world).alarms.set(name, state)
}

export function revisionArn(world: World, service: Service): string {
  return world.arn(
    `service-revision/${service.clusterName}/${service.name}/${world.ids.digits(19)}`
  )
}

/** The record a new deployment of a service opens (UpdateService/CreateService). */
export function startServiceDeployment(
  world: World,
  service: Service,
  target: Deployment
): ServiceDeploymentRecord {
  const configuration = structuredClone(service.deploymentConfiguration)
  const alarms = configuration.alarms
  const record: ServiceDeploymentRecord = {
    arn: world.arn(
      `service-deployment/${service.clusterName}/${service.name}/${world.ids.hex(22)}`
    ),
    service,
    createdAt: world.time,
    updatedAt: world.time,
    status: 'PENDING',
    strategy: configuration.strategy ?? 'ROLLING',
    stageSince: world.time,
    target,
    targetRevisionArn: revisionArn(world, service),
    sources: service.deployments
      .filter((d) => d !== target)
      .map((deployment) => ({
        deployment,
        revisionArn:
          revisionOf(world, deployment) ?? revisionArn(world, service)
      })),
    trafficPercent: 0,
    alarmStatus:
      alarms?.enable && (alarms.alarmNames ?? []).length > 0
        ? 'MONITORING'
        : 'DISABLED',
    triggeredAlarms: [],
    breakerStatus: configuration.deploymentCircuitBreaker.enable
      ? 'MONITORING'
      : 'DISABLED',
    hooks: [],
    configuration
  }
  // An earlier deployment still going is superseded, as ECS does.
  for (const r of serviceDeployments(world)) {
    if (r.service === service && !isFinal(r)) {
      r.status = 'STOPPED'
      r.statusReason = 'Superseded by a newer service deployment.'
      r.stoppedAt = r.finishedAt = r.updatedAt = world.time
    }
  }
  serviceDeployments(world).push(record)
  service.currentServiceDeploymentArn = record.arn
  return record
}

/** The revision ARN a deployment serves, from the record that started it. */
function revisionOf(world: World, d: Deployment): string | undefined {
  return serviceDeployments(world).find((r) => r.target === d)
    ?.targetRevisionArn
}

export function recordOf(
  world: World,
  service: Service
): ServiceDeploymentRecord | undefined {
  return serviceDeployments(world).find(
    (r) => r.arn === service.currentServiceDeploymentArn
  )
}

function revisionSummary(
  world: World,
  arn: string,
  d: Deployment | undefined,
  traffic: number
): Json {
  const tasks = d ? [...world.live].filter((t) => t.deploymentId === d.id) : []
  return {
    arn,
    requestedTaskCount: d?.desiredCount ?? 0,
    runningTaskCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTaskCount: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
    requestedTestTrafficWeight: traffic > 0 ? 100 : 0,
    requestedProductionTrafficWeight: traffic
  }
}

export function serviceDeploymentShape(
  world: World,
  r: ServiceDeploymentRecord
): Json {
  const alarms = r.configuration.alarms
  const breaker = r.target
  return {
    serviceDeploymentArn: r.arn,
    serviceArn: r.service.arn,
    clusterArn: world.arn(`cluster/${r.service.clusterName}`),
    createdAt: seconds(r.createdAt),
    startedAt: seconds(r.startedAt),
    finishedAt: seconds(r.finishedAt),
    stoppedAt: seconds(r.stoppedAt),
    updatedAt: seconds(r.updatedAt),
    sourceServiceRevisions: r.sources.map((s) =>
      revisionSummary(
        world,
        s.revisionArn,
        s.deployment,
        100 - r.trafficPercent
      )
    ),
    targetServiceRevision: revisionSummary(
      world,
      r.targetRevisionArn,
      r.target,
      r.trafficPercent
    ),
    status: r.status,
    statusReason: r.statusReason,
    lifecycleStage: r.lifecycleStage,
    lifecycleHookDetails: r.hooks.map((h) => ({
      hookId: h.hookId,
      targetType: h.targetType,
      targetArn: h.targetArn,
      status: h.status
    })),
    deploymentConfiguration: r.configuration,
    rollback: r.rollback
      ? {
          reason: r.rollback.reason,
          startedAt: seconds(r.rollback.startedAt),
          serviceRevisionArn: r.rollback.revisionArn
        }
      : undefined,
    deploymentCircuitBreaker: {
      status: r.breakerStatus,
      failureCount: breaker.failedTasks,
      threshold: breakerThresholdOf(r.service)
    },
    alarms: {
      status: r.alarmStatus,
      alarmNames: alarms?.alarmNames ?? [],
      triggeredAlarmNames: r.triggeredAlarms
    }
  }
}

/**
 * Consecutive failures that trip the circuit breaker: `thresholdConfiguration`
 * when given (COUNT as is; percents of desired count, BOUNDED clamped to
 * 3..200), else the documented default of 50 % of desired, 3..200.
 */
export function breakerThresholdOf(service: Service): number {
  const config =
    service.deploymentConfiguration.deploymentCircuitBreaker
      .thresholdConfiguration
  const type = config?.type ?? 'BOUNDED_PERCENT'
  const value = config?.value ?? 50
  if (type === 'COUNT') return Math.max(1, value)
  const raw = Math.ceil((value / 100) * service.desiredCount)
  if (type === 'UNBOUNDED_PERCENT') return Math.max(1, raw)
  return Math.min(200, Math.max(3, raw))
}

function notFound(): EcsApiError {
  return new EcsApiError(
    'ServiceDeploymentNotFoundException',
    'The service deployment does not exist.'
  )
}

function byArn(world: World, arn: unknown): ServiceDeploymentRecord {
  if (typeof arn !== 'string' || arn === '') {
    throw invalidParameter('serviceDeploymentArn can not be null or empty.')
  }
  const record = serviceDeployments(world).find((r) => r.arn === arn)
  if (!record) throw notFound()
  return record
}

/** Set by strategies.ts: starts a rollback of a record (avoids an import cycle). */
export const steering: {
  rollback?: (world: World, r: ServiceDeploymentRecord, reason: string) => void
  answerHook?: (
    world: World,
    r: ServiceDeploymentRecord,
    hook: HookDetail,
    action: 'CONTINUE' | 'ROLLBACK'
  ) => void
} = {}

export const serviceDeploymentOperations: Record<
  string,
  (world: World, input: unknown) => Json
> = {
  ListServiceDeployments(world, raw) {
    const input = raw as ListServiceDeploymentsRequest
    const cluster = world.cluster(input.cluster)
    if (typeof input.service !== 'string' || input.service === '') {
      throw invalidParameter('service can not be null or empty.')
    }
    const service = world.service(cluster, input.service)
    if (!service) {
      throw new EcsApiError('ServiceNotFoundException', 'Service not found.')
    }
    const max = input.maxResults ?? 20
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw invalidParameter('maxResults must be between 1 and 100.')
    }
    const wanted = input.status
    const after = input.createdAt?.after
      ? new Date(input.createdAt.after as unknown as number).getTime()
      : undefined
    const list = serviceDeployments(world)
      .filter((r) => r.service === service)
      .filter((r) => !wanted?.length || wanted.includes(r.status))
      .filter((r) => after === undefined || r.createdAt >= after * 1000)
      .reverse()
    const start = input.nextToken ? Number(input.nextToken) : 0
    const page = list.slice(start, start + max)
    return {
      serviceDeployments: page.map((r) => ({
        serviceDeploymentArn: r.arn,
        serviceArn: service.arn,
        clusterArn: cluster.arn,
        startedAt: seconds(r.startedAt),
        createdAt: seconds(r.createdAt),
        finishedAt: seconds(r.finishedAt),
        targetServiceRevisionArn: r.targetRevisionArn,
        status: r.status,
        statusReason: r.statusReason
      })),
      nextToken: start + max < list.length ? String(start + max) : undefined
    }
  },

  DescribeServiceDeployments(world, raw) {
    const input = raw as DescribeServiceDeploymentsRequest
    const arns = input.serviceDeploymentArns ?? []
    if (arns.length === 0 || arns.length > 20) {
      throw invalidParameter('serviceDeploymentArns must have 1 to 20 items.')
    }
    const found: Json[] = []
    const failures: Json[] = []
    for (const arn of arns) {
      const r = serviceDeployments(world).find((x) => x.arn === arn)
      if (r) found.push(serviceDeploymentShape(world, r))
      else failures.push({ arn, reason: 'MISSING' })
    }
    return { serviceDeployments: found, failures }
  },

  StopServiceDeployment(world, raw) {
    const input = raw as StopServiceDeploymentRequest
    const r = byArn(world, input.serviceDeploymentArn)
    const stopType = input.stopType ?? 'ROLLBACK'
    if (stopType !== 'ROLLBACK' && stopType !== 'ABORT') {
      throw invalidParameter(`stopType ${String(stopType)} is not valid.`)
    }
    if (
      r.status === 'ROLLBACK_REQUESTED' ||
      r.status === 'ROLLBACK_IN_PROGRESS' ||
      r.status === 'STOP_REQUESTED'
    ) {
      return { serviceDeploymentArn: r.arn }
    }
    if (r.status !== 'PENDING' && r.status !== 'IN_PROGRESS') {
      throw new EcsApiError(
        'ConflictException',
        `The service deployment is ${r.status} and can not be stopped.`
      )
    }
    if (stopType === 'ABORT') {
      throw new EcsApiError(
        'UnsupportedFeatureException',
        'The ECS simulator models stopType ROLLBACK only.'
      )
    }
    r.status = 'ROLLBACK_REQUESTED'
    r.updatedAt = world.time
    steering.rollback?.(world, r, 'Service deployment rolled back by user.')
    return { serviceDeploymentArn: r.arn }
  },

  ContinueServiceDeployment(world, raw) {
    const input = raw as ContinueServiceDeploymentRequest
    const r = byArn(world, input.serviceDeploymentArn)
    const action = input.action ?? 'CONTINUE'
    if (action !== 'CONTINUE' && action !== 'ROLLBACK') {
      throw invalidParameter(`action ${String(action)} is not valid.`)
    }
    const hook = r.hooks.find((h) => h.hookId === input.hookId)
    if (!hook) {
      throw invalidParameter(`hookId ${String(input.hookId)} is not valid.`)
    }
    if (hook.status !== 'AWAITING_ACTION' || r.status !== 'IN_PROGRESS') {
      throw new EcsApiError(
        'ConflictException',
        `The lifecycle hook is ${hook.status} and the service deployment is ${r.status}; only an AWAITING_ACTION hook of an IN_PROGRESS deployment can be continued.`
      )
    }
    steering.answerHook?.(world, r, hook, action)
    return { serviceDeploymentArn: r.arn }
  }
}
