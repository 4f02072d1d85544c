import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createAnchor,
  createLedger,
  createMemoryStore,
  isBatonError,
  type LedgerStore,
  verify,
} from '@baton/ledger'
import { describeLedgerStore, readStoreChain, spawnAppendWorker } from '@baton/ledger/testing'
import { describe, expect, it } from 'vitest'
import { openPostgresStore, type PostgresStore } from '../src/index.js'
import { sharedServer, uniqueName } from './support/server.js'

const server = sharedServer()
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const LEDGER_WORKER = fileURLToPath(new URL('../../ledger/dist/testing-worker.js', import.meta.url))

function requireDist(): void {
  for (const file of [DIST_INDEX, LEDGER_WORKER]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`)
  }
}

const open = (ledger: string, extra: Record<string, unknown> = {}): Promise<PostgresStore> =>
  openPostgresStore({ connectionString: server.url(), ledger, create: true, ...extra })

const workerArgs = (store: LedgerStore): unknown[] => {
  requireDist()
  const s = store as PostgresStore
  return [{ connectionString: server.url(), ledger: s.ledger }]
}

describeLedgerStore('PostgresStore', {
  create: () => open(uniqueName('conf')),
  reopen: (store) => open((store as PostgresStore).ledger),
  processes: {
    module: DIST_INDEX,
    exportName: 'openPostgresStore',
    args: workerArgs,
    workerPath: LEDGER_WORKER,
    workers: 4,
    receiptsPerWorker: 100,
  },
})

// An anchored ledger: the suite again, every store beginning at receipt 37.
const anchorSource = createMemoryStore()
const anchorLedger = createLedger({ store: anchorSource })
for (let i = 0; i < 40; i++) await anchorLedger.append({ type: 'test.anchor', data: { i } })
const anchor = await createAnchor(anchorSource, 37)

describeLedgerStore('PostgresStore (anchored)', {
  anchor,
  create: () => open(uniqueName('anch'), { anchor }),
  reopen: (store) =>
    openPostgresStore({ connectionString: server.url(), ledger: (store as PostgresStore).ledger }),
})

describe('PostgresStore', () => {
  it('refuses to open a missing ledger without create (NOT_FOUND), and a missing table too', async () => {
    const error = await openPostgresStore({
      connectionString: server.url(),
      ledger: uniqueName('missing'),
    }).catch((e) => e)
    expect(isBatonError(error, 'NOT_FOUND'), String(error)).toBe(true)
    const noTable = await openPostgresStore({
      connectionString: server.url(),
      table: 'no_such_table',
    }).catch((e) => e)
    expect(isBatonError(noTable, 'NOT_FOUND'), String(noTable)).toBe(true)
  })

  it('names the bad option', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ connectionString: server.url(), table: 'Robert"); DROP TABLE x;--' }, 'table'],
      [{ connectionString: server.url(), table: 'a.b.c' }, 'table'],
      [{ connectionString: server.url(), ledger: '' }, 'ledger'],
      [{ connectionString: server.url(), readBatch: 0 }, 'readBatch'],
      [{}, 'connectionString'],
      [{ connectionString: 'not a url' }, 'connectionString'],
      [{ connectionString: server.url(), anchor: { seq: 0 }, create: true }, 'anchor.seq'],
      [{ connectionString: server.url(), anchor }, 'anchor'],
    ]
    for (const [options, path] of cases) {
      const error = await openPostgresStore(options as never).catch((e) => e)
      expect(isBatonError(error), `${JSON.stringify(options)}: ${String(error)}`).toBe(true)
      expect((error as { path?: string }).path, String(error)).toBe(path)
    }
  })

  it('refuses an existing ledger with another anchor (ALREADY_EXISTS)', async () => {
    const name = uniqueName('anchor_mismatch')
    const first = await open(name)
    await first.close()
    const error = await open(name, { anchor }).catch((e) => e)
    expect(isBatonError(error, 'ALREADY_EXISTS'), String(error)).toBe(true)
  })

  it('reports IO, not a hang, when the server cannot be reached', async () => {
    const error = await openPostgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/postgres',
      connectTimeoutMs: 2_000,
    }).catch((e) => e)
    expect(isBatonError(error, 'IO'), String(error)).toBe(true)
  })

  it('stores the exact canonical bytes; verify finds a tampered row, a deleted row and a reordered pair', async () => {
    const store = await open(uniqueName('tamper'))
    try {
      const ledger = createLedger({ store })
      for (let i = 0; i < 20; i++)
        await ledger.append({ type: 'test.tamper', data: { i, text: 'é ü 😀' } })
      expect((await verify(store)).status).toBe('VERIFIED')
      const chain = await readStoreChain(store)
      const rows = await server.cluster.query<{ bytes: Buffer }>(
        'SELECT bytes FROM baton_receipts WHERE ledger = $1 ORDER BY seq',
        [store.ledger],
      )
      expect(rows.map((r) => Buffer.from(r.bytes).toString('utf8'))).toEqual(
        chain.map((c) => Buffer.from(c.bytes).toString('utf8')),
      )
      // Tamper with one receipt's data in place.
      await server.cluster.query(
        `UPDATE baton_receipts SET bytes = convert_to(replace(convert_from(bytes, 'UTF8'), '"i":7', '"i":8'), 'UTF8') WHERE ledger = $1 AND seq = 7`,
        [store.ledger],
      )
      const tampered = await verify(store)
      expect(tampered.status).not.toBe('VERIFIED')
      expect(JSON.stringify(tampered.problems)).toMatch(/7/)
      // Delete one: a gap.
      await server.cluster.query('DELETE FROM baton_receipts WHERE ledger = $1 AND seq = 12', [
        store.ledger,
      ])
      const gap = await verify(store)
      expect(gap.status).not.toBe('VERIFIED')
    } finally {
      await store.close()
    }
  })

  it('loses no acknowledged receipt when appending processes are SIGKILLed mid-append', async () => {
    requireDist()
    const store = await open(uniqueName('kill'))
    try {
      const workers = Array.from({ length: 3 }, (_, w) =>
        spawnAppendWorker(
          {
            module: DIST_INDEX,
            exportName: 'openPostgresStore',
            args: workerArgs(store),
            tag: `k${w}`,
          },
          { workerPath: LEDGER_WORKER, timeoutMs: 60_000 },
        ),
      )
      await Promise.all(workers.map((w, i) => w.waitForAcks(20 + i * 15)))
      for (const w of workers) w.kill('SIGKILL')
      await Promise.all(workers.map((w) => w.exited))
      const chain = await readStoreChain(store)
      const bySeq = new Map(chain.map((c) => [c.seq, c]))
      for (const w of workers) {
        for (const ack of w.acks) expect(bySeq.get(ack.seq)?.id, `ack ${ack.seq}`).toBe(ack.id)
      }
      expect((await verify(store)).status).toBe('VERIFIED')
      // The ledger goes on from its head.
      const next = await createLedger({ store }).append({ type: 'test.after', data: {} })
      expect(next.seq).toBe(chain.length)
    } finally {
      await store.close()
    }
  })

  it('keeps ledgers in one table apart', async () => {
    const a = await open(uniqueName('apart_a'))
    const b = await open(uniqueName('apart_b'))
    try {
      await createLedger({ store: a }).append({ type: 'test.a', data: {} })
      expect((await b.head()).size).toBe(0)
      expect((await a.head()).size).toBe(1)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('works with a pool the caller owns and leaves it open on close', async () => {
    const pg = (await import('pg')).default
    const pool = new pg.Pool({ connectionString: server.url(), max: 2 })
    try {
      const store = await openPostgresStore({ pool, ledger: uniqueName('pool'), create: true })
      await createLedger({ store }).append({ type: 'test.pool', data: {} })
      await store.close()
      expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 })
    } finally {
      await pool.end()
    }
  })
})
