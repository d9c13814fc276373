/** Following a run's updated services: one watch per Region, all at once. */
import type { ECSClient, Service } from '@aws-sdk/client-ecs'
import { groupBy } from './flavor-plan.js'
import type { WatchResult, WatchTarget } from './types.js'

/** The deployment an UpdateService started (the PRIMARY one). */
export function primaryDeploymentId(
  service: Service | undefined
): string | undefined {
  return service?.deployments?.find((d) => d.status === 'PRIMARY')?.id
}

/** Watches each Region's targets together; an error of one Region fails its own flavors only. */
export async function watchByRegion<O extends { region: string }>(
  items: { outcome: O; target: WatchTarget }[],
  deps: {
    ecsFor: (region: string) => ECSClient
    watch: (targets: WatchTarget[], ecs: ECSClient) => Promise<WatchResult[]>
  }
): Promise<Map<O, WatchResult | Error>> {
  const results = new Map<O, WatchResult | Error>()
  const byRegion = groupBy(items, (i) => i.outcome.region)
  await Promise.all(
    [...byRegion.entries()].map(async ([region, group]) => {
      try {
        const watched = await deps.watch(
          group.map((g) => g.target),
          deps.ecsFor(region)
        )
        group.forEach((g, i) => results.set(g.outcome, watched[i]))
      } catch (error) {
        for (const g of group) results.set(g.outcome, error as Error)
      }
    })
  )
  return results
}
