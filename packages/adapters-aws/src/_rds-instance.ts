/**
 * The `instance` shape of the RDS database: an RDS instance and its
 * cross-region read replica. Promotion is `PromoteReadReplica`, then a wait
 * until the replica is `available` and standalone, then the
 * `baton:promoted-at` tag that tells the primary among standalone
 * instances.
 *
 * @internal
 * @module
 */
import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  PromoteReadReplicaCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds'
import { type CallContext, ConfigError, type Promotion, type RegionId } from '@baton/core'
import { type ModeEnv, PROMOTED_TAG, pickPrimary, pollUntil, type RdsMode } from './_rds.js'
import { AwsAdapterError } from './errors.js'

/** The `instance` mode over `env.ids` (region → DB instance identifier). */
export function instanceMode(env: ModeEnv): RdsMode {
  const { ids, call } = env
  const idOf = (region: RegionId): string => ids.get(region)!
  const instance = async (region: RegionId, ctx?: CallContext): Promise<DBInstance> => {
    const out = await call<{ DBInstances?: DBInstance[] }>(
      region,
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: idOf(region) }),
      'DescribeDBInstances',
      ctx,
    )
    const found = out.DBInstances?.[0]
    if (found === undefined) {
      throw new AwsAdapterError(
        'ADAPTER',
        'rds',
        'DescribeDBInstances',
        `no instance ${idOf(region)} in ${region}`,
      )
    }
    return found
  }
  const wait = (what: string, operation: string, ctx: CallContext) => ({
    what,
    operation,
    pollMs: env.pollMs,
    timeoutMs: env.waitMs,
    signal: ctx.signal,
  })

  return {
    name: `rds:${[...ids.values()].join(',')}`,
    async primaryRegion(ctx) {
      const seen = await Promise.allSettled(
        [...ids.keys()].map(async (region) => ({ region, db: await instance(region, ctx) })),
      )
      return pickPrimary(seen, this.name)
    },
    async target(region, ctx) {
      const db = await instance(region, ctx)
      const replica = db.ReadReplicaSourceDBInstanceIdentifier !== undefined
      const available = db.DBInstanceStatus === 'available'
      return {
        region,
        identifier: idOf(region),
        address: db.Endpoint?.Address,
        port: db.Endpoint?.Port,
        writer: available && !replica,
        readOnly:
          replica || db.DBInstanceStatus === 'stopped' || db.DBInstanceStatus === 'stopping',
        ...(available && !replica
          ? {}
          : { why: replica ? 'is a read replica' : `is ${db.DBInstanceStatus}` }),
      }
    },
    async checkReplica(region, ctx) {
      const db = await instance(region, ctx)
      if (db.ReadReplicaSourceDBInstanceIdentifier === undefined) {
        throw new AwsAdapterError(
          'ADAPTER',
          'rds',
          'replicationLag',
          `${idOf(region)} in ${region} is not a read replica`,
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
          `replication of ${idOf(region)} is ${broken.Status}${broken.Message === undefined ? '' : `: ${broken.Message}`}`,
        )
      }
    },
    lagMetric: (region) => ({
      MetricName: 'ReplicaLag',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: idOf(region) }],
      scale: 1000,
    }),
    snapshotBase: idOf,
    async snapshot(region, id, ctx) {
      await call(
        region,
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: idOf(region),
          DBSnapshotIdentifier: id,
        }),
        'CreateDBSnapshot',
        ctx,
      )
      if (!env.waitForSnapshot) return
      await pollUntil(
        async () => {
          const out = await call<{ DBSnapshots?: { Status?: string }[] }>(
            region,
            new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }),
            'DescribeDBSnapshots',
            ctx,
          )
          return snapshotDone(id, out.DBSnapshots?.[0]?.Status)
        },
        wait(`snapshot ${id} available`, 'snapshot', ctx),
      )
    },
    async promote(region, graceful, ctx, lagOf): Promise<Promotion> {
      const db = await instance(region, ctx)
      const source = db.ReadReplicaSourceDBInstanceIdentifier
      if (source === undefined) {
        // Already standalone: a promotion that already happened (a retried step).
        return { region, promotedAt: Date.now(), ...(graceful ? { lost: { ms: 0 } } : {}) }
      }
      let lostMs: number | undefined
      if (graceful) {
        const from = [...ids].find(
          ([r, id]) => r !== region && (source === id || source.endsWith(`:db:${id}`)),
        )?.[0]
        if (from === undefined) {
          throw new ConfigError(
            'instances',
            `the source ${source} of ${idOf(region)} is not a configured instance`,
          )
        }
        const primary = await instance(from, ctx)
        if (primary.DBInstanceStatus !== 'available') {
          throw new AwsAdapterError(
            'ADAPTER',
            'rds',
            'promote',
            `a graceful promotion needs a reachable, available primary; ${idOf(from)} is ${primary.DBInstanceStatus}`,
          )
        }
        await pollUntil(
          async () => (await lagOf(region, ctx)) <= env.catchUpLagMs,
          wait(`replica ${idOf(region)} catching up to ${env.catchUpLagMs} ms`, 'promote', ctx),
        )
        lostMs = 0
      } else {
        lostMs = await lagOf(region, ctx).catch(() => undefined)
      }
      await call(
        region,
        new PromoteReadReplicaCommand({
          DBInstanceIdentifier: idOf(region),
          ...(env.backupRetentionDays === undefined
            ? {}
            : { BackupRetentionPeriod: env.backupRetentionDays }),
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
        wait(`${idOf(region)} available as a standalone instance`, 'PromoteReadReplica', ctx),
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
    },
    async stop(region, ctx) {
      await call(
        region,
        new StopDBInstanceCommand({ DBInstanceIdentifier: idOf(region) }),
        'StopDBInstance',
        ctx,
      )
    },
  }
}

/** True once a snapshot is `available`; `ADAPTER` if it failed. */
export function snapshotDone(id: string, status: string | undefined): boolean {
  if (status === 'failed' || status === 'error') {
    throw new AwsAdapterError('ADAPTER', 'rds', 'snapshot', `snapshot ${id} ${status}`)
  }
  return status === 'available'
}
