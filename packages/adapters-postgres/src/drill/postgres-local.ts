/**
 * `baton drill postgres-local`: a real failover, end to end, on this
 * machine. Two regions, each a real PostgreSQL server and a real HTTP
 * service; the primary region is killed hard (SIGKILL of its postmaster,
 * its service's sockets destroyed) while a workload writes through the
 * global endpoint; baton detects, decides, promotes the standby, verifies
 * writes, shifts traffic and records receipts; the drill measures detection
 * time, RTO and RPO (acknowledged rows lost), then rebuilds the old primary
 * as a standby of the new one and fails traffic back 10 → 50 → 100 % behind
 * health gates. The switchover drill moves the primary on purpose with zero
 * data loss, checked by row counts in both servers.
 *
 * @module
 */
import { type EngineEvent, type EngineEventOf, replay, type Weights } from '@baton/core'
import { decodeReceipt, type Receipt, verify } from '@baton/ledger'
import { parseLsn, sleep } from '../_sql.js'
import { rebuildAsStandby } from '../local-cluster.js'
import { createDrillWorld, type DrillWorld, type LocalDrillOptions } from './_setup.js'

/** One check of a drill. */
export interface DrillCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** What a local drill measured. */
export interface LocalDrillReport {
  readonly scenario: 'failover' | 'switchover'
  readonly synchronous: boolean
  /** Every check held. */
  readonly passed: boolean
  readonly checks: readonly DrillCheck[]
  /** Kill → the controller marked the region down, ms (failover). */
  readonly detectionMs?: number
  /** Kill (or request) → first write acknowledged through the global endpoint by the new primary, ms. */
  readonly rtoMs?: number
  /** The RTO the controller recorded in `failover.completed`, ms. */
  readonly recordedRtoMs?: number
  /** The RPO the controller recorded in `failover.completed` (its lag estimate), ms. */
  readonly recordedRpoMs?: number
  /** How long replication was cut off before the kill (see `stallReplicationMs`), ms. */
  readonly stalledReplicationMs?: number
  /** Acknowledged writes and how many of them the new primary lacks (RPO in rows). */
  readonly rpo: { readonly acknowledged: number; readonly lostRows: number }
  /** Rows in each server at the end. */
  readonly rows: Readonly<Record<string, number>>
  /** Writes refused or failed during the drill (the outage as clients saw it). */
  readonly failedWrites: number
  /** Failback (failover drill): east's traffic share at each router change, and how long it took. */
  readonly failback?: { readonly stages: readonly number[]; readonly durationMs: number }
  /** The receipt ledger (on the witness server). */
  readonly ledger: {
    readonly receipts: number
    readonly status: string
    readonly replayProblems: number
    readonly types: Readonly<Record<string, number>>
  }
  /** Milestones, ms from the start of the drill. */
  readonly timeline: readonly { readonly atMs: number; readonly what: string }[]
}

const isType =
  <T extends EngineEvent['type']>(type: T, extra?: (e: EngineEventOf<T>) => boolean) =>
  (e: EngineEvent): e is EngineEventOf<T> =>
    e.type === type && (extra === undefined || extra(e as EngineEventOf<T>))

async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`)
    await sleep(50)
  }
}

/** Waits until `standby` has replayed everything `primary` has written. */
async function caughtUp(
  world: DrillWorld,
  primary: 'east' | 'west',
  standby: 'east' | 'west',
): Promise<void> {
  const p = world.clusters[primary]
  const s = world.clusters[standby]
  const target = parseLsn(
    (await p.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l'))[0]!.l,
  )!
  await waitUntil(
    async () =>
      (parseLsn(
        (await s.query<{ l: string }>('SELECT pg_last_wal_replay_lsn()::text AS l'))[0]!.l,
      ) ?? 0n) >= target,
    30_000,
    `${standby} did not replay ${primary}'s last LSN`,
  )
}

