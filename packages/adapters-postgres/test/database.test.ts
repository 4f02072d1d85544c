import { describeDatabase } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createPostgresDatabase, type PostgresDatabase } from '../src/index.js'
import { createLocalPair, type LocalPair } from '../src/testing/index.js'

interface Fixture {
  readonly database: PostgresDatabase
  readonly primary: string
  readonly replica: string
  readonly pair: LocalPair
}

async function fixture(synchronous = false): Promise<Fixture> {
  const pair = await createLocalPair({ synchronous, fsync: false })
  const database = createPostgresDatabase({
    regions: {
      east: { connectionString: pair.primary.url(), applicationName: pair.primary.name },
      west: { connectionString: pair.standby.url(), applicationName: pair.standby.name },
    },
    callTimeoutMs: 5_000,
  })
  return { database, primary: 'east', replica: 'west', pair }
}

async function dispose(f: Fixture): Promise<void> {
  await f.database.close()
  await f.pair.dispose()
}

describeDatabase<Fixture>('PostgresDatabase (primary + async streaming standby)', {
  create: () => fixture(),
  dispose,
  async write(f) {
    await f.pair.primary.query('CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, v text)')
    await f.pair.primary.query(
      "INSERT INTO orders (v) SELECT 'x' || g FROM generate_series(1, 500) g",
    )
  },
  unreachable: async (f) => f.pair.primary.stop('kill'),
  checksEpoch: true,
})

const count = async (f: Fixture, which: 'primary' | 'standby'): Promise<number> =>
  (await f.pair[which].query<{ n: number }>('SELECT count(*)::int AS n FROM orders'))[0]!.n

