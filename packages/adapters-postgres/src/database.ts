/**
 * The {@link Database} port on PostgreSQL streaming replication: one
 * server per region, the primary found by `pg_is_in_recovery()`.
 *
 * - **lag**: bytes from the primary's `pg_current_wal_lsn()` minus the
 *   standby's `pg_last_wal_replay_lsn()`; time from `pg_stat_replication.replay_lag`
 *   on the primary, else from `pg_last_xact_replay_timestamp()` on the standby.
 * - **graceful promotion** (switchover, zero data loss): the old primary is made
 *   read-only (`default_transaction_read_only`, reloaded) and its client
 *   sessions ended, its last LSN read, the standby waited on until it has
 *   replayed that LSN, then `pg_promote()`.
 * - **ungraceful promotion** (failover): `pg_promote()` at once.
 * - **fencing**: promotions raise the fence row ({@link createFencing}) on the
 *   new primary to the caller's epoch, and refuse a call whose epoch is older
 *   than one seen; `fence(region)` makes a reachable old primary read-only
 *   (and, with `stop`, stops it).
 *
 * @module
 */
import type { CallContext, Database, Promotion, RegionId, ReplicationLag } from '@baton/core'
import { FencedError } from '@baton/core'
import { type BatonError, isBatonError } from '@baton/ledger'
import type pg from 'pg'
import {
  bounded,
  type ConnectionOptions,
  identifier,
  messageOf,
  parseLsn,
  poolFrom,
  positive,
  sleep,
  throwIfAborted,
} from './_sql.js'
import { PostgresConfigError, PostgresError } from './errors.js'
import { createFencing, type Fencing, type FencingOptions } from './fencing.js'

/** One region's server. */
export interface PostgresRegionOptions extends ConnectionOptions {
  /** The server's `application_name` as a standby (in `pg_stat_replication`); default the region id. */
  readonly applicationName?: string
  /** Stops the server when it is fenced (e.g. `pg_ctl stop`); default: read-only only. */
  readonly stop?: () => Promise<void>
}

/** Options of {@link createPostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** The servers by region; at least two. */
  readonly regions: Readonly<Record<RegionId, PostgresRegionOptions>>
  /** The database's name for receipts; default `postgres:<regions>`. */
  readonly name?: string
  /** Table of `verifyWrites` probe rows; default `baton_write_probe`. */
  readonly probeTable?: string
  /** The fence row promotions raise (see {@link createFencing}). */
  readonly fencing?: FencingOptions
  /** Time limit of each query, ms; default 5 000. */
  readonly callTimeoutMs?: number
  /** Time limit for a standby to replay the old primary's last LSN in a graceful promotion, ms; default 60 000. */
  readonly catchUpTimeoutMs?: number
  /** Clock for `measuredAt` / `promotedAt`; default `Date.now`. */
  readonly now?: () => number
  /**
   * Watch replication in the background every this many ms (default: off).
   * Each round reads the primary's WAL position and each standby's replay
   * position, so that when the primary becomes unreachable `replicationLag`
   * can still estimate what the standby lacks: the time between the last
   * primary position the standby is known to have replayed and the last time
   * the primary answered (writes acknowledged after that are not counted).
   */
  readonly watchIntervalMs?: number
}

/** A {@link Database} over PostgreSQL servers. */
export interface PostgresDatabase extends Database {
  /** The fencing check promotions raise; hosts use it for their own writes. */
  readonly fencing: Fencing
  /** The pool of a region's server. */
  pool(region: RegionId): pg.Pool
  /** Ends the pools it built. */
  close(): Promise<void>
}

interface Server {
  readonly region: RegionId
  readonly pool: pg.Pool
  readonly owned: boolean
  readonly applicationName: string
  readonly stop?: () => Promise<void>
}

/**
 * A {@link Database} over one PostgreSQL server per region.
 *
 * @throws {@link PostgresConfigError} naming a bad option, e.g. `regions.eu.connectionString`.
 */
