import { describeTrafficRouter } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { DNS } from '@google-cloud/dns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorAuthClient } from '../src/_clients.js'
import {
  type CloudDnsRouter,
  type CloudDnsRouterOptions,
  createCloudDnsRouter,
} from '../src/cloud-dns-router.js'
import { type CloudDnsServer, startCloudDnsServer } from './support/cloud-dns-server.js'

let server: CloudDnsServer
beforeAll(async () => {
  server = await startCloudDnsServer()
})
afterAll(async () => {
  await server?.stop()
})

let zones = 0
const weighted: CloudDnsRouterOptions['policy'] = {
  kind: 'weighted',
  regions: {
    'europe-west1': { rrdatas: ['203.0.113.10'] },
    'us-east1': { rrdatas: ['198.51.100.7', '198.51.100.8'] },
  },
}
const primaryBackup: CloudDnsRouterOptions['policy'] = {
  kind: 'primary-backup',
  primary: 'europe-west1',
  primaryTargets: { externalEndpoints: ['203.0.113.10'] },
  backup: 'us-east1',
  backupTarget: { location: 'us-east1', rrdatas: ['198.51.100.7'] },
}

const router = (
  policy: CloudDnsRouterOptions['policy'] = weighted,
  extra: Partial<CloudDnsRouterOptions> = {},
): CloudDnsRouter =>
  createCloudDnsRouter({
    projectId: 'baton-test',
    endpoint: server.host,
    zone: `zone-${++zones}`,
    name: 'api.example.com.',
    policy,
    pollMs: 5,
    ...extra,
  })

describeTrafficRouter('cloud dns, weighted round robin (local HTTPS endpoint)', {
  create: async () => ({ router: router(), regions: ['europe-west1', 'us-east1'] }),
  dispose: async (f) => (f.router as CloudDnsRouter).close(),
})

describeTrafficRouter('cloud dns, primary-backup (local HTTPS endpoint)', {
  create: async () => ({ router: router(primaryBackup), regions: ['europe-west1', 'us-east1'] }),
  dispose: async (f) => (f.router as CloudDnsRouter).close(),
})

describeTrafficRouter('cloud dns, weighted, fenced by epoch (local HTTPS endpoint)', {
  checksEpoch: true,
  create: async () => ({
    router: router(weighted, { fencing: true }),
    regions: ['europe-west1', 'us-east1'],
  }),
  dispose: async (f) => (f.router as CloudDnsRouter).close(),
})

