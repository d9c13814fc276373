import type {
  ContainerDefinition,
  KeyValuePair,
  RegisterTaskDefinitionCommandInput,
  TaskDefinition
} from '@aws-sdk/client-ecs'
import { ConfigurationError } from '../common/errors.js'

/**
 * Fields DescribeTaskDefinition returns that RegisterTaskDefinition refuses:
 * ECS sets them itself.
 */
export const READ_ONLY_TASK_DEFINITION_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt'
] as const

/** The task definition body to register, without tags. */
export type TaskDefinitionInput = Omit<
  RegisterTaskDefinitionCommandInput,
  'tags'
>

/** What a flavor changes in its task definition besides the image. */
export interface RenderOverrides {
  /** Containers that receive the image. */
  containers: string[]
  image: string
  cpu?: string
  memory?: string
  containerMemory?: Record<string, number>
  environmentVariables?: Record<string, string>
  command?: string[]
}

/** The registrable body of a described task definition, unchanged. */
export function registrableTaskDefinition(
  described: TaskDefinition
): TaskDefinitionInput {
  const copy = structuredClone(described) as Record<string, unknown>
  for (const field of READ_ONLY_TASK_DEFINITION_FIELDS) delete copy[field]
  for (const [key, value] of Object.entries(copy)) {
    if (value === undefined) delete copy[key]
  }
  return copy as TaskDefinitionInput
}

function mergeEnvironment(
  current: KeyValuePair[] | undefined,
  overrides: Record<string, string>
): KeyValuePair[] {
  const merged = (current ?? []).map((pair) =>
    pair.name !== undefined && pair.name in overrides
      ? { ...pair, value: overrides[pair.name] }
      : { ...pair }
  )
  const present = new Set(merged.map((pair) => pair.name))
  for (const [name, value] of Object.entries(overrides)) {
    if (!present.has(name)) merged.push({ name, value })
  }
  return merged
}

/**
 * The task definition to register: the described one minus read-only
 * fields, with the image on the named containers and the flavor's
 * overrides; everything else kept as it is. Names a container the task
 * definition does not have, listing those it has.
 */
export function renderTaskDefinition(
  described: TaskDefinition,
  overrides: RenderOverrides
): TaskDefinitionInput {
  const rendered = registrableTaskDefinition(described)
  const containers = rendered.containerDefinitions ?? []
  const names = containers.map((c) => c.name ?? '')
  const wanted = [
    ...overrides.containers,
    ...Object.keys(overrides.containerMemory ?? {})
  ]
  const missing = [...new Set(wanted)].filter((n) => !names.includes(n))
  if (missing.length > 0) {
    const family = described.family ?? described.taskDefinitionArn ?? '?'
    throw new ConfigurationError(
      `Task definition ${family} has no container ${missing.map((n) => `"${n}"`).join(', ')}; its containers: ${names.join(', ') || '(none)'}`
    )
  }
  rendered.containerDefinitions = containers.map(
    (container): ContainerDefinition => {
      const name = container.name ?? ''
      const next = { ...container }
      if (overrides.containers.includes(name)) {
        next.image = overrides.image
        if (overrides.environmentVariables) {
          next.environment = mergeEnvironment(
            container.environment,
            overrides.environmentVariables
          )
        }
        if (overrides.command) next.command = [...overrides.command]
      }
      const limit = overrides.containerMemory?.[name]
      if (limit !== undefined) next.memory = limit
      return next
    }
  )
  if (overrides.cpu !== undefined) rendered.cpu = overrides.cpu
  if (overrides.memory !== undefined) rendered.memory = overrides.memory
  checkMemory(rendered)
  return rendered
}

/** Container hard limits that cannot fit in the task's memory never start. */
function checkMemory(rendered: TaskDefinitionInput): void {
  if (rendered.memory === undefined) return
  const task = Number(rendered.memory)
  const sum = (rendered.containerDefinitions ?? []).reduce(
    (total, c) => total + (c.memory ?? 0),
    0
  )
  if (Number.isFinite(task) && sum > task) {
    throw new ConfigurationError(
      `Task definition ${rendered.family ?? '?'}: container memory limits add up to ${sum} MiB, more than the task's ${task} MiB`
    )
  }
}

/** The image of the first named container, for before/after reports. */
export function imageOf(
  definition: Pick<TaskDefinition, 'containerDefinitions'>,
  containers: string[]
): string | undefined {
  const defs = definition.containerDefinitions ?? []
  for (const name of containers) {
    const found = defs.find((c) => c.name === name)
    if (found?.image) return found.image
  }
  return undefined
}
