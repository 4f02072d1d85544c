/**
 * A hosted zone behind an aws-sdk-client-mock'ed Route 53 client: the
 * request/response contract of ChangeResourceRecordSets (atomic batches,
 * UPSERT, InvalidChangeBatch for weights outside 0–255, two PRIMARY
 * failover records, or a record that does not exist for DELETE),
 * ListResourceRecordSets (sorted, paginated by `MaxItems`, with the Next*
 * fields), GetChange (PENDING for a few polls, then INSYNC) and
 * GetHealthCheckStatus. Faults are queued per operation.
 */
import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  GetChangeCommand,
  GetHealthCheckStatusCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  NoSuchHealthCheck,
  PriorRequestNotComplete,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53'
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock'

/** A queued fault: an error to throw, or `hang` (never answer). */
export type Fault = Error | 'hang'

/** Builds the error Route 53 answers when throttling. */
export function throttling(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  })
}

export function priorRequestNotComplete(): Error {
  return new PriorRequestNotComplete({
    message: 'The request was rejected because Route 53 was still processing a prior request.',
    $metadata: { httpStatusCode: 400 },
  })
}

export interface FakeRoute53 {
  readonly client: Route53Client
  readonly mock: AwsClientStub<Route53Client>
  readonly zone: string
  /** Record sets by `name|type|setIdentifier`. */
  readonly records: Map<string, ResourceRecordSet>
  /** Faults to raise, in order, per operation name. */
  readonly faults: Record<string, Fault[]>
  /** Every call: operation name. */
  readonly calls: string[]
  /** GetChange polls before a change is INSYNC. */
  pendingPolls: number
  /** Health check id → checker statuses. */
  readonly health: Map<string, string[]>
  /** Sets a health check to hang (never answer) when true. */
  hangHealth: boolean
}

const keyOf = (s: ResourceRecordSet) => `${s.Name}|${s.Type}|${s.SetIdentifier ?? ''}`

function invalid(messages: string[]): Error {
  return new InvalidChangeBatch({
    message: messages.join('; '),
    messages,
    $metadata: { httpStatusCode: 400 },
  })
}

