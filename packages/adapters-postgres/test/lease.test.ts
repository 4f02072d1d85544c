import { describeLease } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createPostgresLease, type PostgresLease } from '../src/index.js'
import { sharedServer, uniqueName } from './support/server.js'

const server = sharedServer()

describeLease<{ lease: PostgresLease; extra: PostgresLease[] }>('PostgresLease', {
  ttlMs: 1_000,
  expiryMarginMs: 300,
  async create() {
    const lease = await createPostgresLease({
      connectionString: server.url(),
      lease: uniqueName('lease'),
    })
    return { lease, extra: [] }
  },
  // A second client on its own pool: races are real races between connections.
  async connect(fixture) {
    const other = await createPostgresLease({
      connectionString: server.url(),
      lease: fixture.lease.lease,
    })
    fixture.extra.push(other)
    return other
  },
  async dispose(fixture) {
    for (const l of [fixture.lease, ...fixture.extra]) await l.close()
  },
})

describe('PostgresLease', () => {
  it('keeps one holder when many clients on separate pools race, and epochs never repeat', async () => {
    const name = uniqueName('race')
    const clients = await Promise.all(
      Array.from({ length: 6 }, () =>
        createPostgresLease({ connectionString: server.url(), lease: name }),
      ),
    )
    try {
      const seen = new Set<number>()
      for (let round = 0; round < 5; round++) {
        const grants = await Promise.all(clients.map((c, i) => c.acquire(`h${i}`, 60_000)))
        const winners = grants.filter((g) => g !== undefined)
        expect(winners).toHaveLength(1)
        expect(seen.has(winners[0]!.epoch)).toBe(false)
        seen.add(winners[0]!.epoch)
        await clients[0]!.release(winners[0]!)
      }
    } finally {
      for (const c of clients) await c.close()
    }
  })

  it('keeps the epoch in the row: a new client after release and expiry gets a higher one', async () => {
    const name = uniqueName('persist')
    const a = await createPostgresLease({ connectionString: server.url(), lease: name })
    const g = await a.acquire('alpha', 60_000)
    await a.release(g!)
    await a.close()
    const b = await createPostgresLease({ connectionString: server.url(), lease: name })
    try {
      const g2 = await b.acquire('beta', 60_000)
      expect(g2!.epoch).toBeGreaterThan(g!.epoch)
      const rows = await server.cluster.query<{ epoch: string }>(
        'SELECT epoch::text AS epoch FROM baton_leases WHERE name = $1',
        [name],
      )
      expect(Number(rows[0]!.epoch)).toBe(g2!.epoch)
    } finally {
      await b.close()
    }
  })

  it('names the bad option', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ connectionString: server.url(), table: 'x;drop' }, 'table'],
      [{ connectionString: server.url(), lease: '' }, 'lease'],
      [{}, 'connectionString'],
    ]
    for (const [options, path] of cases) {
      const error = await createPostgresLease(options as never).catch((e) => e)
      expect((error as { path?: string }).path, String(error)).toBe(path)
    }
    const lease = await createPostgresLease({
      connectionString: server.url(),
      lease: uniqueName('bad'),
    })
    try {
      for (const [holder, ttl, path] of [
        ['', 1000, 'holder'],
        ['a', 0, 'ttlMs'],
        ['a', Number.NaN, 'ttlMs'],
      ] as const) {
        const error = await lease.acquire(holder, ttl).catch((e) => e)
        expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
        expect((error as { path?: string }).path).toBe(path)
      }
    } finally {
      await lease.close()
    }
  })

  it('reports ADAPTER when the server is unreachable', async () => {
    const error = await createPostgresLease({
      connectionString: 'postgres://postgres@127.0.0.1:1/postgres',
      connectTimeoutMs: 1_000,
    }).catch((e) => e)
    expect(isBatonError(error, 'ADAPTER'), String(error)).toBe(true)
  })
})
