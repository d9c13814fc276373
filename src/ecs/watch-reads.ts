/** The ECS reads of one poll, batched per cluster, turned into a snapshot per watched service. */
import type { Service, Task } from '@aws-sdk/client-ecs'
import type { EcsReader } from './ecs-reader.js'
import { classifyStoppedTask, reportOf } from './failure-classifier.js'
import { serviceMatches } from './service-deployments.js'
import type { WatchTarget } from './types.js'
import type { ServiceSnapshot, StoppedTask } from './watch-state.js'

function isStopped(task: Task | undefined): task is Task {
  return (
    task !== undefined && (task.lastStatus === 'STOPPED' || !!task.stoppedAt)
  )
}

/**
 * One DescribeServices per 10 services of a cluster, one ListTasks(STOPPED)
 * per service and one DescribeTasks per 100 stopped tasks not seen before.
 * `seenTasks` is updated: a task still stopping comes back next poll with its
 * exit codes.
 */
export async function readSnapshots(
  reader: EcsReader,
  targets: readonly WatchTarget[],
  seenTasks: Set<string>,
  knownDeployments: readonly (string | undefined)[] = []
): Promise<ServiceSnapshot[]> {
  const clusters = [...new Set(targets.map((t) => t.cluster))]
  const services = new Map<WatchTarget, Service | undefined>()
  for (const cluster of clusters) {
    const list = targets.filter((t) => t.cluster === cluster)
    const out = await reader.describeServices(
      cluster,
      list.map((t) => t.service)
    )
    for (const t of list) {
      services.set(
        t,
        out.services.find((s) => serviceMatches(s, t.service))
      )
    }
  }
  const fresh = new Map<WatchTarget, string[]>()
  for (const t of targets) {
    const arns = await reader.listStoppedTasks(t.cluster, t.service)
    fresh.set(
      t,
      arns.filter((a) => !seenTasks.has(a))
    )
  }
  const tasksByArn = new Map<string, Task>()
  for (const cluster of clusters) {
    const arns = [
      ...new Set(
        targets
          .filter((t) => t.cluster === cluster)
          .flatMap((t) => fresh.get(t) ?? [])
      )
    ]
    if (arns.length === 0) continue
    for (const task of await reader.describeTasks(cluster, arns)) {
      if (task.taskArn) tasksByArn.set(task.taskArn, task)
    }
  }
  const snapshots: ServiceSnapshot[] = []
  for (const t of targets) {
    const stopped: StoppedTask[] = []
    for (const arn of fresh.get(t) ?? []) {
      const task = tasksByArn.get(arn)
      if (!isStopped(task)) continue
      seenTasks.add(arn)
      stopped.push(await withMemoryLimits(reader, task))
    }
    snapshots.push({ service: services.get(t), stopped })
  }
  await addServiceDeployments(reader, snapshots, knownDeployments)
  return snapshots
}

/**
 * One DescribeServiceDeployments per 20 services: the one each watch
 * already follows, else the service's current one (matched later).
 */
async function addServiceDeployments(
  reader: EcsReader,
  snapshots: ServiceSnapshot[],
  known: readonly (string | undefined)[]
): Promise<void> {
  const arns = snapshots.map(
    (s, i) => known[i] ?? s.service?.currentServiceDeployment
  )
  const wanted = [...new Set(arns.filter((a): a is string => !!a))]
  if (wanted.length === 0) return
  const found = await reader.describeServiceDeployments(wanted)
  snapshots.forEach((s, i) => {
    s.serviceDeployment = found.find((d) => d.serviceDeploymentArn === arns[i])
  })
}

/**
 * An OOM kill's message names the container's limit; when the task does not
 * carry it, the task definition is asked (once per ARN).
 */
async function withMemoryLimits(
  reader: EcsReader,
  task: Task
): Promise<StoppedTask> {
  const report = reportOf(task)
  const oom =
    classifyStoppedTask(report, task.healthStatus === 'UNHEALTHY')?.category ===
    'oom'
  if (
    !oom ||
    !task.taskDefinitionArn ||
    report.containers.every((c) => c.memoryLimit !== undefined)
  ) {
    return { task }
  }
  try {
    return {
      task,
      memoryLimits: await reader.containerMemory(task.taskDefinitionArn)
    }
  } catch {
    // The limit only decorates the message; the verdict stands without it.
    return { task }
  }
}
