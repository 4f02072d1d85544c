import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isHex64, type LineFields, newLineFields, scanLine, scanReceiptAt } from '../src/_scan.js'
import {
  acquireWasmScanner,
  setWasmScanEnabled,
  type WasmScanner,
  wasmScanAvailable,
} from '../src/_scan-wasm.js'
import {
  canonicalize,
  envelopeText,
  type JsonValue,
  type VerifyReport,
  verify,
  ZERO_HASH,
} from '../src/index.js'
import { buildLines, jsonl, sampleInput } from './support/ledgers.js'

const MAX_SAFE = Number.MAX_SAFE_INTEGER
/** Multiplies the property-test runs: `SCAN_WASM_FUZZ=100 vitest run …` for a long fuzzing session. */
const SCALE = Math.max(1, Number(process.env.SCAN_WASM_FUZZ ?? 1))
const ID = '019ab0c4-5e5f-7a3b-8c1d-123456789abc'
const TS = '2026-11-23T10:00:00.000Z'
const PREV = 'a'.repeat(64)
const enc = new TextEncoder()

let scanner: WasmScanner

beforeAll(() => {
  expect(
    wasmScanAvailable(),
    'WebAssembly SIMD must be available on the Node versions we test',
  ).toBe(true)
  scanner = acquireWasmScanner(1 << 16)!
})

afterAll(() => scanner.release())

type Fields = Omit<LineFields, 'reason' | 'errorAt'>

function pick(f: LineFields): Fields {
  const { reason: _r, errorAt: _e, ...rest } = f
  return rest
}

interface Outcome {
  /** What the WebAssembly scanner returned. */
  readonly wasm: number
  /** What `scanReceiptAt` returned. */
  readonly js: number
}

/**
 * Puts `bytes` at offset 1 of the scanner's memory (offset 0 holds a newline,
 * as in `verify`), followed by `tail` (what the memory holds past the limit),
 * scans `[1, 1 + limit)` with both scanners and checks that whenever the
 * WebAssembly scanner accepts, the JavaScript one accepts with the same end
 * offset and fields, and `scanLine` agrees up to the hex check of `prev`.
 */
function compare(
  bytes: Uint8Array,
  tail: Uint8Array = enc.encode('\n'),
  limit = bytes.length,
): Outcome {
  const buf = scanner.grow(1 + bytes.length + tail.length)
  buf[0] = 0x0a
  buf.set(bytes, 1)
  buf.set(tail, 1 + bytes.length)
  const lim = 1 + limit
  const wasm = scanner.scanAt(1, lim)
  const jsFields = newLineFields()
  const js = scanReceiptAt(buf, 1, lim, jsFields)
  if (wasm >= 0) {
    const wasmFields = newLineFields()
    scanner.readFields(wasmFields)
    expect(js, 'the JavaScript scanner rejects a line the WebAssembly scanner accepts').toBe(wasm)
    expect(pick(wasmFields)).toEqual(pick(jsFields))
    expect(scanner.seq).toBe(jsFields.seq)
    expect(scanner.prevAt).toBe(jsFields.prevAt)
    const lineFields = newLineFields()
    const whole = scanLine(buf, 1, wasm, lineFields)
    expect(whole).toBe(isHex64(buf, wasmFields.prevAt))
    if (whole) expect(pick(lineFields)).toEqual(pick(wasmFields))
  } else {
    expect(wasm).toBe(-1)
  }
  return { wasm, js }
}

function envelope(
  data: string,
  over: Partial<Record<'id' | 'ts' | 'type' | 'prev' | 'seq', string>> = {},
): string {
  return `{"data":${data},"id":"${over.id ?? ID}","prev":"${over.prev ?? PREV}","seq":${over.seq ?? '7'},"ts":"${over.ts ?? TS}","type":"${over.type ?? 'a.b'}","v":1}`
}

/** Both scanners accept the whole line. */
function accepted(text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? enc.encode(text) : text
  const r = compare(bytes)
  expect(r.js, `JS rejects ${text}`).toBe(bytes.length + 1)
  expect(r.wasm, `WASM bails on ${text}`).toBe(bytes.length + 1)
}

