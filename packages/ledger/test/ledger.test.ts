import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConflictError, isBatonError, LedgerError } from '../src/errors.js'
import { openFileStore } from '../src/file-store.js'
import { ZERO_HASH } from '../src/hash.js'
import { createLedger } from '../src/ledger.js'
import { createMemoryStore } from '../src/memory-store.js'
import type { EncodedReceipt, LedgerStore } from '../src/store.js'
import { readStoreChain } from '../src/testing/index.js'

const dirs: string[] = []
const opened: LedgerStore[] = []

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

type StoreFactory = () => Promise<LedgerStore>

const factories: [string, StoreFactory][] = [
  ['MemoryStore', async () => createMemoryStore()],
  [
    'FileStore',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'baton-ledger-'))
      dirs.push(dir)
      return openFileStore(dir, { create: true })
    },
  ],
]

/** A store wrapper that records every append call and can inject failures before delegating. */
interface Spy extends LedgerStore {
  readonly batches: number[][]
  readonly conflicts: number
  /** Called before each append; may throw to fail it, or write part of it first. */
  before: ((entries: readonly EncodedReceipt[], inner: LedgerStore) => Promise<void>) | undefined
  /** Highest seq + 1 durably written, updated when an append resolves. */
  readonly durable: number
}

function spy(inner: LedgerStore): Spy {
  const batches: number[][] = []
  let conflicts = 0
  let durable = 0
  const s: Spy = {
    location: inner.location,
    batches,
    get conflicts() {
      return conflicts
    },
    get durable() {
      return durable
    },
    before: undefined,
    head: () => inner.head(),
    async append(entries) {
      batches.push(entries.map((e) => e.seq))
      try {
        await s.before?.(entries, inner)
        await inner.append(entries)
      } catch (error) {
        if (isBatonError(error, 'CONFLICT')) conflicts++
        throw error
      }
      durable = Math.max(durable, entries.at(-1)!.seq + 1)
    },
    read: (from, to) => inner.read(from, to),
    close: () => inner.close(),
  }
  opened.push(inner)
  return s
}

function input(i: number) {
  return { type: 'test.ledger', data: { i } }
}

