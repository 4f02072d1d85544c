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
import {
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  PromoteReadReplicaCommand,
  RDSClient,
  type RDSClientConfig,
  StopDBInstanceCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds'
import {
  type CallContext,
  ConfigError,
  type Database,
  FencedError,
  type Promotion,
  type RegionId,
  type ReplicationLag,
} from '@baton/core'
import { callAws, type RetryOptions, retrySettings, throwIfAborted } from './_aws.js'
import {
  type DbTarget,
  latestMetric,
  PROMOTED_TAG,
  pickPrimary,
  pollUntil,
  snapshotId,
  unreachable,
} from './_rds.js'
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
  const pollMs = nonNegative(options.pollIntervalMs ?? 15_000, 'pollIntervalMs')
  const waitMs = nonNegative(options.waitTimeoutMs ?? 3_600_000, 'waitTimeoutMs')
  const lagWindowMs = nonNegative(options.lagWindowMs ?? 300_000, 'lagWindowMs')
  const catchUpLagMs = nonNegative(options.catchUpLagMs ?? 0, 'catchUpLagMs')
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
  const name =
    mode === 'instance' ? `rds:${members.map(([, id]) => id).join(',')}` : `rds-global:${globalId}`
  const call = <T>(region: RegionId, command: unknown, operation: string, ctx?: CallContext) =>
    callAws<T>(rds(region), command, { service: 'rds', operation, retry, signal: ctx?.signal })

  let highest = Number.NEGATIVE_INFINITY
  const enter = (region: RegionId | undefined, ctx: CallContext, what: string): void => {
    if (region !== undefined && !ids.has(region)) {
      throw new ConfigError('region', `${region} is not one of ${[...ids.keys()].join(', ')}`)
    }
    throwIfAborted(ctx.signal, 'rds', what)
    if (ctx.epoch < highest) throw new FencedError(ctx.epoch, highest, `${name} ${what}`)
    highest = Math.max(highest, ctx.epoch)
  }

  // --- instance mode -------------------------------------------------------
  const instance = async (region: RegionId, ctx?: CallContext): Promise<DBInstance> => {
    const out = await call<{ DBInstances?: DBInstance[] }>(
      region,
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: ids.get(region)! }),
      'DescribeDBInstances',
      ctx,
    )
    const found = out.DBInstances?.[0]
    if (found === undefined) {
      throw new AwsAdapterError(
        'ADAPTER',
        'rds',
        'DescribeDBInstances',
        `no instance ${ids.get(region)} in ${region}`,
      )
    }
    return found
  }
  // --- aurora-global mode --------------------------------------------------
  const globalCluster = async (region: RegionId, ctx?: CallContext): Promise<GlobalCluster> => {
    const out = await call<{ GlobalClusters?: GlobalCluster[] }>(
      region,
      new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalId }),
      'DescribeGlobalClusters',
      ctx,
    )
    const found = out.GlobalClusters?.[0]
    if (found === undefined) {
      throw new AwsAdapterError(
        'ADAPTER',
        'rds',
        'DescribeGlobalClusters',
        `no global cluster ${globalId}`,
      )
    }
    return found
  }
  const writerRegion = (global: GlobalCluster): RegionId | undefined => {
    const arn = global.GlobalClusterMembers?.find((m) => m.IsWriter === true)?.DBClusterArn
    return members.find(([, a]) => a === arn)?.[0]
  }
  const clusterIdOf = (region: RegionId): string => ids.get(region)!.split(':cluster:')[1]!

  /** The endpoint of `region`'s database and whether the control plane calls it a writable primary. */
  const target = async (
    region: RegionId,
    ctx: CallContext,
  ): Promise<DbTarget & { writer: boolean; readOnly: boolean; why?: string }> => {
    if (mode === 'instance') {
      const db = await instance(region, ctx)
      const replica = db.ReadReplicaSourceDBInstanceIdentifier !== undefined
      const available = db.DBInstanceStatus === 'available'
      return {
        region,
        identifier: ids.get(region)!,
        address: db.Endpoint?.Address,
        port: db.Endpoint?.Port,
        writer: available && !replica,
        readOnly:
          replica || db.DBInstanceStatus === 'stopped' || db.DBInstanceStatus === 'stopping',
        ...(available && !replica
          ? {}
          : { why: replica ? 'is a read replica' : `is ${db.DBInstanceStatus}` }),
      }
    }
    const out = await call<{
      DBClusters?: { Status?: string; Endpoint?: string; Port?: number }[]
    }>(
      region,
      new DescribeDBClustersCommand({ DBClusterIdentifier: ids.get(region)! }),
      'DescribeDBClusters',
      ctx,
    )
    const cluster = out.DBClusters?.[0]
    const isWriter = writerRegion(await globalCluster(region, ctx)) === region
    const available = cluster?.Status === 'available'
    return {
      region,
      identifier: ids.get(region)!,
      address: cluster?.Endpoint,
      port: cluster?.Port,
      writer: available && isWriter,
      readOnly: !isWriter,
      ...(available && isWriter
        ? {}
        : { why: isWriter ? `is ${cluster?.Status}` : 'is not the writer' }),
    }
  }

  const lagOf = async (region: RegionId, ctx: CallContext): Promise<number> => {
    if (mode === 'instance') {
      const db = await instance(region, ctx)
      if (db.ReadReplicaSourceDBInstanceIdentifier === undefined) {
        throw new AwsAdapterError(
          'ADAPTER',
          'rds',
          'replicationLag',
          `${ids.get(region)} in ${region} is not a read replica`,
        )
      }
      const broken = db.StatusInfos?.find(
        (s) => s.StatusType === 'read replication' && s.Status !== 'replicating',
      )
      if (broken !== undefined) {
        throw new AwsAdapterError(
          'ADAPTER',
          'rds',
          'replicationLag',
          `replication of ${ids.get(region)} is ${broken.Status}${broken.Message === undefined ? '' : `: ${broken.Message}`}`,
        )
      }
    }
    const t: DbTarget = { region, identifier: ids.get(region)! }
    if (options.measureLag !== undefined) {
      const ms = await options.measureLag(t, ctx)
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
    const metric =
      mode === 'instance'
        ? {
            MetricName: 'ReplicaLag',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: t.identifier }],
            scale: 1000,
          }
        : {
            MetricName: 'AuroraGlobalDBReplicationLag',
            Dimensions: [{ Name: 'DBClusterIdentifier', Value: clusterIdOf(region) }],
            scale: 1,
          }
    return latestMetric(cw(region), metric, lagWindowMs, retry, ctx.signal)
  }

  const promoteInstance = async (
    region: RegionId,
    graceful: boolean,
    ctx: CallContext,
  ): Promise<Promotion> => {
    const db = await instance(region, ctx)
    if (db.ReadReplicaSourceDBInstanceIdentifier === undefined) {
      // Already standalone: a promotion that already happened (retried step).
      return { region, promotedAt: Date.now(), ...(graceful ? { lost: { ms: 0 } } : {}) }
    }
    let lostMs: number | undefined
    if (graceful) {
      const source = db.ReadReplicaSourceDBInstanceIdentifier
      const from = members.find(
        ([r, id]) => r !== region && (source === id || source.endsWith(`:db:${id}`)),
      )?.[0]
      if (from === undefined) {
        throw new ConfigError(
          'instances',
          `the source ${source} of ${ids.get(region)} is not a configured instance`,
        )
      }
      const primary = await instance(from, ctx)
      if (primary.DBInstanceStatus !== 'available') {
        throw new AwsAdapterError(
          'ADAPTER',
          'rds',
          'promote',
          `a graceful promotion needs a reachable, available primary; ${ids.get(from)} is ${primary.DBInstanceStatus}`,
        )
      }
      await pollUntil(async () => (await lagOf(region, ctx)) <= catchUpLagMs, {
        what: `replica ${ids.get(region)} catching up to ${catchUpLagMs} ms`,
        pollMs,
        timeoutMs: waitMs,
        signal: ctx.signal,
        operation: 'promote',
      })
      lostMs = 0
    } else {
      lostMs = await lagOf(region, ctx).catch(() => undefined)
    }
    await call(
      region,
      new PromoteReadReplicaCommand({
        DBInstanceIdentifier: ids.get(region)!,
        ...(options.backupRetentionDays === undefined
          ? {}
          : { BackupRetentionPeriod: options.backupRetentionDays }),
      }),
      'PromoteReadReplica',
      ctx,
    )
    let arn: string | undefined
    await pollUntil(
      async () => {
        const now = await instance(region, ctx)
        arn = now.DBInstanceArn
        return (
          now.DBInstanceStatus === 'available' &&
          now.ReadReplicaSourceDBInstanceIdentifier === undefined
        )
      },
      {
        what: `${ids.get(region)} available as a standalone instance`,
        pollMs,
        timeoutMs: waitMs,
        signal: ctx.signal,
        operation: 'PromoteReadReplica',
      },
    )
    const promotedAt = Date.now()
    if (arn !== undefined) {
      await call(
        region,
        new AddTagsToResourceCommand({
          ResourceName: arn,
          Tags: [{ Key: PROMOTED_TAG, Value: new Date(promotedAt).toISOString() }],
        }),
        'AddTagsToResource',
        ctx,
      )
    }
    return { region, promotedAt, ...(lostMs === undefined ? {} : { lost: { ms: lostMs } }) }
  }

  const promoteGlobal = async (
    region: RegionId,
    graceful: boolean,
    ctx: CallContext,
  ): Promise<Promotion> => {
    const before = await globalCluster(region, ctx)
    if (writerRegion(before) === region && before.FailoverState === undefined) {
      return { region, promotedAt: Date.now(), ...(graceful ? { lost: { ms: 0 } } : {}) }
    }
    const lostMs = graceful ? 0 : await lagOf(region, ctx).catch(() => undefined)
    const input = { GlobalClusterIdentifier: globalId, TargetDbClusterIdentifier: ids.get(region)! }
    if (graceful) {
      await call(region, new SwitchoverGlobalClusterCommand(input), 'SwitchoverGlobalCluster', ctx)
    } else {
      await call(
        region,
        new FailoverGlobalClusterCommand({ ...input, AllowDataLoss: true }),
        'FailoverGlobalCluster',
        ctx,
      )
    }
    await pollUntil(
      async () => {
        const now = await globalCluster(region, ctx)
        return (
          writerRegion(now) === region &&
          now.FailoverState === undefined &&
          now.Status === 'available'
        )
      },
      {
        what: `${ids.get(region)} the writer of ${globalId}`,
        pollMs,
        timeoutMs: waitMs,
        signal: ctx.signal,
        operation: graceful ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster',
      },
    )
    return {
      region,
      promotedAt: Date.now(),
      ...(lostMs === undefined ? {} : { lost: { ms: lostMs } }),
    }
  }

  return {
    name,
    client: rds,
    async primaryRegion(ctx) {
      enter(undefined, ctx, 'primaryRegion')
      if (mode === 'aurora-global') {
        const errors: unknown[] = []
        for (const [region] of members) {
          try {
            const writer = writerRegion(await globalCluster(region, ctx))
            if (writer !== undefined) return writer
          } catch (error) {
            errors.push(error)
          }
        }
        throw new AwsAdapterError(
          'ADAPTER',
          'rds',
          'primaryRegion',
          `no writer found in ${globalId}`,
          { cause: errors[0] },
        )
      }
      const seen = await Promise.allSettled(
        members.map(async ([region]) => ({ region, db: await instance(region, ctx) })),
      )
      return pickPrimary(seen, name)
    },
    async replicationLag(region, ctx): Promise<ReplicationLag> {
      enter(region, ctx, 'replicationLag')
      const lagMs = await lagOf(region, ctx)
      return { region, lagMs, measuredAt: Date.now() }
    },
    async snapshot(region, ctx) {
      enter(region, ctx, 'snapshot')
      const id = snapshotId(prefix, mode === 'instance' ? ids.get(region)! : clusterIdOf(region))
      if (mode === 'instance') {
        await call(
          region,
          new CreateDBSnapshotCommand({
            DBInstanceIdentifier: ids.get(region)!,
            DBSnapshotIdentifier: id,
          }),
          'CreateDBSnapshot',
          ctx,
        )
      } else {
        await call(
          region,
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: clusterIdOf(region),
            DBClusterSnapshotIdentifier: id,
          }),
          'CreateDBClusterSnapshot',
          ctx,
        )
      }
      if (options.waitForSnapshot !== false) {
        await pollUntil(
          async () => {
            const status =
              mode === 'instance'
                ? (
                    await call<{ DBSnapshots?: { Status?: string }[] }>(
                      region,
                      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }),
                      'DescribeDBSnapshots',
                      ctx,
                    )
                  ).DBSnapshots?.[0]?.Status
                : (
                    await call<{ DBClusterSnapshots?: { Status?: string }[] }>(
                      region,
                      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
                      'DescribeDBClusterSnapshots',
                      ctx,
                    )
                  ).DBClusterSnapshots?.[0]?.Status
            if (status === 'failed' || status === 'error') {
              throw new AwsAdapterError('ADAPTER', 'rds', 'snapshot', `snapshot ${id} ${status}`)
            }
            return status === 'available'
          },
          {
            what: `snapshot ${id} available`,
            pollMs,
            timeoutMs: waitMs,
            signal: ctx.signal,
            operation: 'snapshot',
          },
        )
      }
      return { id }
    },
    async promote(region, promoteOptions, ctx) {
      if (typeof promoteOptions?.graceful !== 'boolean') {
        throw new ConfigError('options.graceful', 'must be true or false')
      }
      enter(region, ctx, 'promote')
      return mode === 'instance'
        ? promoteInstance(region, promoteOptions.graceful, ctx)
        : promoteGlobal(region, promoteOptions.graceful, ctx)
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
        const t = await target(region, ctx)
        if (options.checkWrites === undefined) {
          return t.writer ? done(true) : done(false, `${t.identifier} ${t.why}`)
        }
        const { writer: _w, readOnly: _r, why: _y, ...endpoint } = t
        const ok = await options.checkWrites(endpoint, ctx)
        return ok === false ? done(false, `checkWrites refused ${t.identifier}`) : done(true)
      } catch (error) {
        return done(false, error instanceof Error ? error.message : String(error))
      }
    },
    async fence(region, ctx) {
      enter(region, ctx, 'fence')
      let t: Awaited<ReturnType<typeof target>>
      try {
        t = await target(region, ctx)
      } catch (error) {
        if (unreachable(error)) return { fenced: false, reachable: false }
        throw error
      }
      if (t.readOnly) return { fenced: true, reachable: true }
      if (mode === 'instance' && fenceAction === 'stop') {
        await call(
          region,
          new StopDBInstanceCommand({ DBInstanceIdentifier: ids.get(region)! }),
          'StopDBInstance',
          ctx,
        )
        return { fenced: true, reachable: true }
      }
      return { fenced: false, reachable: true }
    },
  }
}

function nonNegative(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(path, `must be a non-negative number, got ${String(value)}`)
  }
  return value
}
