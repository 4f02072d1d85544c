import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53'
import { describeProbe, describeTrafficRouter } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  createRoute53Probe,
  createRoute53TrafficRouter,
  fromRoute53Weight,
  type Route53TrafficRouterOptions,
  toRoute53Weight,
} from '../src/index.js'
import {
  createFakeRoute53,
  type FakeRoute53,
  priorRequestNotComplete,
  throttling,
  weightedRecords,
} from './support/fake-route53.js'

const REGIONS = { 'us-east-1': 'use1', 'us-west-2': 'usw2' }
const fast = { pollIntervalMs: 1, retry: { baseDelayMs: 1, attemptTimeoutMs: 200 } }
const ctx = { epoch: 1 }

function weighted(fake: FakeRoute53, extra: Partial<Route53TrafficRouterOptions> = {}) {
  return createRoute53TrafficRouter({
    client: fake.client,
    hostedZoneId: fake.zone,
    recordName: 'api.example.com',
    regions: REGIONS,
    ...fast,
    ...extra,
  })
}

function failoverRecords(): ResourceRecordSet[] {
  return [
    { ...weightedRecords(['use1'])[0]!, Weight: undefined, Failover: 'PRIMARY' },
    { ...weightedRecords(['x', 'usw2'])[1]!, Weight: undefined, Failover: 'SECONDARY' },
  ] as ResourceRecordSet[]
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

describeTrafficRouter('Route 53 weighted records (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    return { router: weighted(fake), regions: Object.keys(REGIONS) }
  },
  checksEpoch: true,
})

describeTrafficRouter('Route 53 failover records (aws-sdk-client-mock)', {
  create: async () => {
    const fake = createFakeRoute53(failoverRecords())
    return { router: weighted(fake, { routing: 'failover' }), regions: Object.keys(REGIONS) }
  },
})

describeProbe<{ probe: ReturnType<typeof createRoute53Probe>; fake: FakeRoute53 }>(
  'Route 53 health check status (aws-sdk-client-mock)',
  {
    create: async () => {
      const fake = createFakeRoute53([])
      fake.health.set('hc-1', [
        'Success: HTTP Status Code 200, OK',
        'Success: HTTP Status Code 200, OK',
      ])
      const probe = createRoute53Probe({
        client: fake.client,
        healthCheckId: 'hc-1',
        region: 'us-east-1',
        retry: { baseDelayMs: 1 },
      })
      return { probe, fake }
    },
    unhealthy: async ({ fake }) => {
      fake.health.set('hc-1', ['Failure: Connection timed out.', 'Failure: Connection timed out.'])
    },
    healthy: async ({ fake }) => {
      fake.health.set('hc-1', ['Success: HTTP Status Code 200, OK', 'Failure: Connection refused'])
    },
    hang: async ({ fake }) => {
      fake.hangHealth = true
    },
  },
)

