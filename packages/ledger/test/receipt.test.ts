import { describe, expect, it } from 'vitest'
import {
  assertReceiptType,
  CorruptLedgerError,
  decodeReceipt,
  encodeReceipt,
  formatTimestamp,
  InvalidInputError,
  isReceiptId,
  isReceiptTimestamp,
  leafHash,
  newReceiptId,
  type Receipt,
  receiptHash,
  ZERO_HASH,
} from '../src/index.js'

const base: Receipt = {
  v: 1,
  seq: 0,
  id: '019ab0c4-5e5f-7a3b-8c1d-123456789abc',
  ts: '2026-11-23T10:00:00.000Z',
  type: 'failover.completed',
  data: { rtoMs: 1200, region: 'eu-west-1' },
  prev: ZERO_HASH,
}

describe('receipt envelope', () => {
  it('encodes the canonical bytes with keys in RFC 8785 order', () => {
    expect(encodeReceipt(base)).toBe(
      '{"data":{"region":"eu-west-1","rtoMs":1200},"id":"019ab0c4-5e5f-7a3b-8c1d-123456789abc","prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":0,"ts":"2026-11-23T10:00:00.000Z","type":"failover.completed","v":1}',
    )
  })

  it('hashes as SHA-256(0x00 ‖ canonical bytes)', () => {
    // Independently: sha256 of a single 0x00 byte followed by the text.
    const text = encodeReceipt(base)
    expect(receiptHash(base)).toBe(leafHash(text))
    expect(leafHash('')).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
  })

  it('round-trips through decode', () => {
    const text = encodeReceipt(base)
    expect(decodeReceipt(text)).toEqual(base)
    expect(decodeReceipt(Buffer.from(text))).toEqual(base)
  })

  it('ignores a hash property when encoding a stored receipt', () => {
    expect(encodeReceipt({ ...base, hash: 'ff' } as Receipt)).toBe(encodeReceipt(base))
  })

  it.each([
    [{ v: 2 }, 'v'],
    [{ seq: -1 }, 'seq'],
    [{ seq: 1.5 }, 'seq'],
    [{ id: 'not-a-uuid' }, 'id'],
    [{ id: '019ab0c4-5e5f-4a3b-8c1d-123456789abc' }, 'id'],
    [{ ts: '2026-11-23T10:00:00Z' }, 'ts'],
    [{ ts: '2026-13-01T00:00:00.000Z' }, 'ts'],
    [{ type: 'Bad' }, 'type'],
    [{ prev: 'abc' }, 'prev'],
    [{ seq: 0, prev: 'a'.repeat(64) }, 'prev'],
    [{ data: [] }, 'data'],
    [{ data: { x: { y: Number.NaN } } }, 'data.x.y'],
    [{ extra: 1 }, 'extra'],
  ] as [Partial<Receipt> & Record<string, unknown>, string][])(
    'refuses %o naming %s',
    (over, path) => {
      const e = (() => {
        try {
          encodeReceipt({ ...base, ...over } as Receipt)
        } catch (error) {
          return error
        }
      })()
      expect(e).toBeInstanceOf(InvalidInputError)
      expect((e as InvalidInputError).path).toBe(path)
    },
  )

  it('decode names what is wrong and where', () => {
    const bad = encodeReceipt(base).replace('"v":1', '"v":3')
    const e = (() => {
      try {
        decodeReceipt(bad, { file: 'seg.jsonl', line: 7 })
      } catch (error) {
        return error as CorruptLedgerError
      }
    })()
    expect(e).toBeInstanceOf(CorruptLedgerError)
    expect(e?.message).toMatch(/^seg\.jsonl:line 7: bad receipt: v: must be 1/)
    expect(() => decodeReceipt('{"data":{}')).toThrow(/not valid JSON/)
    expect(() => decodeReceipt(encodeReceipt(base).replace('{"region', '{ "region'))).toThrow(
      /not in canonical form/,
    )
  })

  it('validates types, timestamps and ids', () => {
    for (const ok of ['a.b', 'failover.completed', 'step.0', 'x_y.z-w.v']) {
      expect(() => assertReceiptType(ok)).not.toThrow()
    }
    for (const bad of ['', 'a', 'A.b', '1.a', 'a..b', '.a', 'a.', 'a.b!', `${'a'.repeat(127)}.b`]) {
      expect(() => assertReceiptType(bad), bad).toThrow(InvalidInputError)
    }
    expect(isReceiptTimestamp('2024-02-29T00:00:00.000Z')).toBe(true)
    expect(isReceiptTimestamp('2023-02-29T00:00:00.000Z')).toBe(false)
    expect(formatTimestamp(Date.UTC(2026, 10, 23, 9, 55))).toBe('2026-11-23T09:55:00.000Z')
    expect(() => formatTimestamp(1.5)).toThrow(InvalidInputError)
    expect(() => formatTimestamp(Date.UTC(10000, 0, 1))).toThrow(/outside years/)
    const a = newReceiptId(Date.UTC(2026, 0, 1))
    const b = newReceiptId(Date.UTC(2026, 0, 1))
    expect(isReceiptId(a) && isReceiptId(b)).toBe(true)
    expect(a < b).toBe(true)
  })
})
