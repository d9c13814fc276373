/**
 * Types that cross the ECS domain: the manifest's resolved flavors, the
 * health policy the watcher applies, and what the watcher reports. Both
 * deploy-ecs-flavor and wait-healthy speak these.
 */

/** How the watcher judges one service's deployment (seconds and counts). */
export interface HealthPolicy {
  /** While in grace, stopped tasks count against `startupFailureBudget`. */
  startupGraceSeconds: number
  startupFailureBudget: number
  /** After grace, or once all desired tasks run healthy. */
  failureBudget: number
  /** Steady state must hold this long before the verdict is healthy. */
  stableForSeconds: number
  /** Hard deadline for the whole wait. */
  timeoutSeconds: number
}

export type FailureCategory =
  | 'oom'
  | 'health-check'
  | 'image-pull'
  | 'secrets'
  | 'crash'
  | 'placement'
  | 'rolled-back'
  | 'timeout'

/** One flavor of the monolith in one environment, resolved from the manifest. */
export interface ResolvedFlavor {
  name: string
  environment: string
  cluster: string
  region: string
  service: string
  /** Containers that receive the new image. */
  containers: string[]
  wave: number
  cpu?: string
  memory?: string
  environmentVariables?: Record<string, string>
  command?: string[]
  policy: HealthPolicy
}

/** Which service and deployment a watch follows. */
export interface WatchTarget {
  cluster: string
  service: string
  region?: string
  /** Follow this deployment id (`ecs-svc/...`). */
  deploymentId?: string
  /** Or: the deployment whose task definition is this ARN must end up PRIMARY. */
  taskDefinitionArn?: string
  policy: HealthPolicy
  /**
   * Lifecycle stages at which the watch answers ECS's PAUSE hooks:
   * CONTINUE once the new revision is healthy for the soak, ROLLBACK when
   * the watch fails.
   */
  hookStages?: string[]
}

/** A stopped task of the followed deployment, as the summary shows it. */
export interface StoppedTaskReport {
  taskArn: string
  stopCode?: string
  stoppedReason?: string
  stoppedAt?: string
  containers: {
    name: string
    exitCode?: number
    reason?: string
    memoryLimit?: number
  }[]
  category?: FailureCategory
}

export interface WatchResult {
  cluster: string
  service: string
  deploymentId?: string
  result: 'healthy' | 'failed' | 'timeout'
  failureCategory?: FailureCategory
  /** ECS's own record of the deployment, when it offers one. */
  serviceDeployment?: {
    arn: string
    status?: string
    strategy?: string
    /** Who rolled back when ECS did: alarms, circuit breaker, hook, user. */
    rollbackReason?: string
  }
  failureReason?: string
  durationSeconds: number
  stoppedTasks: StoppedTaskReport[]
  /** Lines of what happened, with offsets from the start of the wait. */
  timeline: { atSeconds: number; text: string }[]
}
