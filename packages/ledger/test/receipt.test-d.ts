import { describe, expectTypeOf, it } from 'vitest'
import {
  createLedger,
  createMemoryStore,
  isBatonError,
  type JsonObject,
  type Receipt,
  type StoredReceipt,
} from '../src/index.js'

interface FailoverCompleted {
  from: string
  to: string
  rtoMs: number
}

describe('receipt types', () => {
  it('keeps the type and data of what was appended', async () => {
    const ledger = createLedger({ store: createMemoryStore() })
    const r = await ledger.append({
      type: 'failover.completed',
      data: { from: 'eu-west-1', to: 'eu-central-1', rtoMs: 1200 } satisfies FailoverCompleted,
    })
    expectTypeOf(r.type).toEqualTypeOf<'failover.completed'>()
    expectTypeOf(r.data.rtoMs).toEqualTypeOf<number>()
    expectTypeOf(r.hash).toEqualTypeOf<string>()
    expectTypeOf(r).toMatchTypeOf<Receipt<'failover.completed', FailoverCompleted>>()
  })

  it('defaults to JSON objects', () => {
    expectTypeOf<StoredReceipt['data']>().toEqualTypeOf<JsonObject>()
    expectTypeOf<Receipt['v']>().toEqualTypeOf<1>()
  })

  it('narrows errors by code', () => {
    const e: unknown = new Error('x')
    if (isBatonError(e, 'CONFLICT', 'IO')) expectTypeOf(e.code).toEqualTypeOf<'CONFLICT' | 'IO'>()
  })

  it('rejects appends without type or data', () => {
    const ledger = createLedger({ store: createMemoryStore() })
    // @ts-expect-error data is required
    void ledger.append({ type: 'a.b' })
    // @ts-expect-error type must be a string
    void ledger.append({ type: 1, data: {} })
  })
})
