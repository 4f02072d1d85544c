import { describe, expect, it } from 'vitest'
import { ZERO_HASH } from '../src/hash.js'
import { createMemoryStore } from '../src/memory-store.js'
import { describeLedgerStore } from '../src/testing/index.js'
import { anchoredFixture } from './support/anchors.js'

describeLedgerStore('MemoryStore', { create: async () => createMemoryStore() })

const { anchor } = await anchoredFixture(40, 37)
describeLedgerStore('MemoryStore (anchored at 37)', {
  create: async () => createMemoryStore({ anchor }),
  anchor,
})

describe('createMemoryStore', () => {
  it('names its location and counts receipts synchronously', async () => {
    const store = createMemoryStore({ name: 'drill' })
    expect(store.location).toBe('memory:drill')
    expect(createMemoryStore().location).toBe('memory:ledger')
    expect(store.size).toBe(0)
  })

  it('rejects a batch whose seqs are not consecutive, writing nothing', async () => {
    const store = createMemoryStore()
    const bytes = new Uint8Array([123, 125])
    await expect(
      store.append([
        { seq: 0, bytes, hash: '0'.repeat(64) },
        { seq: 2, bytes, hash: '0'.repeat(64) },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', path: 'entries[1].seq' })
    expect(store.size).toBe(0)
  })

  it('begins at an anchor, and refuses a bad one naming the field', async () => {
    const store = createMemoryStore({ anchor })
    expect(store.anchor).toEqual(anchor)
    expect(store.size).toBe(37)
    expect(await store.head()).toEqual({ size: 37, hash: anchor.prev })
    expect(() => createMemoryStore({ anchor: { ...anchor, seq: 0 } })).toThrow(/anchor\.seq/)
    expect(() =>
      createMemoryStore({ anchor: { ...anchor, range: anchor.range.slice(1) } }),
    ).toThrow(/anchor\.range: must be the 3 hex hashes/)
    expect(() => createMemoryStore({ anchor: { ...anchor, prev: ZERO_HASH } })).toThrow(
      /anchor\.prev: must equal the last hash of range/,
    )
    expect(() =>
      createMemoryStore({ anchor: { ...anchor, range: ['x', ...anchor.range.slice(1)] } }),
    ).toThrow(/anchor\.range\[0\]/)
  })
})