/** The JavaScript scanner rejects the line (so the WebAssembly one must not accept it). */
function rejected(text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? enc.encode(text) : text
  const r = compare(bytes)
  expect(r.js, `JS accepts ${text}`).toBeLessThan(0)
  expect(r.wasm).toBeLessThan(0)
}

/** A documented bail-out: the JavaScript scanner accepts, the WebAssembly one leaves it to it. */
function leftToJs(text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? enc.encode(text) : text
  const r = compare(bytes)
  expect(r.js, `JS rejects ${text}`).toBe(bytes.length + 1)
  expect(r.wasm).toBe(-1)
}

const bytesOf = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))

// ---------------------------------------------------------------------------
// Arbitraries

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const prevArb = fc.oneof(
  fc.constant(ZERO_HASH),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex),
)
const tsArb = fc
  .date({
    min: new Date('0000-01-01T00:00:00.000Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString())
const segment = fc.stringMatching(/^[a-z0-9_-]{1,12}$/)
const typeArb = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/),
      fc.array(segment, { minLength: 1, maxLength: 3 }),
    )
    .map(([head, rest]) => [head, ...rest].join('.')),
  fc.constantFrom('a.b', 'failover.completed', 'step.0', `${'a'.repeat(60)}.${'b'.repeat(67)}`),
)
const seqArb = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat())

/** Plain keys: printable ASCII without quote or backslash (no escapes). */
const plainKey = fc.string({
  unit: fc
    .integer({ min: 0x20, max: 0x7e })
    .filter((c) => c !== 0x22 && c !== 0x5c)
    .map((c) => String.fromCharCode(c)),
  maxLength: 12,
})
/** Values of the common case the WebAssembly scanner must accept in full. */
const commonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<JsonValue>(null, true, false),
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((n) => n / 100),
    fc.integer({ min: -999_999, max: 999_999 }).map((n) => n / 1_000_000),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(plainKey, tie('value'), { maxKeys: 5 }),
  ),
})).value
const commonData = fc.dictionary(plainKey, commonValue, { maxKeys: 8 })

/** Any JSON the ledger accepts (exponents, long fractions, escaped and Unicode keys…). */
const anyData = fc
  .dictionary(
    fc.string({ unit: fc.constantFrom('grapheme', 'binary', 'grapheme-ascii'), maxLength: 8 }),
    fc.jsonValue({ maxDepth: 4 }),
    { maxKeys: 6 },
  )
  .map((d) => {
    try {
      return canonicalize(d)
    } catch {
      return '{}'
    }
  })

const receiptArb = (data: fc.Arbitrary<string>) =>
  fc
    .record({
      data,
      seq: seqArb,
      id: fc.uuid({ version: 7 }),
      ts: tsArb,
      type: typeArb,
      prev: prevArb,
    })
    .map((r) => envelopeText(r.seq, r.id, r.ts, r.type, r.prev, r.data))

const commonReceipt = receiptArb(commonData.map((d) => canonicalize(d)))
const anyReceipt = receiptArb(anyData)

/** Snippets that make canonical text non-canonical or invalid, or test an edge. */
const SNIPPETS = [
  '1.0',
  '01',
  '-0',
  '-',
  '1e5',
  '1E5',
  '1e+21',
  '1.50',
  '0.0000001',
  '0.000001',
  '1e-7',
  '9007199254740991',
  '9007199254740992',
  '-9007199254740991',
  '12345678901234567',
  '0.30000000000000004',
  '123456789012345.6',
  '\\u0041',
  '\\u001f',
  '\\u001F',
  '\\u0008',
  '\\u00',
  '\\/',
  '\\n',
  '\\"',
  '\\\\',
  '\\x',
  'é',
  '😀',
  '\u{ffff}',
  'true',
  'fals',
  'null',
  'nul',
  '{}',
  '[]',
  '[1,',
  '"a":1,',
  ',"a":',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '.',
  'T',
  'Z',
  '7',
  '8',
  'c',
  'A',
].map((s) => enc.encode(s))
const RAW = [
  [0x00],
  [0x0a],
  [0x1f],
  [0x7f],
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xc2],
  [0xdf],
  [0xe0, 0x80, 0x80],
  [0xe0, 0xa0],
  [0xed, 0xa0, 0x80],
  [0xef, 0xbf, 0xbf],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf4, 0x8f, 0xbf, 0xbf],
  [0xf5],
  [0xff],
].map((b) => Uint8Array.from(b))

