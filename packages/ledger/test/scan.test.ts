import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newLineFields, scanLine, scanReceiptAt } from '../src/_scan.js'
import { canonicalize, envelopeText, ZERO_HASH } from '../src/index.js'
import { refParse } from './support/reference-verify.js'

const fields = newLineFields()
const ID = '019ab0c4-5e5f-7a3b-8c1d-123456789abc'
const TS = '2026-11-23T10:00:00.000Z'

function line(
  data: string,
  over: Partial<Record<'id' | 'ts' | 'type' | 'prev' | 'seq', string>> = {},
) {
  return Buffer.from(
    `{"data":${data},"id":"${over.id ?? ID}","prev":"${over.prev ?? ZERO_HASH}","seq":${over.seq ?? '0'},"ts":"${over.ts ?? TS}","type":"${over.type ?? 'a.b'}","v":1}`,
  )
}

function accepts(buf: Buffer): boolean {
  return scanLine(buf, 0, buf.length, fields)
}

const safeJson = fc.jsonValue({ maxDepth: 4 }).filter((v) => {
  let ok = true
  JSON.stringify(v, (_k, x) => {
    if (typeof x === 'number' && Math.abs(x) > Number.MAX_SAFE_INTEGER) ok = false
    return x
  })
  return ok
})
const dataArb = fc.dictionary(fc.string({ maxLength: 6 }), safeJson, { maxKeys: 5 })
const envelopeArb = fc.record({
  data: dataArb,
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  type: fc.constantFrom('a.b', 'failover.completed', 'x_1.y-2.z', 'step.0'),
  ts: fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
})

describe('scanLine', () => {
  it('accepts exactly the lines the reference accepts (random canonical receipts)', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const buf = Buffer.from(
          envelopeText(e.seq, ID, e.ts.toISOString(), e.type, ZERO_HASH, canonicalize(e.data)),
        )
        expect(accepts(buf)).toBe(true)
        expect(fields.seq).toBe(e.seq)
        expect(refParse(buf, 1)).not.toBeNull()
      }),
      { numRuns: 1500 },
    )
  })

  it('agrees with the reference on mutated lines', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip'), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({
        op: fc.constant('insert'),
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ op: fc.constant('delete'), at: fc.nat() }),
      fc.record({ op: fc.constant('cut'), at: fc.nat() }),
    )
    fc.assert(
      fc.property(envelopeArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (e, ms) => {
        let buf = Buffer.from(
          envelopeText(e.seq, ID, e.ts.toISOString(), e.type, ZERO_HASH, canonicalize(e.data)),
        )
        for (const m of ms) {
          const at = m.at % (buf.length + 1)
          if (m.op === 'flip' && at < buf.length) buf[at]! ^= m.mask
          if (m.op === 'insert')
            buf = Buffer.concat([buf.subarray(0, at), Buffer.from([m.byte]), buf.subarray(at)])
          if (m.op === 'delete' && at < buf.length)
            buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)])
          if (m.op === 'cut') buf = buf.subarray(0, at)
        }
        const ours = accepts(buf)
        const ref = refParse(buf, 1) !== null
        expect(ours, buf.toString('latin1')).toBe(ref)
      }),
      { numRuns: 5000 },
    )
  })

  it('agrees with the reference on hand-picked canonical and non-canonical data', () => {
    const cases = [
      '{}',
      '{"a":1}',
      '{"a":1,"a":2}',
      '{"b":1,"a":2}',
      '{"a":01}',
      '{"a":-0}',
      '{"a":1.0}',
      '{"a":1.50}',
      '{"a":1e21}',
      '{"a":1e+21}',
      '{"a":0.0000001}',
      '{"a":1e-7}',
      '{"a":0.000001}',
      '{"a":9007199254740991}',
      '{"a":9007199254740992}',
      '{"a":-9007199254740991}',
      '{"a":123456789012345.6}',
      '{"a":1E5}',
      '{"a":"\\u0041"}',
      '{"a":"\\u001f"}',
      '{"a":"\\u001F"}',
      '{"a":"\\u000a"}',
      '{"a":"\\n"}',
      '{"a":"\\/"}',
      '{"a":"\u007f"}',
      '{"a":"\\ud800"}',
      '{"a":"é"}',
      '{"\\n":1,"a":2}',
      '{"a":2,"\\n":1}',
      '{"\u00e9":1,"\uffff":2,"\ud83d\ude00":3}',
      '{"\u00e9":1,"\ud83d\ude00":3,"\uffff":2}',
      '{"a":[1,2,]}',
      '{"a":[]}',
      '{"a":{"b":{}}}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a": 1}',
      '[]',
      '"x"',
    ]
    for (const data of cases) {
      const buf = line(data)
      expect(accepts(buf), data).toBe(refParse(buf, 1) !== null)
    }
  })

  it('checks the envelope fields', () => {
    expect(accepts(line('{}'))).toBe(true)
    const bad: [Partial<Record<'id' | 'ts' | 'type' | 'prev' | 'seq', string>>, string][] = [
      [{ id: ID.replace('-7a3b', '-4a3b') }, 'version 7'],
      [{ id: ID.replace('-8c1d', '-cc1d') }, 'variant'],
      [{ id: ID.toUpperCase() }, 'lowercase UUID'],
      [{ ts: '2026-02-29T10:00:00.000Z' }, 'calendar'],
      [{ ts: '2026-11-23T24:00:00.000Z' }, 'RFC 3339'],
      [{ ts: '2026-11-23T10:00:00Z' }, 'RFC 3339'],
      [{ type: 'Failover.done' }, 'lowercase letter'],
      [{ type: 'failover' }, 'dotted'],
      [{ type: 'a..b' }, 'empty segment'],
      [{ type: 'a.b.' }, 'empty segment'],
      [{ type: 'a.b c' }, 'may only contain'],
      [{ prev: 'A'.repeat(64) }, 'hex'],
      [{ seq: '01' }, 'seq'],
      [{ seq: '-1' }, 'seq'],
      [{ seq: '9007199254740992' }, 'seq'],
    ]
    for (const [over, reason] of bad) {
      const buf = line('{}', over)
      expect(accepts(buf), JSON.stringify(over)).toBe(false)
      expect(fields.reason).toContain(reason)
      expect(refParse(buf, 1)).toBeNull()
    }
    expect(accepts(line('{}', { ts: '2024-02-29T23:59:59.999Z' }))).toBe(true)
  })

  it('finds the receipt end without knowing where the line ends', () => {
    const a = line('{"x":[1,"y"]}')
    const text = Buffer.concat([a, Buffer.from('\n'), a, Buffer.from('\n')])
    const end = scanReceiptAt(text, 0, text.length, fields)
    expect(end).toBe(a.length)
    expect(text[end]).toBe(10)
    expect(scanReceiptAt(text, a.length + 1, text.length, fields)).toBe(2 * a.length + 1)
  })
})