async function ledgerSummary(world: DrillWorld): Promise<LocalDrillReport['ledger']> {
  const result = await verify(world.store)
  const receipts: Receipt[] = []
  for await (const line of world.store.read()) receipts.push(decodeReceipt(line.bytes))
  const types: Record<string, number> = {}
  for (const r of receipts) types[r.type] = (types[r.type] ?? 0) + 1
  const replayed = await replay(receipts, { home: 'east' })
  return {
    receipts: receipts.length,
    status: result.status,
    replayProblems: replayed.problems.length,
    types,
  }
}

function finish(
  report: Omit<LocalDrillReport, 'passed' | 'checks'>,
  checks: DrillCheck[],
): LocalDrillReport {
  return { ...report, passed: checks.every((c) => c.ok), checks }
}

/**
 * The failover drill: kill the primary region hard, let baton fail over,
 * measure, then fail back through gated stages.
 */
export async function runPostgresFailoverDrill(
  options: LocalDrillOptions = {},
): Promise<LocalDrillReport> {
  const log = options.log ?? (() => undefined)
  const synchronous = options.synchronous ?? true
  const world = await createDrillWorld(options)
  const t0 = world.started
  const timeline: { atMs: number; what: string }[] = []
  const mark = (what: string, at = Date.now()): void => {
    timeline.push({ atMs: at - t0, what })
    log(`+${((at - t0) / 1000).toFixed(3)}s ${what}`)
  }
  try {
    await waitUntil(
      async () => world.acks.length >= 100,
      30_000,
      'the workload did not get 100 writes acknowledged',
    )
    mark(`workload running: ${world.acks.length} writes acknowledged by east`)

    const stall = options.stallReplicationMs ?? 0
    if (stall > 0) {
      await world.clusters.west.query("ALTER SYSTEM SET primary_conninfo = ''")
      await world.clusters.west.query('SELECT pg_reload_conf()')
      await waitUntil(
        async () =>
          (
            await world.clusters.east.query(
              "SELECT 1 FROM pg_stat_replication WHERE application_name = 'west'",
            )
          ).length === 0,
        10_000,
        'west did not disconnect from east',
      )
      const acked = world.acks.length
      await sleep(stall)
      mark(
        `replication to west stalled for ${stall} ms; ${world.acks.length - acked} writes acknowledged meanwhile`,
      )
    }
    const killedAt = Date.now()
    await world.clusters.east.stop('kill')
    await world.services.east?.kill()
    world.services.east = undefined
    mark('east killed: PostgreSQL SIGKILLed, service sockets destroyed', killedAt)

    const down = await world.waitFor(
      isType('health.degraded', (e) => e.region === 'east' && e.status === 'down'),
      30_000,
      'detection of east down',
    )
    const detectedAt = down.at
    mark('baton marked east down', detectedAt)
    const completed = await world.waitFor(
      isType('failover.completed'),
      60_000,
      'failover.completed',
    )
    mark(`failover completed (recorded RTO ${completed.rto.measuredMs} ms)`, completed.at)
    await waitUntil(
      async () => world.acks.some((a) => a.at > killedAt && a.db === 'west'),
      30_000,
      'no write was acknowledged by west',
    )
    const firstWrite = world.acks.find((a) => a.at > killedAt && a.db === 'west')!
    mark(
      `first write acknowledged through the global endpoint by ${firstWrite.servedBy} on the west primary`,
      firstWrite.at,
    )

    const ackedBefore = world.acks.filter((a) => a.db === 'east').map((a) => a.id)
    const presentInWest = await world.present(world.clusters.west, ackedBefore)
    const lostRows = ackedBefore.length - presentInWest
    mark(`RPO: ${lostRows} of ${ackedBefore.length} rows acknowledged by east missing on west`)

    // Failback: the old primary becomes a standby of the new one, then traffic returns in gated stages.
    world.clusters.east = await rebuildAsStandby(world.clusters.east, world.clusters.west, {
      synchronous,
    })
    await world.startService('east')
    mark('east rebuilt as a streaming standby of west; its service restarted')
    await waitUntil(
      async () =>
        world.events.some(
          (e) => e.type === 'health.recovered' && e.region === 'east' && e.at > killedAt,
        ),
      30_000,
      'east did not recover',
    )
    const failbackStart = Date.now()
    await world.controller.requestFailback('drill')
    const back = await world.waitFor(isType('failback.completed'), 90_000, 'failback.completed')
    mark(`failback completed in ${back.durationMs} ms`, back.at)
    const stages = world.router.history
      .filter((h) => h.at >= failbackStart)
      .map((h: { weights: Weights }) => {
        const e = h.weights.east ?? 0
        const w = h.weights.west ?? 0
        return e + w === 0 ? 0 : Math.round((100 * e) / (e + w))
      })
    await sleep(300)
    await world.stopWorkload()
    await world.controller.stop()
    await caughtUp(world, 'west', 'east')
    const allAcked = world.acks.map((a) => a.id)
    const rows = {
      east: await world.count(world.clusters.east),
      west: await world.count(world.clusters.west),
    }
    const allPresent = await world.present(world.clusters.west, allAcked)
    const ledger = await ledgerSummary(world)
    const servedAfter = world.acks.filter((a) => a.at > back.at)
    const rtoMs = firstWrite.at - killedAt
    const checks: DrillCheck[] = [
      {
        name: 'east detected down',
        ok: detectedAt > killedAt,
        detail: `${detectedAt - killedAt} ms after the kill`,
      },
      {
        name: 'west promoted and serving writes',
        ok: firstWrite.db === 'west',
        detail: `first write ${rtoMs} ms after the kill`,
      },
      {
        name: synchronous
          ? 'no acknowledged row lost (synchronous standby)'
          : 'acknowledged rows lost measured (asynchronous standby)',
        ok: synchronous ? lostRows === 0 : lostRows >= 0,
        detail: `${lostRows} of ${ackedBefore.length}`,
      },
      {
        name: 'every acknowledged write is on the primary at the end',
        ok: allPresent === allAcked.length - (synchronous ? 0 : lostRows),
        detail: `${allPresent} of ${allAcked.length}`,
      },
      {
        name: 'failback went 10 → 50 → 100 %',
        ok: JSON.stringify(stages) === '[10,50,100]',
        detail: stages.join(' → '),
      },
      {
        name: 'east serves traffic again after failback',
        ok: servedAfter.length === 0 || servedAfter.every((a) => a.servedBy === 'east'),
        detail: `${servedAfter.length} writes after failback`,
      },
      {
        name: 'both servers hold the same rows',
        ok: rows.east === rows.west,
        detail: `east ${rows.east}, west ${rows.west}`,
      },
      {
        name: 'the ledger verifies',
        ok: ledger.status === 'VERIFIED',
        detail: `${ledger.receipts} receipts, ${ledger.status}`,
      },
      {
        name: 'the ledger replays through the machine',
        ok: ledger.replayProblems === 0,
        detail: `${ledger.replayProblems} problems`,
      },
    ]
    return finish(
      {
        scenario: 'failover',
        synchronous,
        detectionMs: detectedAt - killedAt,
        rtoMs,
        ...(completed.rto.measuredMs === null ? {} : { recordedRtoMs: completed.rto.measuredMs }),
        ...(completed.rpo.measuredMs === null ? {} : { recordedRpoMs: completed.rpo.measuredMs }),
        ...(stall > 0 ? { stalledReplicationMs: stall } : {}),
        rpo: { acknowledged: ackedBefore.length, lostRows },
        rows,
        failedWrites: world.failedWrites.length,
        failback: { stages, durationMs: back.durationMs },
        ledger,
        timeline,
      },
      checks,
    )
  } finally {
    await world.dispose()
  }
}