const mutation = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  remove: fc.nat({ max: 4 }),
  insert: fc.oneof(
    fc.constantFrom(...SNIPPETS, ...RAW),
    fc.uint8Array({ minLength: 0, maxLength: 2 }),
  ),
})

function mutate(text: string, ops: readonly { at: number; remove: number; insert: Uint8Array }[]) {
  let b = Buffer.from(text)
  for (const op of ops) {
    const at = Math.floor(op.at * (b.length + 1))
    b = Buffer.concat([
      b.subarray(0, at),
      op.insert,
      b.subarray(Math.min(b.length, at + op.remove)),
    ])
  }
  return b
}

/** An object's text with its (distinct) keys in a random, usually wrong, order or repeated. */
const badKeysData = fc
  .tuple(
    fc.uniqueArray(plainKey, { minLength: 2, maxLength: 6 }),
    fc.array(commonValue, { minLength: 6, maxLength: 6 }),
    fc.nat(),
    fc.boolean(),
  )
  .map(([keys, values, seed, dup]) => {
    const order = [...keys].sort()
    const i = seed % order.length
    const j = (i + 1 + ((seed >> 3) % (order.length - 1))) % order.length
    if (dup) order.splice(i, 0, order[i]!)
    else [order[i], order[j]] = [order[j]!, order[i]!]
    return `{${order.map((k, n) => `${JSON.stringify(k)}:${canonicalize(values[n % 6]!)}`).join(',')}}`
  })

// ---------------------------------------------------------------------------

describe('WebAssembly scanner build', () => {
  it('the checked-in module is what scripts/build-wasm.mjs builds (deterministic)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url))
    const fresh = execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--print'], {
      cwd: root,
      encoding: 'utf8',
    })
    const checkedIn = readFileSync(
      new URL('../src/_scan-wasm.generated.ts', import.meta.url),
      'utf8',
    )
    expect(fresh, 'run `pnpm --filter @baton/ledger build:wasm` and commit the result').toBe(
      checkedIn,
    )
  }, 60_000)
})

describe('WebAssembly scanner, differential against scanReceiptAt', () => {
  it('accepts every common-case canonical receipt, with the same fields', () => {
    fc.assert(
      fc.property(commonReceipt, (line) => accepted(line)),
      { numRuns: 400 * SCALE },
    )
  })

  it('never accepts what the JavaScript scanner rejects (any canonical data)', () => {
    let accepts = 0
    let runs = 0
    fc.assert(
      fc.property(anyReceipt, (line) => {
        runs++
        const r = compare(enc.encode(line))
        expect(r.js).toBe(Buffer.byteLength(line) + 1)
        if (r.wasm >= 0) accepts++
      }),
      { numRuns: 300 * SCALE },
    )
    // Many lines still take the fast path; the rest have exponents, escaped keys and the like.
    console.log(`WebAssembly scanner accepted ${accepts} of ${runs} arbitrary canonical receipts`)
    expect(accepts / runs).toBeGreaterThan(0.2)
  })

  it('never accepts a mutated receipt the JavaScript scanner rejects', () => {
    fc.assert(
      fc.property(
        fc.oneof(commonReceipt, anyReceipt),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (line, ops) => {
          compare(mutate(line, ops))
        },
      ),
      { numRuns: 1500 * SCALE },
    )
  })

  it('never accepts unsorted or duplicate keys', () => {
    fc.assert(
      fc.property(badKeysData, (data) => rejected(envelope(data))),
      { numRuns: 200 * SCALE },
    )
    fc.assert(
      fc.property(badKeysData, (data) => rejected(envelope(`{"x":${data}}`))),
      { numRuns: 100 * SCALE },
    )
  })

  it('never reads a meaningful byte at or past the limit (lines cut mid-token)', () => {
    fc.assert(
      fc.property(
        fc.oneof(commonReceipt, anyReceipt),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (line, cut) => {
          const bytes = enc.encode(line)
          const limit = Math.floor(cut * bytes.length)
          // The rest of the line (and its newline) sit right past the limit.
          const r = compare(bytes, enc.encode('\n'), limit)
          expect(r.wasm).toBe(-1)
        },
      ),
      { numRuns: 500 * SCALE },
    )
  })

  it('scans a receipt followed by anything, like scanReceiptAt', () => {
    fc.assert(
      fc.property(
        commonReceipt,
        fc.oneof(fc.constantFrom(...SNIPPETS, ...RAW), fc.uint8Array({ maxLength: 20 })),
        (line, after) => {
          const bytes = Buffer.concat([enc.encode(line), after])
          const r = compare(bytes, enc.encode('\n'))
          expect(r.wasm).toBe(Buffer.byteLength(line) + 1)
        },
      ),
      { numRuns: 200 * SCALE },
    )
  })
})

