import { FailoverGlobalClusterCommand, PromoteReadReplicaCommand } from '@aws-sdk/client-rds'
import { describeDatabase } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createRdsDatabase, type RdsDatabaseOptions } from '../src/index.js'
import {
  clusterArn,
  createFakeRds,
  type FakeRds,
  globalPair,
  instancePair,
  throttling,
} from './support/fake-rds.js'

const A = 'us-east-1'
const B = 'us-west-2'
const ctx = { epoch: 1 }
const fast = {
  pollIntervalMs: 1,
  waitTimeoutMs: 5_000,
  retry: { baseDelayMs: 1, maxAttempts: 3, attemptTimeoutMs: 200 },
}

function instanceDb(fake: FakeRds, extra: Partial<RdsDatabaseOptions> = {}) {
  return createRdsDatabase({
    instances: instancePair(fake, A, B),
    clients: fake.clients,
    cloudWatchClients: fake.cloudWatch,
    ...fast,
    ...extra,
  })
}

function globalDb(fake: FakeRds, extra: Partial<RdsDatabaseOptions> = {}) {
  return createRdsDatabase({
    mode: 'aurora-global',
    globalClusterId: 'orders-global',
    clusters: globalPair(fake, A, B),
    clients: fake.clients,
    cloudWatchClients: fake.cloudWatch,
    ...fast,
    ...extra,
  })
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

type Fixture = {
  database: ReturnType<typeof instanceDb>
  primary: string
  replica: string
  fake: FakeRds
}

describeDatabase<Fixture>('RDS instance + cross-region read replica (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeRds([A, B])
    return { database: instanceDb(fake), primary: A, replica: B, fake }
  },
  write: async (f) => void f.fake.lagMs.set(B, 3_000),
  unreachable: async (f, region) => void f.fake.down.add(region),
  checksEpoch: true,
  timeoutMs: 10_000,
})

describeDatabase<Fixture>(
  'RDS instance, lag measured on the replica, writes checked by the caller',
  {
    create: async () => {
      const fake = createFakeRds([A, B])
      const written = new Map<string, number>()
      const database = instanceDb(fake, {
        measureLag: async (t) => fake.lagMs.get(t.region) ?? 0,
        checkWrites: async (t) => {
          // Stands for "INSERT then SELECT at t.address:t.port": refused on a replica.
          const i = fake.instances.get(t.identifier)!
          if (i.source !== undefined)
            throw new Error('cannot execute INSERT in a read-only transaction')
          written.set(t.identifier, (written.get(t.identifier) ?? 0) + 1)
          return true
        },
      })
      return { database, primary: A, replica: B, fake }
    },
    unreachable: async (f, region) => void f.fake.down.add(region),
    checksEpoch: true,
    timeoutMs: 10_000,
  },
)

describeDatabase<Fixture>('Aurora global database (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeRds([A, B])
    return { database: globalDb(fake), primary: A, replica: B, fake }
  },
  write: async (f) => void f.fake.lagMs.set(B, 800),
  unreachable: async (f, region) => void f.fake.down.add(region),
  checksEpoch: true,
  timeoutMs: 10_000,
})