describe('PostgresDatabase', () => {
  it('measures lag in bytes while the standby has replay paused, and 0 once it caught up', async () => {
    const f = await fixture()
    try {
      await f.pair.primary.query('CREATE TABLE orders (id serial PRIMARY KEY, v text)')
      await f.pair.standby.query('SELECT pg_wal_replay_pause()')
      await f.pair.primary.query(
        "INSERT INTO orders (v) SELECT repeat('x', 200) FROM generate_series(1, 2000)",
      )
      let lag = await f.database.replicationLag('west', { epoch: 1 })
      for (let i = 0; i < 100 && (lag.lagBytes ?? 0) === 0; i++) {
        await new Promise((r) => setTimeout(r, 20))
        lag = await f.database.replicationLag('west', { epoch: 1 })
      }
      expect(lag.lagBytes).toBeGreaterThan(100_000)
      await f.pair.standby.query('SELECT pg_wal_replay_resume()')
      for (let i = 0; i < 200 && (lag.lagBytes ?? 1) > 0; i++) {
        await new Promise((r) => setTimeout(r, 25))
        lag = await f.database.replicationLag('west', { epoch: 1 })
      }
      expect(lag.lagBytes).toBe(0)
      expect(lag.lagMs).toBe(0)
      expect((await f.database.replicationLag('east', { epoch: 1 })).lagBytes).toBe(0)
    } finally {
      await dispose(f)
    }
  })

  it('estimates what an asynchronous standby lacks after the primary died, when watching replication', async () => {
    const pair = await createLocalPair({ fsync: false })
    const database = createPostgresDatabase({
      regions: {
        east: { connectionString: pair.primary.url(), applicationName: pair.primary.name },
        west: { connectionString: pair.standby.url(), applicationName: pair.standby.name },
      },
      watchIntervalMs: 50,
    })
    try {
      await pair.primary.query('CREATE TABLE orders (id serial PRIMARY KEY, v text)')
      await new Promise((r) => setTimeout(r, 200))
      await pair.standby.query("ALTER SYSTEM SET primary_conninfo = ''")
      await pair.standby.query('SELECT pg_reload_conf()')
      for (let i = 0; i < 100; i++) {
        const rows = await pair.primary.query(
          "SELECT 1 FROM pg_stat_replication WHERE application_name = 'standby'",
        )
        if (rows.length === 0) break
        await new Promise((r) => setTimeout(r, 50))
      }
      const cutAt = Date.now()
      while (Date.now() - cutAt < 500) {
        await pair.primary.query("INSERT INTO orders (v) VALUES ('lost')")
        await new Promise((r) => setTimeout(r, 10))
      }
      await new Promise((r) => setTimeout(r, 120))
      await pair.primary.stop('kill')
      const lag = await database.replicationLag('west', { epoch: 1 })
      expect(lag.lagBytes).toBeGreaterThan(0)
      expect(lag.lagMs).toBeGreaterThanOrEqual(300)
      expect(lag.lagMs).toBeLessThan(5_000)
    } finally {
      await database.close()
      await pair.dispose()
    }
  })

  it('switches over with zero data loss under a concurrent writer: row counts match, the old primary refuses writes', async () => {
    const f = await fixture()
    try {
      await f.pair.primary.query('CREATE TABLE orders (id serial PRIMARY KEY, v text)')
      const pool = f.database.pool('east')
      let committed = 0
      let stop = false
      const writer = (async () => {
        while (!stop) {
          try {
            await pool.query("INSERT INTO orders (v) VALUES ('w')")
            committed++
          } catch {
            await new Promise((r) => setTimeout(r, 5))
          }
        }
      })()
      while (committed < 200) await new Promise((r) => setTimeout(r, 10))
      const promotion = await f.database.promote('west', { graceful: true }, { epoch: 2 })
      stop = true
      await writer
      expect(promotion.lost).toEqual({ transactions: 0, ms: 0 })
      expect(await count(f, 'standby')).toBe(committed)
      expect(await count(f, 'primary')).toBe(committed)
      expect(await f.database.primaryRegion({ epoch: 2 })).toBe('west')
      const write = await f.pair.primary
        .query("INSERT INTO orders (v) VALUES ('late')")
        .catch((e) => e)
      expect(String(write)).toMatch(/read-only/)
      expect((await f.database.verifyWrites('east', { epoch: 2 })).ok).toBe(false)
      expect((await f.database.verifyWrites('west', { epoch: 2 })).ok).toBe(true)
      // A writer with the old epoch is fenced on the new primary.
      const stale = await f.database.verifyWrites('west', { epoch: 1 })
      expect(stale.ok).toBe(false)
      expect(stale.error).toMatch(/fencing epoch 1/)
    } finally {
      await dispose(f)
    }
  })

  it('loses nothing in a hard failover with a synchronous standby', async () => {
    const f = await fixture(true)
    try {
      await f.pair.primary.query('CREATE TABLE orders (id serial PRIMARY KEY, v text)')
      for (let i = 0; i < 100; i++)
        await f.pair.primary.query("INSERT INTO orders (v) VALUES ('s')")
      await f.pair.primary.stop('kill')
      expect(await f.database.fence('east', { epoch: 2 })).toEqual({
        fenced: false,
        reachable: false,
      })
      await f.database.promote('west', { graceful: false }, { epoch: 2 })
      expect(await count(f, 'standby')).toBe(100)
      expect(await f.database.primaryRegion({ epoch: 2 })).toBe('west')
    } finally {
      await dispose(f)
    }
  })

  it('fences a reachable primary read-only and stops it with `stop`; snapshots only the primary', async () => {
    const pair = await createLocalPair({ fsync: false })
    let stopped = 0
    const database = createPostgresDatabase({
      regions: {
        east: {
          connectionString: pair.primary.url(),
          applicationName: pair.primary.name,
          stop: async () => {
            stopped++
            await pair.primary.stop('fast')
          },
        },
        west: { connectionString: pair.standby.url(), applicationName: pair.standby.name },
      },
    })
    try {
      const snapshot = await database.snapshot('east', { epoch: 1 })
      expect(snapshot.id).toMatch(/^restore-point:baton-\d+-e1@[0-9A-F]+\/[0-9A-F]+$/)
      const onStandby = await database.snapshot('west', { epoch: 1 }).catch((e) => e)
      expect(isBatonError(onStandby, 'ADAPTER'), String(onStandby)).toBe(true)
      expect(await database.fence('west', { epoch: 1 })).toEqual({ fenced: true, reachable: true })
      expect(stopped).toBe(0)
      expect(await database.fence('east', { epoch: 1 })).toEqual({ fenced: true, reachable: true })
      expect(stopped).toBe(1)
      expect(pair.primary.running).toBe(false)
      expect(await database.fence('east', { epoch: 1 })).toEqual({
        fenced: false,
        reachable: false,
      })
    } finally {
      await database.close()
      await pair.dispose()
    }
  })

  it('refuses a graceful promotion without a reachable primary, and names bad options', async () => {
    const f = await fixture()
    try {
      await f.pair.primary.stop('kill')
      const error = await f.database
        .promote('west', { graceful: true }, { epoch: 1 })
        .catch((e) => e)
      expect(isBatonError(error, 'ADAPTER'), String(error)).toBe(true)
      expect(String(error)).toMatch(/reachable primary/)
      const unknown = await f.database.replicationLag('nowhere', { epoch: 1 }).catch((e) => e)
      expect((unknown as { path?: string }).path).toBe('region')
    } finally {
      await dispose(f)
    }
    for (const [options, path] of [
      [{ regions: { a: { connectionString: 'postgres://x@h/db' } } }, 'regions'],
      [
        { regions: { a: {}, b: { connectionString: 'postgres://x@h/db' } } },
        'regions.a.connectionString',
      ],
      [
        {
          regions: {
            a: { connectionString: 'postgres://x@h/db' },
            b: { connectionString: 'postgres://x@h/db' },
          },
          callTimeoutMs: -1,
        },
        'callTimeoutMs',
      ],
    ] as const) {
      const error = (() => {
        try {
          createPostgresDatabase(options as never)
        } catch (e) {
          return e
        }
      })()
      expect((error as { path?: string }).path, String(error)).toBe(path)
    }
  })
})
