/**
 * A {@link Database} over Amazon RDS, in one of two shapes:
 *
 * - `instance` (default): an RDS instance in one region and a cross-region
 *   read replica in another. Promotion is `PromoteReadReplica`, then a wait
 *   until the replica is `available` and no longer a replica. A graceful
 *   promotion first checks that the primary is reachable and waits until
 *   the replica's lag is at most `catchUpLagMs`; stop writes first (move
 *   traffic, fence) for that to mean "nothing lost".
 * - `aurora-global`: an Aurora global database with one cluster per
 *   region. Graceful promotion is `SwitchoverGlobalCluster` (no data loss,
 *   the old primary becomes a secondary); ungraceful is
 *   `FailoverGlobalCluster` with `AllowDataLoss` (for a primary region that
 *   is down). Both wait until the target cluster is the writer and the
 *   global cluster has no failover in progress.
 *
 * Replica lag comes from a caller-supplied `measureLag` (e.g. a query on the
 * replica itself) or from CloudWatch: `ReplicaLag` (seconds) per instance,
 * `AuroraGlobalDBReplicationLag` (ms) per secondary cluster. A snapshot is
 * a manual DB (or cluster) snapshot, awaited until `available`. Writes are
 * verified by a caller-supplied `checkWrites` against the writer endpoint;
 * without one, the control plane's view (available, and the writer) is
 * reported. RDS is regional: one client per region, given or created and
 * cached.
 *
 * The primary of an `instance` database is the configured instance that
 * is not a replica; after a promotion both are standalone, so the promoted
 * one is tagged `baton:promoted-at` and the latest tag wins.
 *
 * @module
 */
import { CloudWatchClient, type CloudWatchClientConfig } from '@aws-sdk/client-cloudwatch'
import { RDSClient, type RDSClientConfig } from '@aws-sdk/client-rds'
import {
  type CallContext,
  ConfigError,
  type Database,
  FencedError,
  type RegionId,
  type ReplicationLag,
} from '@baton/core'
import { callAws, nonNegative, type RetryOptions, retrySettings, throwIfAborted } from './_aws.js'
import { type DbTarget, latestMetric, type RdsMode, snapshotId, unreachable } from './_rds.js'
import { globalMode } from './_rds-global.js'
import { instanceMode } from './_rds-instance.js'
import { AwsAdapterError } from './errors.js'

export type { DbTarget } from './_rds.js'

/** Options for {@link createRdsDatabase}. */
export interface RdsDatabaseOptions {
  /** `instance` (default): an instance and its cross-region read replica. `aurora-global`: an Aurora global database. */
  readonly mode?: 'instance' | 'aurora-global'
  /** `instance` mode: each region's DB instance identifier, e.g. `{ 'us-east-1': 'orders', 'us-west-2': 'orders-replica' }`. */
  readonly instances?: Readonly<Record<RegionId, string>>
  /** `aurora-global` mode: the global cluster identifier. */
  readonly globalClusterId?: string
  /** `aurora-global` mode: each region's member cluster ARN. */
  readonly clusters?: Readonly<Record<RegionId, string>>
  /** RDS clients you built, per region; regions without one get a created and cached client. */
  readonly clients?: Readonly<Partial<Record<RegionId, RDSClient>>>
  /** Settings for created RDS clients (credentials, …; the region is set per client). */
  readonly clientConfig?: Omit<RDSClientConfig, 'region'>
  /** CloudWatch clients you built, per region (for lag); others are created and cached. */
  readonly cloudWatchClients?: Readonly<Partial<Record<RegionId, CloudWatchClient>>>
  /** Settings for created CloudWatch clients. */
  readonly cloudWatchClientConfig?: Omit<CloudWatchClientConfig, 'region'>
  /** Measures the lag (ms) of the replica in `target.region` itself, instead of CloudWatch. */
  readonly measureLag?: (target: DbTarget, ctx: CallContext) => Promise<number>
  /** How far back CloudWatch is read for the latest lag datapoint (ms); default 300 000. */
  readonly lagWindowMs?: number
  /** Writes and reads back a probe row at the writer endpoint; resolve `false` or throw when it cannot. */
  readonly checkWrites?: (target: DbTarget, ctx: CallContext) => Promise<boolean | undefined>
  /** Snapshot identifiers start with this; default `baton`. */
  readonly snapshotPrefix?: string
  /** Wait until a snapshot is `available` before returning it; default true. */
  readonly waitForSnapshot?: boolean
  /** `instance` mode, graceful: promote once the replica's lag is at most this (ms); default 0. */
  readonly catchUpLagMs?: number
  /** `instance` mode: `stop` stops a standalone old primary on `fence` (StopDBInstance); default `none`. */
  readonly fenceAction?: 'none' | 'stop'
  /** `instance` mode: `BackupRetentionPeriod` (days) for the promoted instance; default: RDS's. */
  readonly backupRetentionDays?: number
  /** Time between status polls (ms); default 15 000. */
  readonly pollIntervalMs?: number
  /** Longest wait for a promotion, catch-up or snapshot (ms) before `TIMEOUT`; default 3 600 000. */
  readonly waitTimeoutMs?: number
  /** Retries of each AWS call (see {@link RetryOptions}). */
  readonly retry?: RetryOptions
}

