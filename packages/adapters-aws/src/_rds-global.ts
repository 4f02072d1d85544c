/**
 * The `aurora-global` shape of the RDS database: an Aurora global database
 * with one member cluster per region. Graceful promotion is
 * `SwitchoverGlobalCluster`, ungraceful `FailoverGlobalCluster` with
 * `AllowDataLoss`; both wait until the target is the writer and no
 * failover is in progress. The calls go to the target region, which is up
 * when the old primary's is not.
 *
 * @internal
 * @module
 */
import {
  CreateDBClusterSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds'
import type { CallContext, Promotion, RegionId } from '@baton/core'
import { type ModeEnv, pollUntil, type RdsMode } from './_rds.js'
import { snapshotDone } from './_rds-instance.js'
import { AwsAdapterError } from './errors.js'

/** The `aurora-global` mode over `env.ids` (region → member cluster ARN). */
export function globalMode(env: ModeEnv, globalId: string): RdsMode {
  const { ids, call } = env
  const clusterIdOf = (region: RegionId): string => ids.get(region)!.split(':cluster:')[1]!
  const describe = async (region: RegionId, ctx?: CallContext): Promise<GlobalCluster> => {
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
    return [...ids].find(([, a]) => a === arn)?.[0]
  }
  const wait = (what: string, operation: string, ctx: CallContext) => ({
    what,
    operation,
    pollMs: env.pollMs,
    timeoutMs: env.waitMs,
    signal: ctx.signal,
  })

  return {
    name: `rds-global:${globalId}`,
    async primaryRegion(ctx) {
      const errors: unknown[] = []
      for (const region of ids.keys()) {
        try {
          const writer = writerRegion(await describe(region, ctx))
          if (writer !== undefined) return writer
        } catch (error) {
          errors.push(error)
        }
      }
      throw new AwsAdapterError('ADAPTER', 'rds', 'primaryRegion', `no writer in ${globalId}`, {
        cause: errors[0],
      })
    },
    async target(region, ctx) {
      const out = await call<{
        DBClusters?: { Status?: string; Endpoint?: string; Port?: number }[]
      }>(
        region,
        new DescribeDBClustersCommand({ DBClusterIdentifier: ids.get(region)! }),
        'DescribeDBClusters',
        ctx,
      )
      const cluster = out.DBClusters?.[0]
      const isWriter = writerRegion(await describe(region, ctx)) === region
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
    },
    async checkReplica() {},
    lagMetric: (region) => ({
      MetricName: 'AuroraGlobalDBReplicationLag',
      Dimensions: [{ Name: 'DBClusterIdentifier', Value: clusterIdOf(region) }],
      scale: 1,
    }),
    snapshotBase: clusterIdOf,
    async snapshot(region, id, ctx) {
      await call(
        region,
        new CreateDBClusterSnapshotCommand({
          DBClusterIdentifier: clusterIdOf(region),
          DBClusterSnapshotIdentifier: id,
        }),
        'CreateDBClusterSnapshot',
        ctx,
      )
      if (!env.waitForSnapshot) return
      await pollUntil(
        async () => {
          const out = await call<{ DBClusterSnapshots?: { Status?: string }[] }>(
            region,
            new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
            'DescribeDBClusterSnapshots',
            ctx,
          )
          return snapshotDone(id, out.DBClusterSnapshots?.[0]?.Status)
        },
        wait(`snapshot ${id} available`, 'snapshot', ctx),
      )
    },
    async promote(region, graceful, ctx, lagOf): Promise<Promotion> {
      const before = await describe(region, ctx)
      if (writerRegion(before) === region && before.FailoverState === undefined) {
        return { region, promotedAt: Date.now(), ...(graceful ? { lost: { ms: 0 } } : {}) }
      }
      const lostMs = graceful ? 0 : await lagOf(region, ctx).catch(() => undefined)
      const input = {
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: ids.get(region)!,
      }
      const operation = graceful ? 'SwitchoverGlobalCluster' : 'FailoverGlobalCluster'
      await call(
        region,
        graceful
          ? new SwitchoverGlobalClusterCommand(input)
          : new FailoverGlobalClusterCommand({ ...input, AllowDataLoss: true }),
        operation,
        ctx,
      )
      await pollUntil(
        async () => {
          const now = await describe(region, ctx)
          return (
            writerRegion(now) === region &&
            now.FailoverState === undefined &&
            now.Status === 'available'
          )
        },
        wait(`${ids.get(region)} the writer of ${globalId}`, operation, ctx),
      )
      return {
        region,
        promotedAt: Date.now(),
        ...(lostMs === undefined ? {} : { lost: { ms: lostMs } }),
      }
    },
  }
}
