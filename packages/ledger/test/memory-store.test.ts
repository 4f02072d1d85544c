import { describe, expect, it } from 'vitest'
import { createMemoryStore } from '../src/memory-store.js'
import { describeLedgerStore } from '../src/testing/index.js'

describeLedgerStore('MemoryStore', { create: async () => createMemoryStore() })

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
})