describe.each(factories)('Ledger over a %s', (_, make) => {
  it('group-commits concurrent appends into a few store calls, each receipt durable when it resolves', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    const early: number[] = []
    const receipts = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        ledger.append(input(i)).then((r) => {
          if (r.seq >= store.durable) early.push(r.seq)
          return r
        }),
      ),
    )
    expect(early).toEqual([])
    expect(store.batches.length).toBeLessThanOrEqual(10)
    expect(store.batches.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    for (const b of store.batches) expect(b).toEqual(b.map((_, k) => b[0]! + k))
    expect(new Set(receipts.map((r) => r.seq)).size).toBe(1000)
    const chain = await readStoreChain(store)
    expect(chain.map((c) => c.hash)).toEqual(
      [...receipts].sort((a, b) => a.seq - b.seq).map((r) => r.hash),
    )
    expect(receipts.map((r) => r.data.i)).toEqual(receipts.map((_, i) => i))
  })

  it('gathers closed-loop appenders into one batch per commit', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    // 50 callers, each appending 5 receipts one after another.
    const worker = async (w: number): Promise<void> => {
      for (let k = 0; k < 5; k++) await ledger.append(input(w * 10 + k))
    }
    await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)))
    expect(store.batches.map((b) => b.length)).toEqual([50, 50, 50, 50, 50])
  })

  it('keeps every batch within maxBatch', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store, maxBatch: 7 })
    await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.append(input(i))))
    expect(Math.max(...store.batches.map((b) => b.length))).toBeLessThanOrEqual(7)
    expect(store.batches.flat()).toHaveLength(100)
  })

  it('writes appendBatch as consecutive seqs in one store call', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    await ledger.append(input(-1))
    const receipts = await ledger.appendBatch(Array.from({ length: 50 }, (_, i) => input(i)))
    expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(store.batches).toEqual([[0], receipts.map((r) => r.seq)])
    for (let i = 1; i < receipts.length; i++) expect(receipts[i]!.prev).toBe(receipts[i - 1]!.hash)
  })

  it('retries after a conflict, rebuilding the batch on the new head', async () => {
    const store = spy(await make())
    const a = createLedger({ store })
    const b = createLedger({ store })
    const first = await a.append(input(0))
    const others = await b.appendBatch([input(1), input(2), input(3)])
    const next = await a.append(input(4))
    expect(store.conflicts).toBe(1)
    expect(next).toMatchObject({ seq: 4, prev: others[2]!.hash })
    expect(first).toMatchObject({ seq: 0, prev: ZERO_HASH })
    expect(await readStoreChain(store)).toHaveLength(5)
  })

  it('gives up with RETRIES_EXHAUSTED after maxRetries, leaving the store unchanged', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store, maxRetries: 3 })
    await ledger.append(input(0))
    const head = await store.head()
    store.before = async (entries) => {
      throw new ConflictError(entries[0]!.seq, 0)
    }
    const error = await ledger.appendBatch([input(1), input(2)]).catch((e: unknown) => e)
    expect(isBatonError(error, 'RETRIES_EXHAUSTED')).toBe(true)
    expect(store.batches).toHaveLength(5)
    expect(await store.head()).toEqual(head)
    store.before = undefined
    expect(await ledger.append(input(3))).toMatchObject({ seq: 1, prev: head.hash })
  })

  it('resumes after a conflict where part of the batch was committed, writing each receipt once', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    let once = true
    store.before = async (entries, inner) => {
      if (!once || entries.length < 4) return
      once = false
      await inner.append(entries.slice(0, 2))
      throw new ConflictError(entries[2]!.seq, 2)
    }
    const receipts = await ledger.appendBatch(Array.from({ length: 6 }, (_, i) => input(i)))
    expect(receipts.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5])
    const chain = await readStoreChain(store)
    expect(chain.map((c) => c.hash)).toEqual(receipts.map((r) => r.hash))
    expect(store.batches).toEqual([
      [0, 1, 2, 3, 4, 5],
      [2, 3, 4, 5],
    ])
  })

  it('rejects invalid input without writing, and without disturbing other appends', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    const results = await Promise.allSettled([
      ledger.append(input(0)),
      ledger.append({ type: 'Not A Type', data: {} }),
      ledger.append({ type: 'test.bad', data: { x: Number.NaN } }),
      ledger.append(input(1)),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled'])
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect(isBatonError(r.reason, 'INVALID_INPUT')).toBe(true)
    }
    expect(await readStoreChain(store)).toHaveLength(2)
  })

  it('rejects the callers of a batch that failed with IO, then continues from the real head', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    await ledger.append(input(0))
    store.before = async () => {
      store.before = undefined
      throw new LedgerError('IO', 'disk on fire')
    }
    const [failed, queued] = await Promise.allSettled([
      ledger.appendBatch([input(1), input(2)]),
      ledger.append(input(3)),
    ])
    expect(failed.status === 'rejected' && isBatonError(failed.reason, 'IO')).toBe(true)
    // Both calls were made in the same tick, so they shared the failed group commit.
    expect(queued.status === 'rejected' && isBatonError(queued.reason, 'IO')).toBe(true)
    // Nothing of that batch was written; the next append lands right after seq 0.
    const next = await ledger.append(input(4))
    expect(next.seq).toBe(1)
    expect(await readStoreChain(store)).toHaveLength(2)
  })

  it('reads back decoded receipts with read() and get()', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    const receipts = await ledger.appendBatch(Array.from({ length: 10 }, (_, i) => input(i)))
    const all = []
    for await (const r of ledger.read()) all.push(r)
    expect(all).toEqual(receipts)
    const some = []
    for await (const r of ledger.read({ from: 3, to: 6 })) some.push(r.seq)
    expect(some).toEqual([3, 4, 5])
    expect(await ledger.get(7)).toEqual(receipts[7])
    expect(await ledger.get(10)).toBeUndefined()
    expect(await ledger.head()).toEqual({ size: 10, hash: receipts[9]!.hash })
  })

  it('close waits for pending appends, then closes the store', async () => {
    const store = spy(await make())
    const ledger = createLedger({ store })
    const pending = Array.from({ length: 200 }, (_, i) => ledger.append(input(i)))
    await ledger.close()
    expect((await Promise.all(pending)).map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    )
    expect(await ledger.append(input(0)).catch((e: unknown) => isBatonError(e, 'CLOSED'))).toBe(
      true,
    )
    expect(await store.head().catch((e: unknown) => isBatonError(e, 'CLOSED'))).toBe(true)
  })
})

describe('Ledger over a FileStore shared with another instance', () => {
  it('retries when another instance appended, and keeps one chain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-ledger-'))
    dirs.push(dir)
    const one = spy(await openFileStore(dir, { create: true }))
    const two = spy(await openFileStore(dir))
    const a = createLedger({ store: one })
    const b = createLedger({ store: two })
    await a.append(input(0))
    await b.append(input(1))
    const r = await a.append(input(2))
    expect(one.conflicts).toBe(1)
    expect(r.seq).toBe(2)
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).append(input(i))),
    )
    const chain = await readStoreChain(two)
    expect(chain).toHaveLength(203)
    for (const x of results) expect(chain[x.seq]!.hash).toBe(x.hash)
  })
})
