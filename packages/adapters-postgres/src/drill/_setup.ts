/**
 * The local drill's world: two regions (`east`, `west`), each a real
 * PostgreSQL server and a real HTTP service on loopback; a witness server
 * holding the lease and the receipt ledger; a loopback traffic router; a
 * write workload through the global endpoint; and the real controller
 * driving real adapters.
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import { type Controller, createController, type EngineEvent } from '@baton/core'
import { createLedger } from '@baton/ledger'
import type pg from 'pg'
import { sleep } from '../_sql.js'
import { createPostgresDatabase, type PostgresDatabase } from '../database.js'
import { createPostgresLease, type PostgresLease } from '../lease.js'
import { openPostgresStore, type PostgresStore } from '../ledger-store.js'
import {
  createClusterRoot,
  createLocalPrimary,
  createLocalStandby,
  freePort,
  type LocalCluster,
} from '../local-cluster.js'
import { createHttpProbe } from './http-probe.js'
import { type LoopbackRouter, startLoopbackRouter } from './loopback-router.js'
import { type RegionService, startRegionService } from './region-service.js'

/** Options every local drill takes. */
export interface LocalDrillOptions {
  /** Synchronous standby (commits wait for the standby): RPO 0. Default true. */
  readonly synchronous?: boolean
  /** Probe interval, ms; default 250. */
  readonly probeIntervalMs?: number
  /** Failed probes in a row that mark a region down; default 3. */
  readonly failureThreshold?: number
  /** Time between workload writes, ms; default 20. */
  readonly writeIntervalMs?: number
  /** Failback gate window per stage, ms; default 1 500. */
  readonly gateWindowMs?: number
  /**
   * Failover drill: cut the standby off its primary (empty `primary_conninfo`,
   * reloaded) this long before the kill while the workload goes on. With an
   * asynchronous standby the primary keeps acknowledging writes the standby
   * never receives (a measured RPO above 0); with a synchronous one commits
   * wait and nothing acknowledged is lost. Default 0 (no stall).
   */
  readonly stallReplicationMs?: number
  /** Progress lines. */
  readonly log?: (line: string) => void
}

/** One acknowledged write of the workload. */
export interface Ack {
  readonly id: number
  readonly at: number
  readonly servedBy: string
  readonly db: string
}

/** The drill's world. */
export interface DrillWorld {
  readonly root: string
  readonly clusters: { east: LocalCluster; west: LocalCluster; readonly witness: LocalCluster }
  readonly database: PostgresDatabase
  readonly lease: PostgresLease
  readonly store: PostgresStore
  readonly router: LoopbackRouter
  readonly services: Record<string, RegionService | undefined>
  readonly controller: Controller
  readonly events: EngineEvent[]
  readonly acks: Ack[]
  readonly failedWrites: { at: number; error: string }[]
  readonly started: number
  /** Starts (again) the service of `region` on its port. */
  startService(region: 'east' | 'west'): Promise<void>
  /** Stops the write workload. */
  stopWorkload(): Promise<void>
  /** Resolves with the first event matching `match`, at most `timeoutMs` from now. */
  waitFor<T extends EngineEvent>(
    match: (e: EngineEvent) => e is T,
    timeoutMs: number,
    what: string,
  ): Promise<T>
  /** Counts `drill_orders` rows on a server. */
  count(cluster: LocalCluster): Promise<number>
  /** How many of `ids` a server holds. */
  present(cluster: LocalCluster, ids: readonly number[]): Promise<number>
  /** Stops everything and removes the files. */
  dispose(): Promise<void>
}

const REGIONS = ['east', 'west'] as const