describe('RDS database', () => {
  it('reads ReplicaLag (seconds) from CloudWatch as ms, the latest datapoint', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.lagMs.set(B, 4_000)
    const lag = await db.replicationLag(B, ctx)
    expect(lag).toMatchObject({ region: B, lagMs: 4_000 })
    expect(fake.calls).toContain(`${B} GetMetricStatistics`)
  })

  it('refuses lag from a region without a replica, broken replication, or no datapoints', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    expect(await errorOf(db.replicationLag(A, ctx))).toMatchObject({
      code: 'ADAPTER',
      message: expect.stringMatching(/not a read replica/),
    })
    fake.noDatapoints = true
    expect(await errorOf(db.replicationLag(B, ctx))).toMatchObject({
      code: 'ADAPTER',
      message: expect.stringMatching(/no ReplicaLag of orders-replica datapoint/),
    })
    fake.noDatapoints = false
    fake.instances.get('orders-replica')!.replication = 'error'
    expect(await errorOf(db.replicationLag(B, ctx))).toMatchObject({
      code: 'ADAPTER',
      message: expect.stringMatching(/replication of orders-replica is error/),
    })
    const bad = instanceDb(createFakeRds([A, B]), { measureLag: async () => Number.NaN })
    expect(await errorOf(bad.replicationLag(B, ctx))).toMatchObject({
      code: 'ADAPTER',
      operation: 'measureLag',
    })
  })

  it('graceful: waits for the replica to catch up, promotes, tags it; primaryRegion follows the tag', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.lagMs.set(B, 2_500)
    const promotion = await db.promote(B, { graceful: true }, ctx)
    expect(promotion.lost).toEqual({ ms: 0 })
    const lagReads = fake.calls.filter((c) => c === `${B} GetMetricStatistics`).length
    expect(lagReads).toBeGreaterThanOrEqual(3)
    const promoteAt = fake.calls.indexOf(`${B} PromoteReadReplica`)
    expect(promoteAt).toBeGreaterThan(fake.calls.lastIndexOf(`${B} GetMetricStatistics`))
    expect(fake.instances.get('orders-replica')!.tags[0]).toMatchObject({
      Key: 'baton:promoted-at',
    })
    // Both instances are now standalone: the tag tells the primary.
    expect(fake.instances.get('orders')!.source).toBeUndefined()
    expect(await db.primaryRegion(ctx)).toBe(B)
  })

  it('graceful refuses when the primary is unreachable; ungraceful promotes and reports the lag as lost', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.lagMs.set(B, 5_000)
    fake.down.add(A)
    const refused = await errorOf(db.promote(B, { graceful: true }, ctx))
    expect(isBatonError(refused, 'ADAPTER')).toBe(true)
    expect(fake.calls).not.toContain(`${B} PromoteReadReplica`)
    const promotion = await db.promote(B, { graceful: false }, ctx)
    expect(promotion).toMatchObject({ region: B, lost: { ms: 5_000 } })
  })

  it('retries throttling and a hung call; does not retry InvalidDBInstanceState', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.faults.PromoteReadReplica = [throttling(), throttling()]
    fake.faults.DescribeDBInstances = ['hang']
    await db.promote(B, { graceful: false }, ctx)
    expect(fake.calls.filter((c) => c === `${B} PromoteReadReplica`)).toHaveLength(3)

    const fake2 = createFakeRds([A, B])
    const db2 = instanceDb(fake2)
    fake2.instances.get('orders-replica')!.status = 'storage-optimization'
    fake2.faults.PromoteReadReplica = [
      Object.assign(new Error('DB Instance is not in an available state'), {
        name: 'InvalidDBInstanceState',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    ]
    const error = await errorOf(db2.promote(B, { graceful: false }, ctx))
    expect(error).toMatchObject({
      code: 'ADAPTER',
      awsCode: 'InvalidDBInstanceState',
      operation: 'PromoteReadReplica',
    })
    expect(fake2.calls.filter((c) => c === `${B} PromoteReadReplica`)).toHaveLength(1)
  })

  it('gives up on throttling after maxAttempts with ADAPTER, and times out a promotion that never completes', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.faults.PromoteReadReplica = [throttling(), throttling(), throttling()]
    expect(await errorOf(db.promote(B, { graceful: false }, ctx))).toMatchObject({
      code: 'ADAPTER',
      awsCode: 'Throttling',
    })
    const slow = createFakeRds([A, B])
    slow.settlePolls = 1_000_000
    const db2 = instanceDb(slow, { waitTimeoutMs: 50, pollIntervalMs: 5 })
    expect(await errorOf(db2.promote(B, { graceful: false }, ctx))).toMatchObject({
      code: 'TIMEOUT',
      operation: 'PromoteReadReplica',
    })
  })

  it('aborts a wait in progress with ABORTED', async () => {
    const fake = createFakeRds([A, B])
    fake.settlePolls = 1_000_000
    const db = instanceDb(fake, { pollIntervalMs: 20 })
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('step timed out')), 60)
    expect(
      await errorOf(db.promote(B, { graceful: false }, { epoch: 1, signal: controller.signal })),
    ).toMatchObject({ code: 'ABORTED' })
  })

  it('snapshots with a valid identifier and waits until available', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake, { snapshotPrefix: 'final' })
    const { id } = await db.snapshot(A, ctx)
    expect(id).toMatch(/^final-orders-\d{14}-[0-9a-f]{4}$/)
    expect(fake.snapshots.get(id)?.status).toBe('available')
    expect(
      fake.calls.filter((c) => c === `${A} DescribeDBSnapshots`).length,
    ).toBeGreaterThanOrEqual(2)
  })

  it('verifyWrites: control plane without a check; the caller check gets the endpoint and can refuse', async () => {
    const fake = createFakeRds([A, B])
    expect((await instanceDb(fake).verifyWrites(B, ctx)).ok).toBe(false)
    const seen: unknown[] = []
    const db = instanceDb(createFakeRds([A, B]), {
      checkWrites: async (t) => {
        seen.push(t)
        return false
      },
    })
    const result = await db.verifyWrites(A, ctx)
    expect(result).toMatchObject({
      ok: false,
      error: expect.stringMatching(/checkWrites refused orders/),
    })
    expect(seen[0]).toEqual({
      region: A,
      identifier: 'orders',
      address: 'orders.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
    })
  })

  it('fences: a replica is read-only; fenceAction stop stops a standalone old primary', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake, { fenceAction: 'stop' })
    expect(await db.fence(B, ctx)).toEqual({ fenced: true, reachable: true })
    await db.promote(B, { graceful: false }, ctx)
    expect(await db.fence(A, ctx)).toEqual({ fenced: true, reachable: true })
    expect(fake.instances.get('orders')!.status).toBe('stopping')
    expect(await db.primaryRegion(ctx)).toBe(B)
  })

  it('primaryRegion: the instance with replicas among untagged standalones; ambiguous is ADAPTER', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    expect(await db.primaryRegion(ctx)).toBe(A)
    // Promoted outside baton (no tag): two standalone instances, neither with replicas.
    fake.instances.get('orders-replica')!.source = undefined
    const error = await errorOf(db.primaryRegion(ctx))
    expect(error).toMatchObject({
      code: 'ADAPTER',
      message: expect.stringMatching(/2 standalone instances and none tagged baton:promoted-at/),
    })
    fake.instances
      .get('orders')!
      .tags.push({ Key: 'baton:promoted-at', Value: '2026-01-01T00:00:00.000Z' })
    expect(await db.primaryRegion(ctx)).toBe(A)
  })

  it('fence: an unreachable region is reachable false, but a refusal (AccessDenied) is an error', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake)
    fake.faults.DescribeDBInstances = [
      Object.assign(new Error('Service unavailable'), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
      }),
      Object.assign(new Error('Service unavailable'), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
      }),
      Object.assign(new Error('Service unavailable'), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
      }),
    ]
    expect(await db.fence(A, ctx)).toEqual({ fenced: false, reachable: false })
    fake.faults.DescribeDBInstances = [
      Object.assign(new Error('not authorized to perform rds:DescribeDBInstances'), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    ]
    expect(await errorOf(db.fence(A, ctx))).toMatchObject({
      code: 'ADAPTER',
      awsCode: 'AccessDenied',
    })
    expect(await db.fence(A, ctx)).toEqual({ fenced: false, reachable: true })
  })

  it('Aurora: graceful is SwitchoverGlobalCluster, ungraceful FailoverGlobalCluster with AllowDataLoss', async () => {
    const fake = createFakeRds([A, B])
    const db = globalDb(fake)
    await db.promote(B, { graceful: true }, ctx)
    expect(fake.calls).toContain(`${B} SwitchoverGlobalCluster`)
    expect(await db.primaryRegion(ctx)).toBe(B)
    fake.lagMs.set(A, 900)
    const promotion = await db.promote(A, { graceful: false }, ctx)
    expect(promotion.lost).toEqual({ ms: 900 })
    expect(fake.calls).toContain(`${A} FailoverGlobalCluster`)
    expect(fake.mocks[A]!.commandCalls(FailoverGlobalClusterCommand)[0]!.args[0].input).toEqual({
      GlobalClusterIdentifier: 'orders-global',
      TargetDbClusterIdentifier: clusterArn(A, 'orders-a'),
      AllowDataLoss: true,
    })
    expect(fake.global!.writer).toBe(clusterArn(A, 'orders-a'))
    expect(await db.fence(B, ctx)).toEqual({ fenced: true, reachable: true })
  })

  it('refuses bad options and bad calls naming the field', () => {
    const fake = createFakeRds([A, B])
    const cases: [Partial<RdsDatabaseOptions>, string][] = [
      [{ instances: { [A]: 'orders' } }, 'instances'],
      [{ instances: { [A]: 'orders', [B]: '' } }, `instances.${B}`],
      [
        { mode: 'aurora-global', globalClusterId: 'g', clusters: { [A]: 'orders-a', [B]: 'x' } },
        `clusters.${A}`,
      ],
      [
        { mode: 'aurora-global', clusters: { [A]: clusterArn(A, 'a'), [B]: clusterArn(B, 'b') } },
        'globalClusterId',
      ],
      [{ mode: 'blue' as never }, 'mode'],
      [{ instances: { [A]: 'a', [B]: 'b' }, snapshotPrefix: '9x' }, 'snapshotPrefix'],
      [{ instances: { [A]: 'a', [B]: 'b' }, pollIntervalMs: -1 }, 'pollIntervalMs'],
      [{ instances: { [A]: 'a', [B]: 'b' }, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
      [{ instances: { [A]: 'a', [B]: 'b' }, fenceAction: 'kill' as never }, 'fenceAction'],
    ]
    for (const [opts, path] of cases) {
      let thrown: unknown
      try {
        createRdsDatabase({ clients: fake.clients, ...opts })
      } catch (e) {
        thrown = e
      }
      expect(thrown, path).toMatchObject({ code: 'INVALID_CONFIG', path })
    }
  })

  it('refuses an unknown region and a missing graceful flag with INVALID_CONFIG', async () => {
    const db = instanceDb(createFakeRds([A, B]))
    expect(await errorOf(db.promote('eu-west-1', { graceful: true }, ctx))).toMatchObject({
      code: 'INVALID_CONFIG',
      path: 'region',
    })
    expect(await errorOf(db.promote(B, {} as never, ctx))).toMatchObject({
      code: 'INVALID_CONFIG',
      path: 'options.graceful',
    })
  })

  it('sends PromoteReadReplica with the configured backup retention', async () => {
    const fake = createFakeRds([A, B])
    const db = instanceDb(fake, { backupRetentionDays: 7 })
    await db.promote(B, { graceful: false }, ctx)
    const sent = fake.mocks[B]!.commandCalls(PromoteReadReplicaCommand)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-replica',
      BackupRetentionPeriod: 7,
    })
  })
})