describe('Route 53 traffic router', () => {
  it('maps every integer percentage to a 0–255 weight and back exactly', () => {
    for (let p = 0; p <= 100; p++) {
      const w = toRoute53Weight(p)
      expect(Number.isInteger(w) && w >= 0 && w <= 255).toBe(true)
      expect(fromRoute53Weight(w)).toBe(p)
    }
    expect(toRoute53Weight(100)).toBe(255)
  })

  it('submits one UPSERT batch that keeps every other field of each record', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    const router = weighted(fake)
    const change = await router.setWeights({ 'us-east-1': 25, 'us-west-2': 75 }, ctx)
    const sent = fake.mock.commandCalls(ChangeResourceRecordSetsCommand)
    expect(sent).toHaveLength(1)
    const changes = sent[0]!.args[0].input.ChangeBatch!.Changes!
    expect(
      changes.map((c) => [
        c.Action,
        c.ResourceRecordSet!.SetIdentifier,
        c.ResourceRecordSet!.Weight,
      ]),
    ).toEqual([
      ['UPSERT', 'use1', 64],
      ['UPSERT', 'usw2', 191],
    ])
    expect(changes[0]!.ResourceRecordSet).toMatchObject({
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
      HealthCheckId: 'hc-use1',
    })
    expect(change.weights).toEqual({ 'us-east-1': 25, 'us-west-2': 75 })
    await router.waitInSync(change, ctx)
    expect(fake.calls.filter((c) => c === 'GetChange').length).toBe(3) // PENDING, PENDING, INSYNC
    expect(await router.getWeights(ctx)).toEqual({ 'us-east-1': 25, 'us-west-2': 75 })
  })

  it('retries throttling, PriorRequestNotComplete and a hung request, then succeeds', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    fake.faults.ChangeResourceRecordSets = [throttling(), priorRequestNotComplete(), 'hang']
    fake.faults.GetChange = [throttling()]
    const router = weighted(fake)
    const change = await router.setWeights({ 'us-west-2': 100 }, ctx)
    await router.waitInSync(change, ctx)
    expect(fake.calls.filter((c) => c === 'ChangeResourceRecordSets')).toHaveLength(4)
    expect(await router.getWeights(ctx)).toEqual({ 'us-east-1': 0, 'us-west-2': 100 })
  })

  it('gives up after its attempts with ADAPTER naming the AWS code', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    fake.faults.ChangeResourceRecordSets = Array.from({ length: 5 }, () =>
      priorRequestNotComplete(),
    )
    const router = weighted(fake, { retry: { maxAttempts: 3, baseDelayMs: 1 } })
    const error = await errorOf(router.setWeights({ 'us-west-2': 100 }, ctx))
    expect(isBatonError(error, 'ADAPTER')).toBe(true)
    expect(error).toMatchObject({
      awsCode: 'PriorRequestNotComplete',
      operation: 'ChangeResourceRecordSets',
    })
    expect(fake.calls.filter((c) => c === 'ChangeResourceRecordSets')).toHaveLength(3)
  })

  it('does not retry InvalidChangeBatch: the error carries Route 53’s messages and nothing changes', async () => {
    const records = weightedRecords(['use1', 'usw2'])
    delete (records[1] as { ResourceRecords?: unknown }).ResourceRecords
    const fake = createFakeRoute53(records)
    const router = weighted(fake)
    const before = await router.getWeights(ctx)
    const error = await errorOf(router.setWeights({ 'us-east-1': 100 }, ctx))
    expect(isBatonError(error, 'ADAPTER')).toBe(true)
    expect(error).toMatchObject({ awsCode: 'InvalidChangeBatch' })
    expect(String((error as Error).message)).toContain('needs ResourceRecords or AliasTarget')
    expect(fake.calls.filter((c) => c === 'ChangeResourceRecordSets')).toHaveLength(1)
    expect(await router.getWeights(ctx)).toEqual(before)
  })

  it('times out waiting for INSYNC with TIMEOUT, and stops at once when aborted', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    fake.pendingPolls = 1_000_000
    const router = weighted(fake, { pollIntervalMs: 5, syncTimeoutMs: 50 })
    const change = await router.setWeights({ 'us-west-2': 100 }, ctx)
    expect(isBatonError(await errorOf(router.waitInSync(change, ctx)), 'TIMEOUT')).toBe(true)
    const slow = weighted(fake, { pollIntervalMs: 60_000 })
    const controller = new AbortController()
    const waiting = errorOf(slow.waitInSync(change, { epoch: 1, signal: controller.signal }))
    setTimeout(() => controller.abort(), 20)
    const started = Date.now()
    expect(isBatonError(await waiting, 'ABORTED')).toBe(true)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('describes the change batch in words, making no change', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    const router = weighted(fake)
    const lines = await router.describe({ 'us-east-1': 0, 'us-west-2': 100 })
    expect(lines.join('\n')).toContain('SetIdentifier=use1 (us-east-1): weight 128 → 0 (50% → 0%)')
    expect(lines.join('\n')).toContain(
      'SetIdentifier=usw2 (us-west-2): weight 128 → 255 (50% → 100%)',
    )
    expect(fake.mock.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0)
    expect((await router.describe({})).join('\n')).toContain('All weights are 0')
  })

  it('pages through ListResourceRecordSets past other records', async () => {
    const others: ResourceRecordSet[] = Array.from({ length: 7 }, (_, i) => ({
      Name: 'api.example.com.',
      Type: 'A',
      SetIdentifier: `aaa${i}`,
      Weight: 1,
      TTL: 60,
      ResourceRecords: [{ Value: '198.51.100.1' }],
    }))
    const after: ResourceRecordSet = {
      Name: 'www.example.com.',
      Type: 'A',
      TTL: 60,
      ResourceRecords: [{ Value: '1.1.1.1' }],
    }
    const fake = createFakeRoute53([...others, ...weightedRecords(['use1', 'usw2']), after], {
      pageSize: 2,
    })
    const router = weighted(fake)
    expect(await router.getWeights(ctx)).toEqual({ 'us-east-1': 50, 'us-west-2': 50 })
    expect(fake.calls.filter((c) => c === 'ListResourceRecordSets').length).toBeGreaterThan(3)
  })

  it('refuses bad weights and configuration with INVALID_CONFIG naming the field', async () => {
    const fake = createFakeRoute53(weightedRecords(['use1', 'usw2']))
    const router = weighted(fake)
    for (const [weights, path] of [
      [{ 'eu-west-1': 10 }, 'weights.eu-west-1'],
      [{ 'us-east-1': 101 }, 'weights.us-east-1'],
      [{ 'us-east-1': '50' }, 'weights.us-east-1'],
    ] as const) {
      const error = await errorOf(router.setWeights(weights as never, ctx))
      expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
      expect((error as { path?: string }).path).toBe(path)
    }
    const missing = createFakeRoute53(weightedRecords(['use1']))
    const error = await errorOf(weighted(missing).getWeights(ctx))
    expect((error as { path?: string }).path).toBe('regions.us-west-2')
    expect(() =>
      createRoute53TrafficRouter({ hostedZoneId: '', recordName: 'x', regions: REGIONS }),
    ).toThrow(/hostedZoneId/)
    const failover = createFakeRoute53(failoverRecords())
    const split = await errorOf(
      weighted(failover, { routing: 'failover' }).setWeights(
        { 'us-east-1': 50, 'us-west-2': 50 },
        ctx,
      ),
    )
    expect((split as { path?: string }).path).toBe('weights')
  })

  it('moves a failover pair by swapping PRIMARY and SECONDARY in one batch', async () => {
    const fake = createFakeRoute53(failoverRecords())
    const router = weighted(fake, { routing: 'failover' })
    expect(await router.getWeights(ctx)).toEqual({ 'us-east-1': 100, 'us-west-2': 0 })
    await router.setWeights({ 'us-west-2': 100 }, ctx)
    const changes = fake.mock.commandCalls(ChangeResourceRecordSetsCommand)[0]!.args[0].input
      .ChangeBatch!.Changes!
    expect(changes.map((c) => c.ResourceRecordSet!.Failover)).toEqual(['SECONDARY', 'PRIMARY'])
    expect(await router.getWeights(ctx)).toEqual({ 'us-east-1': 0, 'us-west-2': 100 })
  })
})

