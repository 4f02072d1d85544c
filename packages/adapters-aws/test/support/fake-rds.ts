/**
 * RDS and CloudWatch behind aws-sdk-client-mock'ed clients, one pair per
 * region, following the request/response contract of the calls the adapter
 * makes: DescribeDBInstances (DBInstanceNotFound for an unknown id),
 * PromoteReadReplica (InvalidDBInstanceState for an instance that is not a
 * replica; the instance is `modifying` for a few polls, then `available`
 * and standalone), CreateDBSnapshot / DescribeDBSnapshots (`creating`, then
 * `available`; DBSnapshotAlreadyExists), AddTagsToResource, StopDBInstance,
 * the Aurora global cluster calls (SwitchoverGlobalCluster synchronises
 * the target first; FailoverGlobalCluster needs AllowDataLoss or
 * Switchover; a FailoverState while in progress), cluster snapshots, and
 * CloudWatch GetMetricStatistics for ReplicaLag (seconds) and
 * AuroraGlobalDBReplicationLag (ms).
 *
 * A region can be made unreachable (every call fails as a refused
 * connection); faults (an error, or `hang`) are queued per operation.
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch'
import {
  AddTagsToResourceCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  InvalidDBInstanceStateFault,
  InvalidGlobalClusterStateFault,
  PromoteReadReplicaCommand,
  RDSClient,
  StopDBInstanceCommand,
  SwitchoverGlobalClusterCommand,
} from '@aws-sdk/client-rds'
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock'

export type Fault = Error | 'hang'

const credentials = { accessKeyId: 'x', secretAccessKey: 'y' }

export function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  })
}

export function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' })
}

export interface FakeInstance {
  id: string
  region: string
  status: string
  /** ARN of the source instance while a replica. */
  source?: string | undefined
  tags: { Key?: string; Value?: string }[]
  /** Polls left while `modifying` after a promotion. */
  settling: number
  replication?: string | undefined
}

export interface FakeCluster {
  arn: string
  region: string
  status: string
}

export interface FakeRds {
  readonly regions: readonly string[]
  readonly clients: Record<string, RDSClient>
  readonly cloudWatch: Record<string, CloudWatchClient>
  /** The aws-sdk-client-mock stub of each region's RDS client (recorded calls). */
  readonly mocks: Record<string, AwsClientStub<RDSClient>>
  readonly instances: Map<string, FakeInstance>
  readonly clusters: Map<string, FakeCluster>
  /** The writer cluster ARN of the global cluster. */
  global:
    | {
        id: string
        writer: string
        failover?: { to: string; polls: number; dataLoss: boolean } | undefined
      }
    | undefined
  /** Replica lag (ms) per region; decays by `catchUpPerPoll` on each metric read. */
  readonly lagMs: Map<string, number>
  catchUpPerPoll: number
  /** No datapoints at all (CloudWatch has nothing for the window). */
  noDatapoints: boolean
  readonly snapshots: Map<string, { status: string; polls: number }>
  readonly down: Set<string>
  readonly faults: Record<string, Fault[]>
  /** Every call: `region Operation`. */
  readonly calls: string[]
  /** Polls a promotion, switchover or snapshot takes. */
  settlePolls: number
}

const arnOf = (region: string, id: string) => `arn:aws:rds:${region}:123456789012:db:${id}`
export const clusterArn = (region: string, id: string) =>
  `arn:aws:rds:${region}:123456789012:cluster:${id}`

export function createFakeRds(regions: readonly string[]): FakeRds {
  const fake: FakeRds = {
    regions,
    clients: {},
    cloudWatch: {},
    mocks: {},
    instances: new Map(),
    clusters: new Map(),
    global: undefined,
    lagMs: new Map(),
    catchUpPerPoll: 1_000,
    noDatapoints: false,
    snapshots: new Map(),
    down: new Set(),
    faults: {},
    calls: [],
    settlePolls: 2,
  }
  for (const region of regions) {
    const client = new RDSClient({ region, credentials })
    const cw = new CloudWatchClient({ region, credentials })
    fake.clients[region] = client
    fake.cloudWatch[region] = cw
    const mock = mockClient(client)
    fake.mocks[region] = mock
    wire(fake, region, mock, mockClient(cw))
  }
  return fake
}

