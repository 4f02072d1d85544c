/**
 * Helpers of the RDS adapter: CloudWatch's latest datapoint, polling with a
 * deadline, snapshot names, telling the primary among instances, and
 * telling "unreachable" from other failures.
 *
 * @internal
 * @module
 */
import { type CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch'
import type { DBInstance } from '@aws-sdk/client-rds'
import type { CallContext, Promotion, RegionId } from '@baton/core'
import { callAws, isNetworkError, type RetryOptions, sleep } from './_aws.js'
import { AwsAdapterError } from './errors.js'

/** Where a region's database is: what `measureLag` and `checkWrites` are given. */
export interface DbTarget {
  /** The region. */
  readonly region: RegionId
  /** The DB instance identifier, or the DB cluster ARN (`aurora-global`). */
  readonly identifier: string
  /** The endpoint's host name, when RDS reports one. */
  readonly address?: string | undefined
  /** The endpoint's port, when RDS reports one. */
  readonly port?: number | undefined
}

/** A region's database as the control plane sees it. */
export interface TargetState extends DbTarget {
  /** Available and the writer. */
  readonly writer: boolean
  /** Refuses writes (a replica, a secondary, stopped). */
  readonly readOnly: boolean
  /** Why it is not a writer. */
  readonly why?: string
}

/** What both shapes (instance, Aurora global) share from the adapter. */
export interface ModeEnv {
  /** Region → instance identifier or cluster ARN. */
  readonly ids: ReadonlyMap<RegionId, string>
  /** Sends an RDS command in `region` with the adapter's retries. */
  call<T>(region: RegionId, command: unknown, operation: string, ctx?: CallContext): Promise<T>
  readonly pollMs: number
  readonly waitMs: number
  readonly catchUpLagMs: number
  readonly waitForSnapshot: boolean
  readonly backupRetentionDays?: number | undefined
}

/** One shape of RDS database: how it finds, describes, snapshots and promotes. */
export interface RdsMode {
  readonly name: string
  primaryRegion(ctx: CallContext): Promise<RegionId>
  target(region: RegionId, ctx: CallContext): Promise<TargetState>
  /** Throws unless `region` holds a replica that is replicating. */
  checkReplica(region: RegionId, ctx: CallContext): Promise<void>
  lagMetric(region: RegionId): LagMetric
  /** The database name snapshot ids are built from. */
  snapshotBase(region: RegionId): string
  snapshot(region: RegionId, id: string, ctx: CallContext): Promise<void>
  promote(
    region: RegionId,
    graceful: boolean,
    ctx: CallContext,
    lagOf: (region: RegionId, ctx: CallContext) => Promise<number>,
  ): Promise<Promotion>
  /** Stops the database in `region` (fencing), when the shape can. */
  stop?(region: RegionId, ctx: CallContext): Promise<void>
}

/** The tag set on a promoted instance (ISO time of the promotion). */
export const PROMOTED_TAG = 'baton:promoted-at'

/** A CloudWatch metric of AWS/RDS and the factor that turns its unit into ms. */
export interface LagMetric {
  readonly MetricName: string
  readonly Dimensions: { Name: string; Value: string }[]
  readonly scale: number
}

/**
 * The latest `Maximum` of `metric` over the last `windowMs`, in ms.
 *
 * @throws {@link AwsAdapterError} `ADAPTER` when there is no datapoint, or
 *   a negative one (RDS reports -1 when replication is not running).
 */
export async function latestMetric(
  client: CloudWatchClient,
  metric: LagMetric,
  windowMs: number,
  retry: Required<RetryOptions>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const now = Date.now()
  const out = await callAws<{ Datapoints?: { Timestamp?: Date; Maximum?: number }[] }>(
    client,
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/RDS',
      MetricName: metric.MetricName,
      Dimensions: metric.Dimensions,
      StartTime: new Date(now - windowMs),
      EndTime: new Date(now),
      Period: 60,
      Statistics: ['Maximum'],
    }),
    { service: 'cloudwatch', operation: 'GetMetricStatistics', retry, signal },
  )
  const latest = (out.Datapoints ?? [])
    .filter((d) => typeof d.Maximum === 'number' && d.Timestamp !== undefined)
    .sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime())[0]
  const what = `${metric.MetricName} of ${metric.Dimensions.map((d) => d.Value).join(',')}`
  if (latest === undefined) {
    throw new AwsAdapterError(
      'ADAPTER',
      'cloudwatch',
      'GetMetricStatistics',
      `no ${what} datapoint in the last ${Math.round(windowMs / 1000)} s`,
    )
  }
  if (latest.Maximum! < 0) {
    throw new AwsAdapterError(
      'ADAPTER',
      'cloudwatch',
      'GetMetricStatistics',
      `${what} is ${latest.Maximum}: replication is not running`,
    )
  }
  return latest.Maximum! * metric.scale
}