describe('cloud dns router', () => {
  it('fences atomically: racing epochs leave the newest one in place, the older refused or first', async () => {
    for (let round = 0; round < 5; round++) {
      const zone = `fence-${round}-${++zones}`
      const make = () =>
        createCloudDnsRouter({
          projectId: 'baton-test',
          endpoint: server.host,
          zone,
          name: 'api.example.com.',
          policy: weighted,
          fencing: true,
          pollMs: 5,
        })
      const [older, newer] = [make(), make()]
      const before = server.refused()
      // Both writers read the record set and the fence before either change lands.
      server.gatherReads(4)
      const results = await Promise.allSettled([
        older.setWeights({ 'europe-west1': 100, 'us-east1': 0 }, { epoch: 4 }),
        newer.setWeights({ 'europe-west1': 0, 'us-east1': 100 }, { epoch: 5 }),
      ])
      expect(results[1]!.status).toBe('fulfilled')
      if (results[0]!.status === 'rejected')
        expect(isBatonError(results[0]!.reason, 'FENCED')).toBe(true)
      expect(await newer.getWeights({ epoch: 5 })).toEqual({ 'europe-west1': 0, 'us-east1': 100 })
      const fence = server.rrsets(zone).find((r) => r.type === 'TXT')
      expect(fence?.rrdatas).toEqual(['"baton-epoch=5"'])
      // The loser's change was refused (409/412), and it read again.
      expect(server.refused() - before).toBeGreaterThanOrEqual(1)
      const late = await older
        .setWeights({ 'europe-west1': 100 }, { epoch: 4 })
        .catch((e: unknown) => e)
      expect(isBatonError(late, 'FENCED')).toBe(true)
    }
  })

  it('reads a plain record set as all traffic to its region, and refuses a foreign one with GCP_CORRUPT', async () => {
    const r = router()
    const zone = r.name.split(':')[1]!.split('/')[0]!
    server.put(zone, {
      name: 'api.example.com.',
      type: 'A',
      ttl: 300,
      rrdatas: ['198.51.100.8', '198.51.100.7'],
    })
    expect(await r.getWeights({ epoch: 1 })).toEqual({ 'europe-west1': 0, 'us-east1': 100 })
    const other = router()
    const otherZone = other.name.split(':')[1]!.split('/')[0]!
    server.put(otherZone, {
      name: 'api.example.com.',
      type: 'A',
      ttl: 300,
      routingPolicy: { wrr: { items: [{ weight: 1, rrdatas: ['192.0.2.99'] }] } },
    })
    const error = await other.getWeights({ epoch: 1 }).catch((e: unknown) => e)
    expect(isBatonError(error, 'GCP_CORRUPT'), String(error)).toBe(true)
    const lines = await other.describe({ 'us-east1': 100 })
    expect(lines.join('\n')).toContain('not one this router writes')
    // setWeights replaces it whole.
    await other.setWeights({ 'us-east1': 100 }, { epoch: 1 })
    expect(await other.getWeights({ epoch: 1 })).toEqual({ 'europe-west1': 0, 'us-east1': 100 })
    await r.close()
  })

  it('refuses a fence record it did not write with GCP_CORRUPT', async () => {
    const r = router(weighted, { fencing: true })
    const zone = r.name.split(':')[1]!.split('/')[0]!
    server.put(zone, {
      name: '_baton-fence.api.example.com.',
      type: 'TXT',
      ttl: 300,
      rrdatas: ['"hello"'],
    })
    const error = await r.setWeights({ 'us-east1': 1 }, { epoch: 9 }).catch((e: unknown) => e)
    expect(isBatonError(error, 'GCP_CORRUPT'), String(error)).toBe(true)
    await r.close()
  })

  it('writes a weighted round-robin policy and replaces exactly the record set it read', async () => {
    const r = router()
    const zone = r.name.split(':')[1]!.split('/')[0]!
    const first = await r.setWeights({ 'europe-west1': 100, 'us-east1': 0 }, { epoch: 1 })
    await r.waitInSync(first, { epoch: 1 })
    const second = await r.setWeights({ 'europe-west1': 30, 'us-east1': 70 }, { epoch: 1 })
    expect(second.weights).toEqual({ 'europe-west1': 30, 'us-east1': 70 })
    const last = server.changes.at(-1)!
    expect(last.deletions).toHaveLength(1)
    expect(last.deletions[0]!.routingPolicy).toEqual({
      wrr: {
        items: [
          { weight: 100, rrdatas: ['203.0.113.10'] },
          { weight: 0, rrdatas: ['198.51.100.7', '198.51.100.8'] },
        ],
      },
    })
    expect(server.rrsets(zone)).toHaveLength(1)
    expect(server.rrsets(zone)[0]!.routingPolicy).toEqual({
      wrr: {
        items: [
          { weight: 30, rrdatas: ['203.0.113.10'] },
          { weight: 70, rrdatas: ['198.51.100.7', '198.51.100.8'] },
        ],
      },
    })
    await r.close()
  })

  it('maps weights to trickle traffic in a primary-backup policy', async () => {
    const r = router(primaryBackup)
    const zone = r.name.split(':')[1]!.split('/')[0]!
    await r.setWeights({ 'europe-west1': 90, 'us-east1': 10 }, { epoch: 1 })
    const set = server.rrsets(zone)[0]!
    expect(set.routingPolicy).toEqual({
      primaryBackup: {
        primaryTargets: { externalEndpoints: ['203.0.113.10'] },
        backupGeoTargets: { items: [{ location: 'us-east1', rrdatas: ['198.51.100.7'] }] },
        trickleTraffic: 0.1,
      },
    })
    expect(await r.getWeights({ epoch: 1 })).toEqual({ 'europe-west1': 90, 'us-east1': 10 })
    const lines = await r.describe({ 'europe-west1': 0, 'us-east1': 100 })
    expect(lines.join('\n')).toContain('trickle traffic 1 to us-east1')
    expect(lines.join('\n')).toContain('europe-west1: weight 90 -> 0')
    await r.close()
  })

  it('fails with 412 rather than overwrite a record set someone else changed', async () => {
    const r = router()
    const zone = r.name.split(':')[1]!.split('/')[0]!
    server.put(zone, { name: 'api.example.com.', type: 'A', ttl: 300, rrdatas: ['192.0.2.1'] })
    // A concurrent editor: the set read is no longer the stored one when the change lands.
    const stale = { name: 'api.example.com.', type: 'A', ttl: 300, rrdatas: ['192.0.2.1'] }
    const dns = r.client
    await dns.zone(zone).createChange({
      delete: dns.zone(zone).record('a', { ...stale, data: stale.rrdatas } as never),
      add: dns.zone(zone).record('a', { name: stale.name, ttl: 300, data: ['192.0.2.2'] } as never),
    } as never)
    const replay = await dns
      .zone(zone)
      .createChange({
        delete: dns.zone(zone).record('a', { ...stale, data: stale.rrdatas } as never),
        add: dns
          .zone(zone)
          .record('a', { name: stale.name, ttl: 300, data: ['192.0.2.3'] } as never),
      } as never)
      .catch((e: unknown) => e)
    expect((replay as { code: number }).code).toBe(412)
    // The router reads first, so it replaces what is there now.
    await r.setWeights({ 'europe-west1': 1, 'us-east1': 1 }, { epoch: 1 })
    expect(server.rrsets(zone)).toHaveLength(1)
    await r.close()
  })

  it('waits through pending polls, and fails with DNS_CHANGE when a change does not end done', async () => {
    const r = router()
    server.pendingPolls = 3
    const before = server.requests.length
    const change = await r.setWeights({ 'europe-west1': 100, 'us-east1': 0 }, { epoch: 1 })
    await r.waitInSync(change, { epoch: 1 })
    expect(server.requests.slice(before).filter((q) => q.includes('/changes/'))).toHaveLength(4)
    server.endStatus = 'failed'
    const bad = await r.setWeights({ 'europe-west1': 0, 'us-east1': 100 }, { epoch: 1 })
    const error = await r.waitInSync(bad, { epoch: 1 }).catch((e: unknown) => e)
    expect(isBatonError(error, 'DNS_CHANGE'), String(error)).toBe(true)
    server.endStatus = 'done'
    server.pendingPolls = 2_000_000
    const slow = await r.setWeights({ 'europe-west1': 5, 'us-east1': 5 }, { epoch: 1 })
    const timeout = await createCloudDnsRouter({
      client: r.client,
      zone: r.name.split(':')[1]!.split('/')[0]!,
      name: 'api.example.com.',
      policy: weighted,
      pollMs: 5,
      syncTimeoutMs: 50,
    })
      .waitInSync(slow, { epoch: 1 })
      .catch((e: unknown) => e)
    expect(isBatonError(timeout, 'DNS_CHANGE'), String(timeout)).toBe(true)
    server.pendingPolls = 2
    await r.close()
  })

  it('aborts a wait in flight with ABORTED', async () => {
    const r = router(weighted, { pollMs: 1_000 })
    server.pendingPolls = 1_000
    const change = await r.setWeights({ 'europe-west1': 100, 'us-east1': 0 }, { epoch: 1 })
    const controller = new AbortController()
    const pending = r
      .waitInSync(change, { epoch: 1, signal: controller.signal })
      .catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort()
    expect(isBatonError(await pending, 'ABORTED')).toBe(true)
    server.pendingPolls = 2
    await r.close()
  })

  it('accepts a caller-built client', async () => {
    const dns = new DNS({
      projectId: 'baton-test',
      apiEndpoint: server.host,
      authClient: emulatorAuthClient() as never,
    })
    const r = createCloudDnsRouter({
      client: dns,
      zone: 'caller-zone',
      name: 'api.example.com.',
      policy: weighted,
      pollMs: 5,
    })
    expect(r.client).toBe(dns)
    const change = await r.setWeights({ 'us-east1': 100 }, { epoch: 1 })
    await r.waitInSync(change, { epoch: 1 })
    expect(await r.getWeights({ epoch: 1 })).toEqual({ 'europe-west1': 0, 'us-east1': 100 })
  })

  it('refuses bad options and weights with INVALID_CONFIG naming the field', async () => {
    for (const [options, field] of [
      [{ zone: 'Bad Zone' }, 'zone'],
      [{ name: 'no-final-dot.example.com' }, 'name'],
      [{ ttl: -1 }, 'ttl'],
      [{ fencing: 'yes' }, 'fencing'],
      [{ policy: { kind: 'geo' } }, 'policy.kind'],
      [
        { policy: { kind: 'weighted', regions: { a: { rrdatas: [] } } } },
        'policy.regions.a.rrdatas',
      ],
      [{ policy: { ...primaryBackup, backup: 'europe-west1' } }, 'policy.backup'],
    ] as const) {
      let error: unknown
      try {
        router(weighted, options as never)
      } catch (e) {
        error = e
      }
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
    const r = router()
    for (const [weights, field] of [
      [{ mars: 1 }, 'weights.mars'],
      [{ 'europe-west1': 0, 'us-east1': 0 }, 'weights'],
    ] as const) {
      const error = await r.setWeights(weights, { epoch: 1 }).catch((e: unknown) => e)
      expect((error as { path: string }).path).toBe(field)
    }
    await r.close()
  })
})