export function createPostgresDatabase(options: PostgresDatabaseOptions): PostgresDatabase {
  if (typeof options !== 'object' || options === null)
    throw new PostgresConfigError('options', 'must be an object')
  if (typeof options.regions !== 'object' || options.regions === null) {
    throw new PostgresConfigError('regions', 'must be an object of region → connection options')
  }
  const ids = Object.keys(options.regions)
  if (ids.length < 2) throw new PostgresConfigError('regions', 'needs at least two regions')
  const callTimeout =
    options.callTimeoutMs === undefined ? 5_000 : positive(options.callTimeoutMs, 'callTimeoutMs')
  const catchUp =
    options.catchUpTimeoutMs === undefined
      ? 60_000
      : positive(options.catchUpTimeoutMs, 'catchUpTimeoutMs')
  const now = options.now ?? Date.now
  const fencing = createFencing(options.fencing)
  const probeTable = identifier(options.probeTable ?? 'baton_write_probe', 'probeTable')
  const servers = new Map<RegionId, Server>()
  for (const id of ids) {
    const r = options.regions[id]!
    if (typeof r !== 'object' || r === null)
      throw new PostgresConfigError(`regions.${id}`, 'must be an object')
    const { pool, owned } = poolFrom(
      { connectTimeoutMs: Math.min(callTimeout, 5_000), maxConnections: 3, ...r },
      `regions.${id}.`,
    )
    servers.set(id, {
      region: id,
      pool,
      owned,
      applicationName: r.applicationName ?? id,
      ...(r.stop === undefined ? {} : { stop: r.stop }),
    })
  }
  const name = options.name ?? `postgres:${ids.join(',')}`
  let seenEpoch = Number.NEGATIVE_INFINITY
  let knownPrimary: RegionId | undefined
  /** Watched primary positions (time, LSN), oldest first, and when the primary last answered. */
  const watched: { at: number; lsn: bigint }[] = []
  let primaryLastSeen: { at: number; lsn: bigint } | undefined
  const watchEvery =
    options.watchIntervalMs === undefined
      ? undefined
      : positive(options.watchIntervalMs, 'watchIntervalMs')

  const server = (region: RegionId): Server => {
    const s = servers.get(region)
    if (s === undefined)
      throw new PostgresConfigError(
        'region',
        `unknown region ${JSON.stringify(region)}; known: ${ids.join(', ')}`,
      )
    return s
  }
  const fail = (what: string, error: unknown): BatonError =>
    error instanceof PostgresError || isBatonError(error, 'ABORTED', 'FENCED')
      ? (error as BatonError)
      : new PostgresError('ADAPTER', `${name}: ${what}: ${messageOf(error)}`, { cause: error })
  const q = async <R extends Record<string, unknown>>(
    s: Server,
    sql: string,
    params: readonly unknown[],
    ctx: CallContext,
    what: string,
  ): Promise<R[]> =>
    (
      await bounded(
        s.pool.query<R>(sql, params as unknown[]),
        callTimeout,
        `${name}: ${what} in ${s.region}`,
        ctx.signal,
      )
    ).rows
  const checkEpoch = (ctx: CallContext, what: string): void => {
    throwIfAborted(ctx.signal, `${name}: ${what}`)
    if (ctx.epoch < seenEpoch) throw new FencedError(ctx.epoch, seenEpoch, `${name}: ${what}`)
    seenEpoch = Math.max(seenEpoch, ctx.epoch)
  }
  const inRecovery = async (s: Server, ctx: CallContext): Promise<boolean> =>
    (
      await q<{ r: boolean }>(s, 'SELECT pg_is_in_recovery() AS r', [], ctx, 'pg_is_in_recovery')
    )[0]!.r
  /** Regions whose servers answer and are not in recovery. */
  const primaries = async (ctx: CallContext): Promise<RegionId[]> => {
    const states = await Promise.all(
      ids.map((id) =>
        inRecovery(server(id), ctx).then(
          (r) => (r ? undefined : id),
          () => undefined,
        ),
      ),
    )
    return states.filter((id): id is RegionId => id !== undefined)
  }
  const primaryRegion = async (ctx: CallContext): Promise<RegionId> => {
    throwIfAborted(ctx.signal, `${name}: primaryRegion`)
    const found = await primaries(ctx)
    if (found.length === 1) knownPrimary = found[0]
    else if (found.length > 1 && (knownPrimary === undefined || !found.includes(knownPrimary)))
      knownPrimary = found[0]
    if (knownPrimary === undefined)
      throw new PostgresError('ADAPTER', `${name}: no region answers as a primary`)
    return knownPrimary
  }
  const makeReadOnly = async (s: Server, ctx: CallContext): Promise<void> => {
    await q(s, 'ALTER SYSTEM SET default_transaction_read_only = on', [], ctx, 'read-only')
    await q(s, 'SELECT pg_reload_conf()', [], ctx, 'reload')
    // Sessions reload at their next command; end them so that no open transaction commits later.
    await q(
      s,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      [],
      ctx,
      'end sessions',
    )
  }
  const lsnOf = async (s: Server, sql: string, ctx: CallContext, what: string): Promise<bigint> => {
    const text = (await q<{ lsn: string | null }>(s, sql, [], ctx, what))[0]?.lsn
    const lsn = parseLsn(text)
    if (lsn === undefined)
      throw new PostgresError(
        'ADAPTER',
        `${name}: ${what} in ${s.region}: no LSN (${String(text)})`,
      )
    return lsn
  }

  let watching = false
  const watchRound = async (): Promise<void> => {
    if (watching) return
    watching = true
    try {
      const ctx = { epoch: 0 }
      const region = knownPrimary ?? (await primaries(ctx))[0]
      if (region === undefined) return
      const at = now()
      const lsn = await lsnOf(
        server(region),
        'SELECT pg_current_wal_lsn()::text AS lsn',
        ctx,
        'watch',
      ).catch(() => undefined)
      if (lsn === undefined) return
      primaryLastSeen = { at, lsn }
      if (watched.at(-1)?.lsn !== lsn) watched.push({ at, lsn })
      // Keep what a standby might still be behind: drop positions every standby has replayed, keep 1 000 at most.
      const replays = await Promise.all(
        ids
          .filter((id) => id !== region)
          .map((id) =>
            lsnOf(server(id), 'SELECT pg_last_wal_replay_lsn()::text AS lsn', ctx, 'watch').catch(
              () => 0n,
            ),
          ),
      )
      let slowest = lsn
      for (const r of replays) if (r < slowest) slowest = r
      while (watched.length > 1 && watched[1]!.lsn <= slowest) watched.shift()
      if (watched.length > 1_000) watched.splice(0, watched.length - 1_000)
    } catch {
      // The primary or a standby did not answer: keep what was seen.
    } finally {
      watching = false
    }
  }
  const watchTimer =
    watchEvery === undefined ? undefined : setInterval(() => void watchRound(), watchEvery)
  watchTimer?.unref()

  return {
    name,
    fencing,
    pool: (region) => server(region).pool,
    primaryRegion,

    async replicationLag(region, ctx): Promise<ReplicationLag> {
      throwIfAborted(ctx.signal, `${name}: replicationLag`)
      const s = server(region)
      try {
        const rows = await q<{
          r: boolean
          replay: string | null
          receive: string | null
          replay_ms: number | null
          now_ms: number
        }>(
          s,
          `SELECT pg_is_in_recovery() AS r, pg_last_wal_replay_lsn()::text AS replay, pg_last_wal_receive_lsn()::text AS receive,
                  (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::float8 AS replay_ms,
                  (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms`,
          [],
          ctx,
          'replay position',
        )
        const row = rows[0]!
        if (!row.r) return { region, lagMs: 0, lagBytes: 0, measuredAt: now() }
        const replay = parseLsn(row.replay) ?? 0n
        const sinceReplay = row.replay_ms === null ? 0 : Math.max(0, row.now_ms - row.replay_ms)
        const from = knownPrimary ?? (await primaries(ctx))[0]
        const source = from !== undefined && from !== region ? server(from) : undefined
        const primary =
          source === undefined
            ? undefined
            : await primaryPosition(source, s.applicationName, ctx).catch(() => undefined)
        if (primary === undefined) {
          const received = parseLsn(row.receive) ?? replay
          if (primaryLastSeen !== undefined && watched.length > 0) {
            // Watched: the last primary position the standby has replayed, against the last one seen.
            let caughtUpAt: number | undefined
            for (const w of watched) if (w.lsn <= replay) caughtUpAt = w.at
            const bytes = primaryLastSeen.lsn > replay ? Number(primaryLastSeen.lsn - replay) : 0
            const lagMs = bytes === 0 ? 0 : primaryLastSeen.at - (caughtUpAt ?? watched[0]!.at)
            return { region, lagMs: Math.max(0, lagMs), lagBytes: bytes, measuredAt: now() }
          }
          // Not watched: only what the standby received but has not replayed is known.
          const bytes = received > replay ? Number(received - replay) : 0
          return {
            region,
            lagMs: bytes === 0 ? 0 : sinceReplay,
            lagBytes: bytes,
            measuredAt: now(),
          }
        }
        const bytes = primary.lsn > replay ? Number(primary.lsn - replay) : 0
        const lagMs = bytes === 0 ? 0 : (primary.replayLagMs ?? sinceReplay)
        return { region, lagMs: Math.max(0, lagMs), lagBytes: bytes, measuredAt: now() }
      } catch (error) {
        throw fail(`replication lag of ${region}`, error)
      }
    },

    async snapshot(region, ctx) {
      throwIfAborted(ctx.signal, `${name}: snapshot`)
      const label = `baton-${now()}-e${ctx.epoch}`
      try {
        const rows = await q<{ lsn: string }>(
          server(region),
          'SELECT pg_create_restore_point($1)::text AS lsn',
          [label],
          ctx,
          'restore point',
        )
        return { id: `restore-point:${label}@${rows[0]!.lsn}` }
      } catch (error) {
        throw fail(`snapshot of ${region}`, error)
      }
    },

    async promote(region, promoteOptions, ctx): Promise<Promotion> {
      checkEpoch(ctx, `promote ${region}`)
      const target = server(region)
      try {
        const stored = await fencing.current(target.pool)
        if (stored > ctx.epoch)
          throw new FencedError(ctx.epoch, stored, `${name}: promote ${region}`)
        if (!(await inRecovery(target, ctx))) {
          knownPrimary = region
          return { region, promotedAt: now(), lost: { transactions: 0, ms: 0 } }
        }
        let lost: Promotion['lost']
        if (promoteOptions.graceful) {
          const sources = (await primaries(ctx)).filter((id) => id !== region)
          const source = sources[0]
          if (source === undefined) {
            throw new PostgresError(
              'ADAPTER',
              `${name}: a graceful promotion of ${region} needs a reachable primary`,
            )
          }
          const old = server(source)
          await makeReadOnly(old, ctx)
          const last = await lsnOf(old, 'SELECT pg_current_wal_lsn()::text AS lsn', ctx, 'last LSN')
          const deadline = Date.now() + catchUp
          for (;;) {
            throwIfAborted(ctx.signal, `${name}: promote ${region}`)
            const replayed = await lsnOf(
              target,
              'SELECT pg_last_wal_replay_lsn()::text AS lsn',
              ctx,
              'replay LSN',
            )
            if (replayed >= last) break
            if (Date.now() > deadline) {
              throw new PostgresError(
                'ADAPTER',
                `${name}: ${region} did not replay ${source}'s last LSN within ${catchUp} ms`,
              )
            }
            await sleep(20, ctx.signal)
          }
          lost = { transactions: 0, ms: 0 }
        }
        throwIfAborted(ctx.signal, `${name}: promote ${region}`)
        const rows = await q<{ ok: boolean }>(
          target,
          'SELECT pg_promote(true, 60) AS ok',
          [],
          ctx,
          'pg_promote',
        )
        if (rows[0]?.ok !== true)
          throw new PostgresError('ADAPTER', `${name}: pg_promote() in ${region} did not finish`)
        await fencing.ensure(target.pool)
        await fencing.raise(target.pool, ctx.epoch)
        knownPrimary = region
        return { region, promotedAt: now(), ...(lost === undefined ? {} : { lost }) }
      } catch (error) {
        throw fail(`promote ${region}`, error)
      }
    },

    async verifyWrites(region, ctx) {
      throwIfAborted(ctx.signal, `${name}: verifyWrites`)
      const s = server(region)
      const started = performance.now()
      const token = `${now()}-${Math.random().toString(36).slice(2)}`
      try {
        await bounded(
          (async () => {
            await fencing.ensure(s.pool)
            await fencing.write(s.pool, ctx.epoch, async (client) => {
              await client.query(
                `CREATE TABLE IF NOT EXISTS ${probeTable} (region text PRIMARY KEY, epoch bigint NOT NULL, token text NOT NULL, at timestamptz NOT NULL)`,
              )
              await client.query(
                `INSERT INTO ${probeTable} (region, epoch, token, at) VALUES ($1, $2, $3, clock_timestamp())
                 ON CONFLICT (region) DO UPDATE SET epoch = excluded.epoch, token = excluded.token, at = excluded.at`,
                [region, ctx.epoch, token],
              )
            })
            const back = await s.pool.query<{ token: string }>(
              `SELECT token FROM ${probeTable} WHERE region = $1`,
              [region],
            )
            if (back.rows[0]?.token !== token)
              throw new Error('the probe row read back differs from the one written')
          })(),
          callTimeout,
          `${name}: verifyWrites in ${region}`,
          ctx.signal,
        )
        return { ok: true, latencyMs: performance.now() - started }
      } catch (error) {
        if (isBatonError(error, 'ABORTED')) throw error
        return { ok: false, latencyMs: performance.now() - started, error: messageOf(error) }
      }
    },

    async fence(region, ctx) {
      throwIfAborted(ctx.signal, `${name}: fence`)
      const s = server(region)
      let standby: boolean
      try {
        standby = await inRecovery(s, ctx)
      } catch (error) {
        if (isBatonError(error, 'ABORTED')) throw error
        return { fenced: false, reachable: false }
      }
      try {
        if (!standby) await makeReadOnly(s, ctx)
        await s.stop?.()
        return { fenced: true, reachable: true }
      } catch (error) {
        throw fail(`fence ${region}`, error)
      }
    },

    async close() {
      if (watchTimer !== undefined) clearInterval(watchTimer)
      for (const s of servers.values()) if (s.owned) await s.pool.end().catch(() => undefined)
    },
  }

  async function primaryPosition(
    s: Server,
    applicationName: string,
    ctx: CallContext,
  ): Promise<{ lsn: bigint; replayLagMs: number | undefined }> {
    const rows = await q<{ lsn: string; lag_ms: number | null }>(
      s,
      `SELECT pg_current_wal_lsn()::text AS lsn,
              (SELECT (extract(epoch FROM replay_lag) * 1000)::float8 FROM pg_stat_replication WHERE application_name = $1 LIMIT 1) AS lag_ms`,
      [applicationName],
      ctx,
      'primary position',
    )
    const lsn = parseLsn(rows[0]?.lsn)
    if (lsn === undefined) throw new PostgresError('ADAPTER', `${name}: no LSN from ${s.region}`)
    return { lsn, replayLagMs: rows[0]?.lag_ms ?? undefined }
  }
}