/** How {@link pollUntil} waits. */
export interface PollOptions {
  readonly what: string
  readonly operation: string
  readonly pollMs: number
  readonly timeoutMs: number
  readonly signal: AbortSignal | undefined
}

/** Calls `done` until it returns true, `pollMs` apart; `TIMEOUT` after `timeoutMs`. */
export async function pollUntil(done: () => Promise<boolean>, options: PollOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await done()) return
    if (Date.now() + options.pollMs > deadline) {
      throw new AwsAdapterError(
        'TIMEOUT',
        'rds',
        options.operation,
        `waited ${options.timeoutMs} ms for ${options.what}`,
      )
    }
    await sleep(options.pollMs, options.signal, 'rds', options.operation)
  }
}

/** A fresh snapshot identifier: `<prefix>-<db>-<UTC yyyymmddhhmmss>-<4 hex>` (RDS's rules: letters, digits, single hyphens). */
export function snapshotId(prefix: string, db: string): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
  const rand = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, '0')
  const base = `${prefix}-${db}`.replace(/[^A-Za-z0-9-]/g, '-').replace(/-+/g, '-')
  return `${base.slice(0, 255 - 20)}-${stamp}-${rand}`
}

/**
 * The region of the primary among described instances: the one that is not
 * a read replica; among several (after a promotion both are standalone),
 * the latest `baton:promoted-at` tag, then the one that has replicas.
 */
export function pickPrimary(
  seen: PromiseSettledResult<{ region: RegionId; db: DBInstance }>[],
  name: string,
): RegionId {
  const ok = seen.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const candidates = ok.filter(
    (s) =>
      s.db.ReadReplicaSourceDBInstanceIdentifier === undefined &&
      s.db.DBInstanceStatus !== 'deleting' &&
      s.db.DBInstanceStatus !== 'stopped',
  )
  if (candidates.length === 1) return candidates[0]!.region
  const tagged = candidates
    .map((c) => ({ c, at: c.db.TagList?.find((t) => t.Key === PROMOTED_TAG)?.Value ?? '' }))
    .filter((t) => t.at !== '')
    .sort((a, b) => b.at.localeCompare(a.at))
  if (tagged[0] !== undefined) return tagged[0].c.region
  const withReplicas = candidates.filter(
    (c) => (c.db.ReadReplicaDBInstanceIdentifiers?.length ?? 0) > 0,
  )
  if (withReplicas.length === 1) return withReplicas[0]!.region
  const failed = seen.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined
  throw new AwsAdapterError(
    'ADAPTER',
    'rds',
    'primaryRegion',
    candidates.length === 0
      ? `${name}: no reachable instance is a primary`
      : `${name}: ${candidates.length} standalone instances and none tagged ${PROMOTED_TAG}`,
    { cause: failed?.reason },
  )
}

/** True when `error` says the region could not be reached (network, timeouts, 5xx after retries). */
export function unreachable(error: unknown): boolean {
  const cause = error instanceof AwsAdapterError ? error.cause : error
  if (error instanceof AwsAdapterError && error.code === 'ABORTED') return false
  const status = (cause as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata
    ?.httpStatusCode
  return (
    isNetworkError(cause) ||
    (cause as { name?: unknown } | null)?.name === 'TimeoutError' ||
    (typeof status === 'number' && status >= 500)
  )
}