describe('Route 53 probe', () => {
  it('follows Route 53’s rule: healthy when more than 18% of checkers report success', async () => {
    const fake = createFakeRoute53([])
    const probe = createRoute53Probe({ client: fake.client, healthCheckId: 'hc', region: 'r' })
    fake.health.set('hc', [
      ...Array(9).fill('Failure: timeout'),
      'Success: HTTP Status Code 200, OK',
    ])
    const low = await probe.check(ctx)
    expect(low).toMatchObject({ ok: false, region: 'r' })
    expect(low.error).toContain('1/10 checkers healthy')
    fake.health.set('hc', [...Array(8).fill('Failure: timeout'), ...Array(2).fill('Success: 200')])
    expect((await probe.check(ctx)).ok).toBe(true)
  })

  it('reports a missing health check or a throttled API as ok: false, never a throw', async () => {
    const fake = createFakeRoute53([])
    const probe = createRoute53Probe({
      client: fake.client,
      healthCheckId: 'nope',
      region: 'r',
      retry: { baseDelayMs: 1 },
    })
    const missing = await probe.check(ctx)
    expect(missing.ok).toBe(false)
    expect(missing.error).toContain('NoSuchHealthCheck')
    fake.health.set('nope', ['Success: 200'])
    fake.faults.GetHealthCheckStatus = [throttling(), throttling()]
    const throttled = await probe.check(ctx)
    expect(throttled.ok).toBe(false)
    expect(throttled.error).toContain('Throttling')
    expect(() =>
      createRoute53Probe({ healthCheckId: 'x', region: 'r', healthyFraction: 2 }),
    ).toThrow(/healthyFraction/)
  })
})
