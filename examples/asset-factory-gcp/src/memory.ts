/**
 * In-memory Asset Factory on the drill's simulated world: jobs enter
 * through the region the global endpoint routes to, are picked up by an
 * engine worker only where workers are ready and the Firestore primary is
 * (workers connect to the primary in their region), and take `jobMs` on
 * the virtual clock. Bucket checks take `storageCheckMs` (people clicking
 * through asset URLs, per the runbook) and fail while the region is down.
 *
 * @module
 */
import type { CallContext, RegionId, SimulatedWorld } from '@baton/core'
import type { AssetStorage, JobApi, JobStatus } from './ports.ts'

/** Options of {@link createMemoryAssetFactory}. */
export interface MemoryAssetFactoryOptions {
  /** The drill's simulated world: its clock, region health and ground truth. */
  readonly world: SimulatedWorld
  /** Time a job takes once a worker picked it up. Default 15 min. */
  readonly jobMs?: number
  /** Time a bucket and asset-URL check takes. Default 10 min. */
  readonly storageCheckMs?: number
}

interface Job {
  /** The job's id. */
  readonly id: string
  readonly createdAt: number
  readonly region: RegionId | undefined
  readonly worker: RegionId | undefined
}

function servingRegion(world: SimulatedWorld): RegionId | undefined {
  let best: RegionId | undefined
  let max = 0
  for (const [region, w] of Object.entries(world.truth.weights().effective)) {
    if (w > max) {
      max = w
      best = region
    }
  }
  return best
}

/** The Asset Factory's storage and job API over a simulated world. */
export function createMemoryAssetFactory(options: MemoryAssetFactoryOptions): {
  /** The asset buckets (runbook step 4). */
  readonly storage: AssetStorage
  /** The public job API (runbook step 5). */
  readonly jobs: JobApi
  /** Every job created, for tests. */
  readonly created: () => readonly Job[]
} {
  const { world } = options
  const jobMs = options.jobMs ?? 15 * 60_000
  const storageCheckMs = options.storageCheckMs ?? 10 * 60_000
  const jobs = new Map<string, Job>()
  let n = 0
  const up = (region: RegionId | undefined): boolean =>
    region !== undefined && world.truth.regionHealth(region).up

  const storage: AssetStorage = {
    name: 'memory:gcs',
    async check(region: RegionId, ctx: CallContext) {
      await world.clock.sleep(storageCheckMs, ctx.signal)
      const ok = up(region)
      return { region, read: ok, write: ok, urlsChecked: 3, urlsOk: ok ? 3 : 0 }
    },
  }
  const api: JobApi = {
    name: 'memory:job-api',
    async createJob() {
      const region = servingRegion(world)
      if (!up(region)) throw new Error(`UNAVAILABLE: the API in ${region ?? '(no region)'} is down`)
      // Workers in the region pick it up if they are ready and the Firestore primary is there.
      const workers = world.truth.capacity(region!).ready > 0
      const primaryHere = world.truth.primary() === region
      const id = `job-${++n}`
      jobs.set(id, {
        id,
        createdAt: world.clock.now(),
        region,
        worker: workers && primaryHere ? region : undefined,
      })
      return id
    },
    async job(id: string): Promise<JobStatus> {
      const job = jobs.get(id)
      if (job === undefined) return { id, status: 'failed', error: 'NOT_FOUND' }
      if (job.worker === undefined) return { id, status: 'queued' }
      if (world.clock.now() - job.createdAt < jobMs) {
        return { id, status: 'running', workerRegion: job.worker }
      }
      return {
        id,
        status: 'complete',
        workerRegion: job.worker,
        manifestUrl: `https://cdn.example/assets/${id}/manifest.json`,
        assetUrl: `https://cdn.example/assets/${id}/asset.glb`,
      }
    },
    async fetch(url: string) {
      const id = /assets\/(job-\d+)\//.exec(url)?.[1]
      return id !== undefined && jobs.has(id) && up(servingRegion(world))
    },
  }
  return { storage, jobs: api, created: () => [...jobs.values()] }
}