/** An instance in `primary` with a cross-region replica in `replica`. */
export function instancePair(
  fake: FakeRds,
  primary: string,
  replica: string,
): Record<string, string> {
  fake.instances.set('orders', {
    id: 'orders',
    region: primary,
    status: 'available',
    tags: [],
    settling: 0,
  })
  fake.instances.set('orders-replica', {
    id: 'orders-replica',
    region: replica,
    status: 'available',
    source: arnOf(primary, 'orders'),
    tags: [],
    settling: 0,
    replication: 'replicating',
  })
  fake.lagMs.set(replica, 0)
  return { [primary]: 'orders', [replica]: 'orders-replica' }
}

/** An Aurora global database with the writer in `primary`. */
export function globalPair(
  fake: FakeRds,
  primary: string,
  replica: string,
): Record<string, string> {
  const a = clusterArn(primary, 'orders-a')
  const b = clusterArn(replica, 'orders-b')
  fake.clusters.set(a, { arn: a, region: primary, status: 'available' })
  fake.clusters.set(b, { arn: b, region: replica, status: 'available' })
  fake.global = { id: 'orders-global', writer: a }
  fake.lagMs.set(replica, 0)
  return { [primary]: a, [replica]: b }
}

function wire(
  fake: FakeRds,
  region: string,
  rds: AwsClientStub<RDSClient>,
  cw: AwsClientStub<CloudWatchClient>,
): void {
  const enter = async (op: string): Promise<void> => {
    fake.calls.push(`${region} ${op}`)
    if (fake.down.has(region)) throw connectionRefused()
    const next = fake.faults[op]?.shift()
    if (next === 'hang') await new Promise(() => undefined)
    if (next !== undefined) throw next
  }
  const inRegion = (id: string | undefined): FakeInstance => {
    const found = fake.instances.get(id ?? '')
    if (found === undefined || found.region !== region) {
      throw new DBInstanceNotFoundFault({
        message: `DBInstance ${id} not found.`,
        $metadata: { httpStatusCode: 404 },
      })
    }
    return found
  }
  const describe = (i: FakeInstance): DBInstance => {
    const replicas = [...fake.instances.values()]
      .filter((r) => r.source === arnOf(i.region, i.id))
      .map((r) => arnOf(r.region, r.id))
    return {
      DBInstanceIdentifier: i.id,
      DBInstanceArn: arnOf(i.region, i.id),
      DBInstanceStatus: i.status,
      Endpoint: { Address: `${i.id}.abc.${i.region}.rds.amazonaws.com`, Port: 5432 },
      ...(i.source === undefined
        ? {}
        : {
            ReadReplicaSourceDBInstanceIdentifier: i.source,
            StatusInfos: [
              {
                StatusType: 'read replication',
                Status: i.replication,
                Normal: i.replication === 'replicating',
              },
            ],
          }),
      ReadReplicaDBInstanceIdentifiers: replicas,
      TagList: structuredClone(i.tags),
    }
  }
  rds.on(DescribeDBInstancesCommand).callsFake(async (input) => {
    await enter('DescribeDBInstances')
    const i = inRegion(input.DBInstanceIdentifier)
    if (i.settling > 0 && --i.settling === 0) {
      i.status = 'available'
      i.source = undefined
      i.replication = undefined
    }
    return { DBInstances: [describe(i)] }
  })
  rds.on(PromoteReadReplicaCommand).callsFake(async (input) => {
    await enter('PromoteReadReplica')
    const i = inRegion(input.DBInstanceIdentifier)
    if (i.source === undefined || i.settling > 0) {
      throw new InvalidDBInstanceStateFault({
        message: `DB Instance is not a read replica.`,
        $metadata: { httpStatusCode: 400 },
      })
    }
    i.status = 'modifying'
    i.settling = fake.settlePolls
    return { DBInstance: describe(i) }
  })
  rds.on(AddTagsToResourceCommand).callsFake(async (input) => {
    await enter('AddTagsToResource')
    const i = [...fake.instances.values()].find((x) => arnOf(x.region, x.id) === input.ResourceName)
    if (i === undefined) throw new DBInstanceNotFoundFault({ message: 'not found', $metadata: {} })
    for (const tag of input.Tags ?? []) {
      i.tags = i.tags.filter((t) => t.Key !== tag.Key).concat(tag)
    }
    return {}
  })
  rds.on(StopDBInstanceCommand).callsFake(async (input) => {
    await enter('StopDBInstance')
    const i = inRegion(input.DBInstanceIdentifier)
    if (i.status !== 'available' || i.source !== undefined) {
      throw new InvalidDBInstanceStateFault({
        message: `Instance ${i.id} cannot be stopped`,
        $metadata: { httpStatusCode: 400 },
      })
    }
    i.status = 'stopping'
    return { DBInstance: describe(i) }
  })
  const createSnapshot = async (op: string, id: string | undefined) => {
    await enter(op)
    if (id === undefined || fake.snapshots.has(id)) {
      throw new DBSnapshotAlreadyExistsFault({
        message: `Snapshot ${id} already exists`,
        $metadata: { httpStatusCode: 400 },
      })
    }
    fake.snapshots.set(id, { status: 'creating', polls: fake.settlePolls })
  }
  const snapshotStatus = async (op: string, id: string | undefined): Promise<string> => {
    await enter(op)
    const s = fake.snapshots.get(id ?? '')
    if (s === undefined)
      throw Object.assign(new Error(`no snapshot ${id}`), {
        name: 'DBSnapshotNotFound',
        $metadata: { httpStatusCode: 404 },
      })
    if (s.status === 'creating' && --s.polls <= 0) s.status = 'available'
    return s.status
  }
  rds.on(CreateDBSnapshotCommand).callsFake(async (input) => {
    inRegion(input.DBInstanceIdentifier)
    await createSnapshot('CreateDBSnapshot', input.DBSnapshotIdentifier)
    return { DBSnapshot: { DBSnapshotIdentifier: input.DBSnapshotIdentifier, Status: 'creating' } }
  })
  rds.on(DescribeDBSnapshotsCommand).callsFake(async (input) => ({
    DBSnapshots: [
      {
        DBSnapshotIdentifier: input.DBSnapshotIdentifier,
        Status: await snapshotStatus('DescribeDBSnapshots', input.DBSnapshotIdentifier),
      },
    ],
  }))
  rds.on(CreateDBClusterSnapshotCommand).callsFake(async (input) => {
    await createSnapshot('CreateDBClusterSnapshot', input.DBClusterSnapshotIdentifier)
    return {
      DBClusterSnapshot: {
        DBClusterSnapshotIdentifier: input.DBClusterSnapshotIdentifier,
        Status: 'creating',
      },
    }
  })
  rds.on(DescribeDBClusterSnapshotsCommand).callsFake(async (input) => ({
    DBClusterSnapshots: [
      {
        Status: await snapshotStatus(
          'DescribeDBClusterSnapshots',
          input.DBClusterSnapshotIdentifier,
        ),
      },
    ],
  }))
  rds.on(DescribeDBClustersCommand).callsFake(async (input) => {
    await enter('DescribeDBClusters')
    const c = [...fake.clusters.values()].find(
      (x) =>
        x.region === region &&
        (x.arn.endsWith(`:cluster:${input.DBClusterIdentifier}`) ||
          x.arn === input.DBClusterIdentifier),
    )
    if (c === undefined)
      throw Object.assign(new Error('DBCluster not found'), {
        name: 'DBClusterNotFoundFault',
        $metadata: { httpStatusCode: 404 },
      })
    return {
      DBClusters: [
        {
          DBClusterArn: c.arn,
          Status: c.status,
          Endpoint: `${c.arn.split(':cluster:')[1]}.cluster-abc.${c.region}.rds.amazonaws.com`,
          Port: 5432,
        },
      ],
    }
  })
  const globalOf = (id: string | undefined) => {
    const g = fake.global
    if (g === undefined || g.id !== id)
      throw Object.assign(new Error(`GlobalCluster ${id} not found`), {
        name: 'GlobalClusterNotFoundFault',
        $metadata: { httpStatusCode: 404 },
      })
    return g
  }
  rds.on(DescribeGlobalClustersCommand).callsFake(async (input) => {
    await enter('DescribeGlobalClusters')
    const g = globalOf(input.GlobalClusterIdentifier)
    if (g.failover !== undefined && --g.failover.polls <= 0) {
      g.writer = g.failover.to
      g.failover = undefined
    }
    return {
      GlobalClusters: [
        {
          GlobalClusterIdentifier: g.id,
          Status: g.failover === undefined ? 'available' : 'modifying',
          GlobalClusterMembers: [...fake.clusters.values()].map((c) => ({
            DBClusterArn: c.arn,
            IsWriter: c.arn === g.writer,
          })),
          ...(g.failover === undefined
            ? {}
            : {
                FailoverState: {
                  Status: 'failing-over' as const,
                  FromDbClusterArn: g.writer,
                  ToDbClusterArn: g.failover.to,
                  IsDataLossAllowed: g.failover.dataLoss,
                },
              }),
        },
      ],
    }
  })
  const startFailover = (
    input: { GlobalClusterIdentifier?: string; TargetDbClusterIdentifier?: string },
    dataLoss: boolean,
  ) => {
    const g = globalOf(input.GlobalClusterIdentifier)
    const to = fake.clusters.get(input.TargetDbClusterIdentifier ?? '')
    if (to === undefined || g.failover !== undefined || g.writer === to.arn) {
      throw new InvalidGlobalClusterStateFault({
        message: `cannot fail over ${g.id} to ${input.TargetDbClusterIdentifier}`,
        $metadata: { httpStatusCode: 400 },
      })
    }
    // A switchover synchronises the secondary before it becomes the writer.
    if (!dataLoss) fake.lagMs.set(to.region, 0)
    g.failover = { to: to.arn, polls: fake.settlePolls, dataLoss }
    return { GlobalCluster: { GlobalClusterIdentifier: g.id } }
  }
  rds.on(SwitchoverGlobalClusterCommand).callsFake(async (input) => {
    await enter('SwitchoverGlobalCluster')
    return startFailover(input, false)
  })
  rds.on(FailoverGlobalClusterCommand).callsFake(async (input) => {
    await enter('FailoverGlobalCluster')
    if (input.AllowDataLoss !== true && input.Switchover !== true) {
      throw Object.assign(new Error('Specify AllowDataLoss or Switchover'), {
        name: 'InvalidParameterCombination',
        $metadata: { httpStatusCode: 400 },
      })
    }
    return startFailover(input, input.AllowDataLoss === true)
  })
  cw.on(GetMetricStatisticsCommand).callsFake(async (input) => {
    await enter('GetMetricStatistics')
    if (
      input.Namespace !== 'AWS/RDS' ||
      !['ReplicaLag', 'AuroraGlobalDBReplicationLag'].includes(input.MetricName ?? '')
    ) {
      return { Label: input.MetricName, Datapoints: [] }
    }
    if (fake.noDatapoints || input.StartTime === undefined || input.EndTime === undefined)
      return { Datapoints: [] }
    const ms = fake.lagMs.get(region) ?? 0
    fake.lagMs.set(region, Math.max(0, ms - fake.catchUpPerPoll))
    const value = input.MetricName === 'ReplicaLag' ? ms / 1000 : ms
    const end = input.EndTime.getTime()
    return {
      Label: input.MetricName,
      Datapoints: [
        { Timestamp: new Date(end - 120_000), Maximum: value + 7, Unit: 'Seconds' as const },
        { Timestamp: new Date(end - 60_000), Maximum: value, Unit: 'Seconds' as const },
      ],
    }
  })
}