/** Builds the world and starts the controller (it holds the lease and serves from `east` when this resolves). */
export async function createDrillWorld(options: LocalDrillOptions = {}): Promise<DrillWorld> {
  const log = options.log ?? (() => undefined)
  const synchronous = options.synchronous ?? true
  const root = await createClusterRoot('baton-drill-')
  const stoppers: (() => Promise<void>)[] = []
  const dispose = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined)
    await rm(root, { recursive: true, force: true })
  }
  try {
    log(`creating PostgreSQL servers in ${root}`)
    const witness = await createLocalPrimary({ name: 'witness', root, fsync: false })
    stoppers.push(() => witness.stop('immediate'))
    const east = await createLocalPrimary({ name: 'east', root, fsync: false })
    const clusters = { east, west: east, witness }
    stoppers.push(() => clusters.east.stop('immediate'))
    await east.query(
      'CREATE TABLE drill_orders (id bigserial PRIMARY KEY, served_by text NOT NULL, epoch bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())',
    )
    clusters.west = await createLocalStandby(east, { name: 'west', synchronous })
    stoppers.push(() => clusters.west.stop('immediate'))
    log(
      `east primary :${east.port}, west ${synchronous ? 'synchronous' : 'asynchronous'} standby :${clusters.west.port}, witness :${witness.port}`,
    )

    const database = createPostgresDatabase({
      regions: {
        east: { connectionString: east.url(), applicationName: 'east' },
        west: { connectionString: clusters.west.url(), applicationName: 'west' },
      },
      name: 'postgres:drill',
      callTimeoutMs: 3_000,
      watchIntervalMs: 100,
    })
    stoppers.push(() => database.close())
    await database.fencing.ensure(database.pool('east'))
    const lease = await createPostgresLease({ connectionString: witness.url(), lease: 'drill' })
    stoppers.push(() => lease.close())
    const store = await openPostgresStore({
      connectionString: witness.url(),
      ledger: 'drill',
      create: true,
    })
    stoppers.push(() => store.close())

    let controller: Controller | undefined
    let cached: { at: number; region: string } | undefined
    const primary = async (): Promise<{ region: string; pool: pg.Pool } | undefined> => {
      if (cached === undefined || Date.now() - cached.at > 100) {
        cached = { at: Date.now(), region: await database.primaryRegion({ epoch: 0 }) }
      }
      return { region: cached.region, pool: database.pool(cached.region) }
    }
    const ports: Record<string, number> = { east: await freePort(), west: await freePort() }
    const services: Record<string, RegionService | undefined> = {}
    const startService = async (region: 'east' | 'west'): Promise<void> => {
      services[region] = await startRegionService({
        region,
        port: ports[region]!,
        local: database.pool(region),
        primary,
        fencing: database.fencing,
        epoch: () => controller?.lease?.epoch,
      })
    }
    for (const r of REGIONS) await startService(r)
    stoppers.push(async () => {
      for (const r of REGIONS) await services[r]?.kill()
    })
    const router = await startLoopbackRouter({
      backends: { east: services.east!.url, west: services.west!.url },
      weights: { east: 100, west: 0 },
    })
    stoppers.push(() => router.close())

    const events: EngineEvent[] = []
    const waiters = new Set<() => void>()
    controller = createController({
      instance: 'drill-1',
      topology: {
        home: 'east',
        regions: [
          { id: 'east', jurisdiction: 'EU' },
          { id: 'west', jurisdiction: 'EU' },
        ],
        databasePrimary: 'east',
      },
      ports: {
        probes: REGIONS.map((r) => createHttpProbe(r, `http://127.0.0.1:${ports[r]}`, 1_000)),
        globalProbe: createHttpProbe('global', router.url, 1_000),
        router,
        database,
        lease,
      },
      ledger: createLedger({ store }),
      probeIntervalMs: options.probeIntervalMs ?? 250,
      health: {
        detectors: {
          consecutiveFailures: { threshold: options.failureThreshold ?? 3, status: 'down' },
          errorRate: false,
          availability: false,
          replicationLag: false,
        },
        recoverAfter: 2,
      },
      guards: { cooldownMs: 1_000, rpoMs: 60_000 },
      lease: { ttlMs: 5_000, renewEveryMs: 1_000 },
      targets: { rtoMs: 30_000, rpoMs: synchronous ? 0 : 5_000 },
      failover: { verifyEndpoint: { times: 2, intervalMs: 100, maxChecks: 100 } },
      failback: {
        stages: [10, 50, 100],
        gate: {
          windowMs: options.gateWindowMs ?? 1_500,
          intervalMs: 250,
          maxErrorRate: 0.01,
          maxLatencyMs: 1_000,
        },
      },
    })
    controller.onAny((e: EngineEvent) => {
      if (e.type === 'probe.sampled') return
      events.push(e)
      for (const w of waiters) w()
    })
    await controller.start()
    stoppers.push(() => controller!.stop())
    for (let i = 0; i < 200 && controller.lease === undefined; i++) await sleep(25)
    if (controller.lease === undefined)
      throw new Error('the controller did not acquire the lease within 5 s')
    log(
      `controller holds the lease (epoch ${controller.lease.epoch}); state ${controller.state.name}`,
    )

    const acks: Ack[] = []
    const failedWrites: { at: number; error: string }[] = []
    let writing = true
    const workload = (async () => {
      while (writing) {
        try {
          const res = await fetch(`${router.url}/orders`, {
            method: 'POST',
            signal: AbortSignal.timeout(5_000),
          })
          const body = (await res.json()) as {
            id?: number
            region?: string
            db?: string
            error?: string
          }
          if (res.status === 201 && typeof body.id === 'number') {
            acks.push({
              id: body.id,
              at: Date.now(),
              servedBy: body.region ?? '?',
              db: body.db ?? '?',
            })
          } else failedWrites.push({ at: Date.now(), error: body.error ?? `HTTP ${res.status}` })
        } catch (error) {
          failedWrites.push({ at: Date.now(), error: (error as Error).message })
        }
        await sleep(options.writeIntervalMs ?? 20)
      }
    })()
    const stopWorkload = async (): Promise<void> => {
      writing = false
      await workload
    }
    stoppers.push(stopWorkload)

    return {
      root,
      clusters,
      database,
      lease,
      store,
      router,
      services,
      controller,
      events,
      acks,
      failedWrites,
      started: Date.now(),
      startService,
      stopWorkload,
      waitFor<T extends EngineEvent>(
        match: (e: EngineEvent) => e is T,
        timeoutMs: number,
        what: string,
      ) {
        return new Promise<T>((resolve, reject) => {
          const check = (): void => {
            const found = events.find(match)
            if (found !== undefined) {
              clearTimeout(timer)
              waiters.delete(check)
              resolve(found)
            }
          }
          const timer = setTimeout(() => {
            waiters.delete(check)
            const failed = events.filter(
              (e) => e.type === 'plan.step.failed' || e.type === 'failover.blocked',
            )
            reject(
              new Error(
                `${what} did not happen within ${timeoutMs} ms; state ${controller!.state.name}; ${JSON.stringify(failed).slice(0, 1500)}`,
              ),
            )
          }, timeoutMs)
          waiters.add(check)
          check()
        })
      },
      count: async (cluster) =>
        (await cluster.query<{ n: number }>('SELECT count(*)::int AS n FROM drill_orders'))[0]!.n,
      present: async (cluster, ids) =>
        (
          await cluster.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM drill_orders WHERE id = ANY($1::bigint[])',
            [ids],
          )
        )[0]!.n,
      dispose,
    }
  } catch (error) {
    await dispose()
    throw error
  }
}