export function createFakeRoute53(
  initial: ResourceRecordSet[],
  options: { zone?: string; pageSize?: number } = {},
): FakeRoute53 {
  const zone = options.zone ?? 'Z0FAKEZONE'
  const client = new Route53Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  })
  const mock = mockClient(client)
  const changes = new Map<string, number>()
  let nextChange = 1
  const fake: FakeRoute53 = {
    client,
    mock,
    zone,
    records: new Map(initial.map((s) => [keyOf(s), structuredClone(s)])),
    faults: {},
    calls: [],
    pendingPolls: 2,
    health: new Map(),
    hangHealth: false,
  }
  const fault = async (op: string): Promise<void> => {
    fake.calls.push(op)
    const next = fake.faults[op]?.shift()
    if (next === 'hang') await new Promise(() => undefined)
    if (next !== undefined) throw next
  }
  mock
    .on(ChangeResourceRecordSetsCommand)
    .callsFake(async (input: ChangeResourceRecordSetsCommandInput) => {
      await fault('ChangeResourceRecordSets')
      if (input.HostedZoneId !== zone) throw invalid([`No hosted zone ${input.HostedZoneId}`])
      const next = new Map(fake.records)
      const problems: string[] = []
      for (const change of input.ChangeBatch?.Changes ?? []) {
        const set = change.ResourceRecordSet!
        const key = keyOf(set)
        if (
          set.Weight !== undefined &&
          !(Number.isInteger(set.Weight) && set.Weight >= 0 && set.Weight <= 255)
        ) {
          problems.push(`Invalid weight ${set.Weight} for ${key}: must be 0-255`)
        }
        if (set.ResourceRecords === undefined && set.AliasTarget === undefined) {
          problems.push(`${key}: a record needs ResourceRecords or AliasTarget`)
        }
        if (change.Action === 'DELETE' && !next.has(key))
          problems.push(`Tried to delete ${key} but it was not found`)
        else if (change.Action === 'CREATE' && next.has(key))
          problems.push(`Tried to create ${key} but it already exists`)
        else if (change.Action === 'DELETE') next.delete(key)
        else next.set(key, structuredClone(set))
      }
      const primaries = [...next.values()].filter((s) => s.Failover === 'PRIMARY')
      if (primaries.length > 1)
        problems.push('Only one PRIMARY failover record is allowed per name and type')
      if (problems.length > 0) throw invalid(problems)
      fake.records.clear()
      for (const [k, v] of next) fake.records.set(k, v)
      const id = `/change/C${nextChange++}`
      changes.set(id, fake.pendingPolls)
      return { ChangeInfo: { Id: id, Status: 'PENDING', SubmittedAt: new Date() } }
    })
  mock
    .on(ListResourceRecordSetsCommand)
    .callsFake(async (input: ListResourceRecordSetsCommandInput) => {
      await fault('ListResourceRecordSets')
      const all = [...fake.records.values()].sort((a, b) =>
        `${a.Name}|${a.Type}|${a.SetIdentifier ?? ''}`.localeCompare(
          `${b.Name}|${b.Type}|${b.SetIdentifier ?? ''}`,
        ),
      )
      const startKey = `${input.StartRecordName ?? ''}|${input.StartRecordType ?? ''}|${input.StartRecordIdentifier ?? ''}`
      const from = all.filter((s) => keyOf(s).localeCompare(startKey) >= 0)
      const size = options.pageSize ?? 100
      const page = from.slice(0, size)
      const rest = from[size]
      return {
        ResourceRecordSets: structuredClone(page),
        IsTruncated: rest !== undefined,
        MaxItems: size,
        ...(rest === undefined
          ? {}
          : {
              NextRecordName: rest.Name,
              NextRecordType: rest.Type,
              ...(rest.SetIdentifier === undefined
                ? {}
                : { NextRecordIdentifier: rest.SetIdentifier }),
            }),
      }
    })
  mock.on(GetChangeCommand).callsFake(async (input: { Id?: string }) => {
    await fault('GetChange')
    const left = changes.get(input.Id ?? '')
    if (left === undefined)
      throw Object.assign(new Error(`No change ${input.Id}`), { name: 'NoSuchChange' })
    changes.set(input.Id!, left - 1)
    return {
      ChangeInfo: {
        Id: input.Id,
        Status: left <= 0 ? 'INSYNC' : 'PENDING',
        SubmittedAt: new Date(),
      },
    }
  })
  mock.on(GetHealthCheckStatusCommand).callsFake(async (input: { HealthCheckId?: string }) => {
    await fault('GetHealthCheckStatus')
    if (fake.hangHealth) await new Promise(() => undefined)
    const statuses = fake.health.get(input.HealthCheckId ?? '')
    if (statuses === undefined) {
      throw new NoSuchHealthCheck({
        message: `No health check ${input.HealthCheckId}`,
        $metadata: { httpStatusCode: 404 },
      })
    }
    return {
      HealthCheckObservations: statuses.map((Status, i) => ({
        Region: 'us-east-1',
        IPAddress: `15.177.0.${i}`,
        StatusReport: { Status, CheckedTime: new Date() },
      })),
    }
  })
  return fake
}

/** Weighted A records `api.example.com.` for the given SetIdentifiers, equal weights. */
export function weightedRecords(ids: readonly string[], weight = 128): ResourceRecordSet[] {
  return ids.map((id, i) => ({
    Name: 'api.example.com.',
    Type: 'A',
    SetIdentifier: id,
    Weight: weight,
    TTL: 60,
    ResourceRecords: [{ Value: `192.0.2.${i + 1}` }],
    HealthCheckId: `hc-${id}`,
  }))
}