/** A {@link Database} over RDS. */
export interface RdsDatabase extends Database {
  /** The RDS client of `region` (created and cached on first use). */
  client(region: RegionId): RDSClient
}

/**
 * Creates a {@link Database} over an RDS instance and its cross-region
 * replica, or over an Aurora global database.
 *
 * @throws `ConfigError` (`INVALID_CONFIG`) naming the bad option.
 *
 * @example
 * ```ts
 * const db = createRdsDatabase({
 *   instances: { 'us-east-1': 'orders', 'us-west-2': 'orders-usw2' },
 *   checkWrites: async (t) => probeRow(`${t.address}:${t.port}`),
 * })
 * await db.promote('us-west-2', { graceful: false }, ctx)
 * ```
 */
export function createRdsDatabase(options: RdsDatabaseOptions): RdsDatabase {
  const mode = options.mode ?? 'instance'
  if (mode !== 'instance' && mode !== 'aurora-global') {
    throw new ConfigError('mode', `must be instance or aurora-global, got ${String(mode)}`)
  }
  const field = mode === 'instance' ? 'instances' : 'clusters'
  const members = Object.entries(options[field] ?? {})
  if (members.length < 2) {
    throw new ConfigError(field, 'needs at least two regions (a primary and a replica)')
  }
  for (const [region, id] of members) {
    if (typeof id !== 'string' || id === '') {
      throw new ConfigError(`${field}.${region}`, 'must be a non-empty string')
    }
    if (mode === 'aurora-global' && !/^arn:[^:]+:rds:[^:]+:\d*:cluster:.+$/.test(id)) {
      throw new ConfigError(`clusters.${region}`, `must be a DB cluster ARN, got ${id}`)
    }
  }
  const globalId = options.globalClusterId
  if (mode === 'aurora-global' && (typeof globalId !== 'string' || globalId === '')) {
    throw new ConfigError('globalClusterId', 'must be the global cluster identifier')
  }
  const prefix = options.snapshotPrefix ?? 'baton'
  if (!/^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,40}$/.test(prefix) || prefix.endsWith('-')) {
    throw new ConfigError(
      'snapshotPrefix',
      `must start with a letter; letters, digits, single hyphens; got ${prefix}`,
    )
  }
  const lagWindowMs = nonNegative(options.lagWindowMs ?? 300_000, 'lagWindowMs')
  const fenceAction = options.fenceAction ?? 'none'
  if (fenceAction !== 'none' && fenceAction !== 'stop') {
    throw new ConfigError('fenceAction', `must be none or stop, got ${String(fenceAction)}`)
  }
  const retry = retrySettings(options.retry, 'retry')
  const ids = new Map(members)
  const rdsClients = new Map<RegionId, RDSClient>()
  const cwClients = new Map<RegionId, CloudWatchClient>()
  const rds = (region: RegionId): RDSClient => {
    let c = options.clients?.[region] ?? rdsClients.get(region)
    if (c === undefined) {
      c = new RDSClient({ ...options.clientConfig, region })
      rdsClients.set(region, c)
    }
    return c
  }
  const cw = (region: RegionId): CloudWatchClient => {
    let c = options.cloudWatchClients?.[region] ?? cwClients.get(region)
    if (c === undefined) {
      c = new CloudWatchClient({ ...options.cloudWatchClientConfig, region })
      cwClients.set(region, c)
    }
    return c
  }
  const env = {
    ids,
    call: <T>(region: RegionId, command: unknown, operation: string, ctx?: CallContext) =>
      callAws<T>(rds(region), command, { service: 'rds', operation, retry, signal: ctx?.signal }),
    pollMs: nonNegative(options.pollIntervalMs ?? 15_000, 'pollIntervalMs'),
    waitMs: nonNegative(options.waitTimeoutMs ?? 3_600_000, 'waitTimeoutMs'),
    catchUpLagMs: nonNegative(options.catchUpLagMs ?? 0, 'catchUpLagMs'),
    waitForSnapshot: options.waitForSnapshot !== false,
    backupRetentionDays: options.backupRetentionDays,
  }
  const shape: RdsMode = mode === 'instance' ? instanceMode(env) : globalMode(env, globalId!)
  const name = shape.name

  let highest = Number.NEGATIVE_INFINITY
  const enter = (region: RegionId | undefined, ctx: CallContext, what: string): void => {
    if (region !== undefined && !ids.has(region)) {
      throw new ConfigError('region', `${region} is not one of ${[...ids.keys()].join(', ')}`)
    }
    throwIfAborted(ctx.signal, 'rds', what)
    if (ctx.epoch < highest) throw new FencedError(ctx.epoch, highest, `${name} ${what}`)
    highest = Math.max(highest, ctx.epoch)
  }

  const lagOf = async (region: RegionId, ctx: CallContext): Promise<number> => {
    await shape.checkReplica(region, ctx)
    if (options.measureLag === undefined) {
      return latestMetric(cw(region), shape.lagMetric(region), lagWindowMs, retry, ctx.signal)
    }
    const ms = await options.measureLag({ region, identifier: ids.get(region)! }, ctx)
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new AwsAdapterError(
        'ADAPTER',
        'rds',
        'measureLag',
        `measureLag gave ${String(ms)}, not a lag in ms`,
      )
    }
    return ms
  }

  return {
    name,
    client: rds,
    async primaryRegion(ctx) {
      enter(undefined, ctx, 'primaryRegion')
      return shape.primaryRegion(ctx)
    },
    async replicationLag(region, ctx): Promise<ReplicationLag> {
      enter(region, ctx, 'replicationLag')
      const lagMs = await lagOf(region, ctx)
      return { region, lagMs, measuredAt: Date.now() }
    },
    async snapshot(region, ctx) {
      enter(region, ctx, 'snapshot')
      const id = snapshotId(prefix, shape.snapshotBase(region))
      await shape.snapshot(region, id, ctx)
      return { id }
    },
    async promote(region, promoteOptions, ctx) {
      if (typeof promoteOptions?.graceful !== 'boolean') {
        throw new ConfigError('options.graceful', 'must be true or false')
      }
      enter(region, ctx, 'promote')
      return shape.promote(region, promoteOptions.graceful, ctx, lagOf)
    },
    async verifyWrites(region, ctx) {
      enter(region, ctx, 'verifyWrites')
      const started = performance.now()
      const done = (ok: boolean, error?: string) => ({
        ok,
        latencyMs: Math.max(0, performance.now() - started),
        ...(error === undefined ? {} : { error }),
      })
      try {
        const { writer, readOnly: _r, why, ...endpoint } = await shape.target(region, ctx)
        if (options.checkWrites === undefined) {
          return writer ? done(true) : done(false, `${endpoint.identifier} ${why}`)
        }
        const ok = await options.checkWrites(endpoint, ctx)
        return ok === false ? done(false, `checkWrites refused ${endpoint.identifier}`) : done(true)
      } catch (error) {
        return done(false, error instanceof Error ? error.message : String(error))
      }
    },
    async fence(region, ctx) {
      enter(region, ctx, 'fence')
      let readOnly: boolean
      try {
        readOnly = (await shape.target(region, ctx)).readOnly
      } catch (error) {
        if (unreachable(error)) return { fenced: false, reachable: false }
        throw error
      }
      if (readOnly) return { fenced: true, reachable: true }
      if (fenceAction === 'stop' && shape.stop !== undefined) {
        await shape.stop(region, ctx)
        return { fenced: true, reachable: true }
      }
      return { fenced: false, reachable: true }
    },
  }
}