/**
 * The planned switchover drill: move the primary from east to west on
 * purpose while the workload writes; zero data loss, checked by row counts
 * in both servers.
 */
export async function runPostgresSwitchoverDrill(
  options: LocalDrillOptions = {},
): Promise<LocalDrillReport> {
  const log = options.log ?? (() => undefined)
  const synchronous = options.synchronous ?? false
  const world = await createDrillWorld({ ...options, synchronous })
  const t0 = world.started
  const timeline: { atMs: number; what: string }[] = []
  const mark = (what: string, at = Date.now()): void => {
    timeline.push({ atMs: at - t0, what })
    log(`+${((at - t0) / 1000).toFixed(3)}s ${what}`)
  }
  try {
    await waitUntil(
      async () => world.acks.length >= 100,
      30_000,
      'the workload did not get 100 writes acknowledged',
    )
    mark(`workload running: ${world.acks.length} writes acknowledged by east`)
    const requestedAt = Date.now()
    const result = await world.controller.requestFailover({
      kind: 'planned-maintenance',
      target: 'west',
      requestedBy: 'drill',
      reason: 'planned switchover drill',
    })
    mark(`switchover requested: ${result.status}`, requestedAt)
    if (result.status === 'awaiting-approval') {
      await world.controller.approve(result.id, 'drill-approver')
      mark('approved')
    }
    const completed = await world.waitFor(
      isType('failover.completed'),
      60_000,
      'failover.completed',
    )
    mark('switchover completed', completed.at)
    await waitUntil(
      async () => world.acks.some((a) => a.at > completed.at && a.db === 'west'),
      30_000,
      'no write was acknowledged by west',
    )
    const firstWrite = world.acks.find((a) => a.db === 'west')!
    await sleep(300)
    await world.stopWorkload()
    await world.controller.stop()
    const allAcked = world.acks.map((a) => a.id)
    const ackedEast = world.acks.filter((a) => a.db === 'east').map((a) => a.id)
    const rows = {
      east: await world.count(world.clusters.east),
      west: await world.count(world.clusters.west),
    }
    const eastRowsOnWest = await world.present(world.clusters.west, ackedEast)
    const allPresent = await world.present(world.clusters.west, allAcked)
    const eastMax = (
      await world.clusters.east.query<{ m: string | null }>(
        'SELECT max(id)::text AS m FROM drill_orders',
      )
    )[0]!.m
    const westAtEastMax = (
      await world.clusters.west.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM drill_orders WHERE id <= $1',
        [eastMax ?? 0],
      )
    )[0]!.n
    const ledger = await ledgerSummary(world)
    const checks: DrillCheck[] = [
      {
        name: 'the primary moved to west',
        ok: (await world.database.primaryRegion({ epoch: 0 })) === 'west',
        detail: 'pg_is_in_recovery() on west is false',
      },
      {
        name: 'no row acknowledged by east is missing on west',
        ok: eastRowsOnWest === ackedEast.length,
        detail: `${eastRowsOnWest} of ${ackedEast.length}`,
      },
      {
        name: 'west holds every row east committed (row counts)',
        ok: westAtEastMax === rows.east,
        detail: `east ${rows.east}, west ${westAtEastMax} up to east's last id`,
      },
      {
        name: 'every acknowledged write is on west',
        ok: allPresent === allAcked.length,
        detail: `${allPresent} of ${allAcked.length}`,
      },
      {
        name: 'east refuses writes after the switchover',
        ok: await world.clusters.east
          .query("INSERT INTO drill_orders (served_by, epoch) VALUES ('late', 0)")
          .then(
            () => false,
            (e: Error) => /read-only/.test(e.message),
          ),
        detail: 'default_transaction_read_only',
      },
      {
        name: 'the ledger verifies',
        ok: ledger.status === 'VERIFIED',
        detail: `${ledger.receipts} receipts, ${ledger.status}`,
      },
      {
        name: 'the ledger replays through the machine',
        ok: ledger.replayProblems === 0,
        detail: `${ledger.replayProblems} problems`,
      },
    ]
    return finish(
      {
        scenario: 'switchover',
        synchronous,
        rtoMs: firstWrite.at - requestedAt,
        ...(completed.rto.measuredMs === null ? {} : { recordedRtoMs: completed.rto.measuredMs }),
        rpo: { acknowledged: ackedEast.length, lostRows: ackedEast.length - eastRowsOnWest },
        rows,
        failedWrites: world.failedWrites.length,
        ledger,
        timeline,
      },
      checks,
    )
  } finally {
    await world.dispose()
  }
}
