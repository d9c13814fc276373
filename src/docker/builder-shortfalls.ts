import type { BuilderInfo } from './builder-info.js'
import type { CacheChoice } from './cache-plan.js'
import type { LayerCompression } from './buildx-args.js'

/** Something the build was set up to get and this builder cannot give. */
export interface Shortfall {
  wanted: string
  instead: string
}

/** What a builder gives up, and the one setting that gets it back. */
export interface BuilderShortfalls {
  items: Shortfall[]
  remedy: string
}

/**
 * The step that lifts every limit of the classic store. A docker-container
 * builder measured fastest of the runner set-ups on the full fixture
 * (bench/README.md) and changes nothing in the runner's Docker; the
 * containerd store, the other way, costs a dockerd restart under sudo.
 */
export const CLASSIC_STORE_REMEDY =
  'add docker/setup-buildx-action before this step, whose docker-container builder gives all of it (the reusable build workflow does this), or enable the containerd image store: `{"features":{"containerd-snapshotter":true}}` in /etc/docker/daemon.json, then restart Docker'

/**
 * What the docker driver on the classic image store (GitHub's ubuntu-24.04
 * runner default) cannot do of what the inputs ask; undefined when nothing
 * is lost. Cache mounts still work there: they live in the builder.
 */
export function builderShortfalls(
  builder: BuilderInfo,
  wants: { cache: CacheChoice; compression: LayerCompression }
): BuilderShortfalls | undefined {
  if (builder.driver !== 'docker' || builder.containerdStore) return undefined
  const items: Shortfall[] = []
  if (wants.cache !== 'none') {
    items.push({
      wanted:
        wants.cache === 'auto'
          ? 'a mode=max layer cache of every stage (registry or gha)'
          : `the ${wants.cache} layer cache of every stage (mode=max)`,
      instead:
        'the inline cache: only the final stage, read back from the pushed image'
    })
  }
  if (wants.compression === 'zstd') {
    items.push({ wanted: 'zstd layers', instead: 'gzip layers' })
  }
  return items.length ? { items, remedy: CLASSIC_STORE_REMEDY } : undefined
}

/** One line per shortfall, for a warning. */
export function describeShortfalls(shortfalls: BuilderShortfalls): string {
  const lost = shortfalls.items
    .map((s) => `${s.wanted} (got ${s.instead})`)
    .join('; ')
  return `The docker driver on the classic image store cannot give ${lost}. To get it back, ${shortfalls.remedy}.`
}