describe('WebAssembly scanner, rule by rule', () => {
  it('envelope literals', () => {
    accepted(envelope('{}'))
    rejected(envelope('{}').replace('"v":1', '"v":2'))
    rejected(envelope('{}').replace('"v":1}', '"v":1 }'))
    rejected(envelope('{}').replace('{"data"', '{ "data"'))
    rejected(envelope('{}').replace('"id":', '"id" :'))
    rejected(envelope('{}').replace('","prev":"', '","Prev":"'))
    rejected(envelope('{}').replace('","seq":', '","seq" :'))
    rejected(envelope('{}').replace(',"ts":"', ',"ts" :"'))
    rejected(envelope('{}').replace('","type":"', '","typ":"'))
    rejected(envelope('[]'))
    rejected(envelope('"x"'))
    rejected(envelope('1'))
    rejected(envelope('null'))
    rejected(envelope('{}').slice(0, -1))
    // scanReceiptAt stops at the receipt's end: the caller checks the newline.
    const extra = compare(enc.encode(`${envelope('{}')}x`))
    expect(extra.wasm).toBe(Buffer.byteLength(envelope('{}')) + 1)
  })

  it('id: lowercase UUID, version 7, RFC 9562 variant', () => {
    for (const v of '89ab')
      accepted(envelope('{}', { id: `019ab0c4-5e5f-7a3b-${v}c1d-123456789abc` }))
    rejected(envelope('{}', { id: '019AB0C4-5E5F-7A3B-8C1D-123456789ABC' }))
    rejected(envelope('{}', { id: '019ab0c4-5e5f-4a3b-8c1d-123456789abc' }))
    for (const v of '01234567cdefg') {
      rejected(envelope('{}', { id: `019ab0c4-5e5f-7a3b-${v}c1d-123456789abc` }))
    }
    rejected(envelope('{}', { id: '019ab0c45-e5f-7a3b-8c1d-123456789abc' }))
    rejected(envelope('{}', { id: '019ab0c4-5e5f-7a3b-8c1d-123456789ab' }))
    rejected(envelope('{}', { id: '019ab0c4-5e5f-7a3b-8c1d-123456789abcd' }))
    rejected(envelope('{}', { id: '019ab0c4_5e5f-7a3b-8c1d-123456789abc' }))
    rejected(envelope('{}', { id: '019ab0c4-5e5f-7a3b-8c1d-123456789abg' }))
    rejected(envelope('{}', { id: '{19ab0c4-5e5f-7a3b-8c1d-123456789abc' }))
  })

  it('prev: 64 bytes, not checked as hex here (scanLine does)', () => {
    accepted(envelope('{}', { prev: ZERO_HASH }))
    const upper = compare(enc.encode(envelope('{}', { prev: 'A'.repeat(64) })))
    expect(upper.wasm).toBeGreaterThan(0) // the caller compares or calls isHex64
    rejected(envelope('{}', { prev: 'a'.repeat(63) }))
    rejected(envelope('{}', { prev: 'a'.repeat(65) }))
  })

  it('seq: canonical non-negative safe integer', () => {
    for (const s of ['0', '1', '10', '123456', '999999999999999', String(MAX_SAFE)]) {
      accepted(envelope('{}', { seq: s }))
    }
    for (const s of [
      '',
      '-1',
      '01',
      '00',
      '1.0',
      '1e3',
      String(MAX_SAFE + 1),
      '99999999999999999',
      '+1',
    ]) {
      rejected(envelope('{}', { seq: s }))
    }
  })

  it('ts: YYYY-MM-DDTHH:MM:SS.mmmZ, a real calendar instant', () => {
    for (const ts of [
      '2024-02-29T00:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '0000-02-29T12:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '2026-01-31T00:00:00.000Z',
      '2026-04-30T00:00:00.000Z',
    ]) {
      accepted(envelope('{}', { ts }))
    }
    for (const ts of [
      '2023-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-01T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-32T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T00:60:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '2026-01-01t00:00:00.000Z',
      '2026-01-01T00:00:00.000z',
      '2026-01-01T00:00:00,000Z',
      '2026/01/01T00:00:00.000Z',
      '2026-01-01 00:00:00.000Z',
      '2026-01-01T00:00:00.00Z0',
      '2026-01-01T00:00:00.000+',
      '2026-1-01T00:00:00.000ZZ',
      '20a6-01-01T00:00:00.000Z',
      '2026-01-01T00:00:0:.000Z',
    ]) {
      rejected(envelope('{}', { ts }))
    }
  })

  it('type: dotted lowercase segments, at most 128 characters', () => {
    for (const type of [
      'a.b',
      'failover.completed',
      'a.1',
      'a_b-c.d_e-f.0g',
      'z9.x',
      `${'a'.repeat(14)}.b`,
      `${'a'.repeat(13)}.b`,
      `${'a'.repeat(64)}.${'b'.repeat(63)}`,
      `a.${'b.'.repeat(60)}c`,
    ]) {
      accepted(envelope('{}', { type }))
    }
    for (const type of [
      '',
      'a',
      'ab',
      '.a',
      'a.',
      'a..b',
      'A.b',
      'a.B',
      '1a.b',
      '_a.b',
      '-a.b',
      'a.b c',
      'a.b/c',
      'é.b',
      `${'a'.repeat(64)}.${'b'.repeat(64)}`,
      `${'a'.repeat(20)}..b`,
      `${'a'.repeat(20)}.`,
      `${'a'.repeat(20)}`,
      `${'a'.repeat(20)}.B`,
    ]) {
      rejected(envelope('{}', { type }))
    }
  })

  it('strings: escapes and UTF-8 exactly as JCS writes them', () => {
    for (const s of [
      '',
      'plain',
      'x'.repeat(100),
      '\\"',
      '\\\\',
      '\\b\\f\\n\\r\\t',
      '\\u0000\\u0001\\u001f\\u000b\\u000e',
      'é',
      '😀',
      '\u{ffff}',
      '\u{e000}',
      '\u{10ffff}',
      '\u{7ff}\u{800}',
      `${'x'.repeat(15)}é${'y'.repeat(15)}\\n`,
      '\x7f',
    ]) {
      accepted(envelope(`{"s":"${s}"}`))
    }
    for (const s of [
      '\\/',
      '\\u0041',
      '\\u001F',
      '\\u0008',
      '\\u000a',
      '\\u00',
      '\\x',
      '\\',
      '\t',
    ]) {
      rejected(envelope(`{"s":"${s}"}`))
    }
    for (const raw of RAW) {
      const ok = [[0x7f], [0xef, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf]].some(
        (b) => Buffer.compare(Buffer.from(b), raw) === 0,
      )
      const line = bytesOf(
        '{"data":{"s":"a',
        Array.from(raw),
        `b"},"id":"${ID}","prev":"${PREV}","seq":7,"ts":"${TS}","type":"a.b","v":1}`,
      )
      if (ok) accepted(line)
      else rejected(line)
    }
    // A line cut inside a multi-byte sequence or an escape.
    rejected(bytesOf('{"data":{"s":"', [0xe2, 0x82]))
    rejected(bytesOf('{"data":{"s":"\\u00'))
  })

  it('numbers: plain integers and short decimals; the rest is left to JavaScript', () => {
    for (const n of [
      '0',
      '-1',
      '7',
      '123456789012345',
      String(MAX_SAFE),
      String(-MAX_SAFE),
      '0.5',
      '-0.5',
      '12.25',
      '0.000001',
      '0.000001234567890123',
      '123456789012.5',
      '12345678901234.5',
      '1.5',
    ]) {
      accepted(envelope(`{"n":${n}}`))
      accepted(envelope(`{"n":[${n},${n}]}`))
    }
    for (const n of [
      '01',
      '-0',
      '-01',
      '1.0',
      '1.50',
      '0.0',
      '-0.0',
      '.5',
      '1.',
      '-',
      '+1',
      '1e5',
      '1E21',
      String(MAX_SAFE + 1),
      String(-MAX_SAFE - 1),
      '12345678901234567',
      '0.0000001',
      '00.5',
      '1.5e',
      'Infinity',
      'NaN',
      '1e+20',
    ]) {
      rejected(envelope(`{"n":${n}}`))
    }
    // Canonical, but outside the fast paths: JavaScript decides.
    for (const n of ['1e-7', '1.5e-7', '5e-324', '0.30000000000000004', '1234567890123.456']) {
      leftToJs(envelope(`{"n":${n}}`))
    }
  })

  it('literals and structure', () => {
    accepted(
      envelope('{"a":true,"b":false,"c":null,"d":[],"e":{},"f":[[]],"g":[{}],"h":[1,"x",null]}'),
    )
    for (const d of [
      '{"a":tru}',
      '{"a":fals}',
      '{"a":nul}',
      '{"a":True}',
      '{"a":1,}',
      '{,"a":1}',
      '{"a"1}',
      '{"a":[1,]}',
      '{"a":[,1]}',
      '{"a":[1 ]}',
      '{"a":[1}',
      '{"a":{]}',
      '{"a":1',
      '{a:1}',
      "{'a':1}",
      '{"a":1}}',
    ]) {
      rejected(envelope(d))
    }
  })

  it('keys: plain keys sorted and unique; escaped or non-ASCII keys left to JavaScript', () => {
    accepted(envelope('{"":1,"A":2,"B":3,"a":4,"aa":5,"ab":6,"b":7}'))
    accepted(envelope('{"abcdefgh":1,"abcdefghi":2,"abcdefgi":3,"abcdefh":4}'))
    accepted(envelope(`{"${'k'.repeat(30)}a":1,"${'k'.repeat(30)}b":2,"${'k'.repeat(31)}":3}`))
    accepted(envelope('{"a b":1,"a~":2}'))
    rejected(envelope('{"b":1,"a":2}'))
    rejected(envelope('{"a":1,"a":2}'))
    rejected(envelope('{"aa":1,"a":2}'))
    rejected(envelope('{"abcdefgi":1,"abcdefgh":2}'))
    rejected(envelope('{"abcdefghij":1,"abcdefghij":2}'))
    rejected(envelope(`{"${'k'.repeat(30)}b":1,"${'k'.repeat(30)}a":2}`))
    rejected(envelope('{"a":{"y":1,"x":2}}'))
    leftToJs(envelope('{"a\\"b":1}'))
    leftToJs(envelope('{"é":1}'))
    // UTF-16 order differs from byte order here: U+1F600 sorts before U+FFFF.
    leftToJs(envelope('{"😀":1,"\u{ffff}":2}'))
    rejected(envelope('{"\u{ffff}":1,"😀":2}'))
  })

  it('nesting up to 128 levels', () => {
    // `data` is level 1.
    const arrays = (n: number) => `{"a":${'['.repeat(n)}${']'.repeat(n)}}`
    accepted(envelope(arrays(127)))
    rejected(envelope(arrays(128)))
    const objects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`
    accepted(envelope(objects(128)))
    rejected(envelope(objects(129)))
    const mixed = (n: number) => `${'{"a":['.repeat(n)}1${']}'.repeat(n)}`
    accepted(envelope(mixed(64)))
    rejected(envelope(`{"b":${mixed(64)}}`))
  })
})

describe('verify with the WebAssembly scanner', () => {
  async function bothWays(chunks: Uint8Array[]): Promise<VerifyReport> {
    const fast = await verify(chunks)
    setWasmScanEnabled(false)
    try {
      const slow = await verify(chunks)
      expect(fast).toEqual(slow)
    } finally {
      setWasmScanEnabled(true)
    }
    return fast
  }

  function chunked(text: Buffer, sizes: readonly number[]): Uint8Array[] {
    const out: Uint8Array[] = []
    let at = 0
    for (let k = 0; at < text.length; k++) {
      const n = sizes.length === 0 ? text.length : Math.max(1, sizes[k % sizes.length]!)
      out.push(text.subarray(at, at + n))
      at += n
    }
    return out
  }

  it('reports exactly what the JavaScript scanner reports (damaged ledgers, any chunking)', async () => {
    const lines = await buildLines(60, (i) =>
      i % 4 === 3
        ? sampleInput(i)
        : { type: 'probe.sampled', data: { i, ok: i % 5 !== 0, ms: i * 1.25 } },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom('flip', 'drop', 'dup', 'swap', 'garbage', 'upper-prev', 'none'),
            line: fc.nat({ max: 59 }),
            at: fc.nat({ max: 400 }),
            byte: fc.integer({ min: 0, max: 255 }),
          }),
          { maxLength: 4 },
        ),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 5 }),
        fc.boolean(),
        async (damage, sizes, torn) => {
          const ls = lines.map((l) => Buffer.from(l))
          for (const d of damage) {
            const l = ls[d.line % ls.length]
            if (l === undefined) continue
            if (d.kind === 'flip') l[d.at % l.length] = d.byte === 10 ? 11 : d.byte
            else if (d.kind === 'drop') ls.splice(d.line % ls.length, 1)
            else if (d.kind === 'dup') ls.splice(d.line % ls.length, 0, Buffer.from(l))
            else if (d.kind === 'swap' && ls.length > 1) {
              const j = (d.line + 1) % ls.length
              ;[ls[d.line % ls.length], ls[j]] = [ls[j]!, l]
            } else if (d.kind === 'garbage')
              ls.splice(d.line % ls.length, 0, Buffer.from('{"x":1}'))
            else if (d.kind === 'upper-prev') {
              const p = l.indexOf('"prev":"') + 8
              l[p + (d.at % 64)] = 0x41
            }
          }
          let text = jsonl(ls)
          if (torn) text = text.subarray(0, text.length - 7)
          await bothWays(chunked(text, sizes))
        },
      ),
      { numRuns: 60 * SCALE },
    )
  })

  it('verifies a clean ledger through the fast path', async () => {
    const lines = await buildLines(200)
    const report = await bothWays([jsonl(lines)])
    expect(report.status).toBe('VERIFIED')
    expect(report.checked).toBe(200)
  })

  it('grows its memory for a line longer than the read buffer', async () => {
    const lines = await buildLines(3, (i) => ({
      type: 'big.blob',
      data: { i, blob: 'x'.repeat(i === 1 ? 3 << 20 : 10) },
    }))
    const text = jsonl(lines)
    const report = await bothWays(chunked(text, [65536]))
    expect(report.status).toBe('VERIFIED')
    expect(report.checked).toBe(3)
  })

  it('runs concurrent verifications on separate memories', async () => {
    const a = jsonl(await buildLines(300))
    const b = jsonl(await buildLines(300, (i) => ({ type: 'other.kind', data: { i } })))
    async function* slowly(text: Buffer): AsyncIterable<Uint8Array> {
      for (let at = 0; at < text.length; at += 1000) {
        await new Promise((resolve) => setImmediate(resolve))
        yield text.subarray(at, at + 1000)
      }
    }
    const [ra, rb] = await Promise.all([verify(slowly(a)), verify(slowly(b))])
    expect([ra.status, ra.checked, rb.status, rb.checked]).toEqual([
      'VERIFIED',
      300,
      'VERIFIED',
      300,
    ])
  })

  it('falls back to the JavaScript scanner when disabled', () => {
    setWasmScanEnabled(false)
    try {
      expect(acquireWasmScanner(1024)).toBeUndefined()
      expect(wasmScanAvailable()).toBe(false)
    } finally {
      setWasmScanEnabled(true)
    }
    expect(wasmScanAvailable()).toBe(true)
  })
})
