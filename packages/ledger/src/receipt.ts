/**
 * The receipt envelope: its fields, its canonical bytes, and its decoding.
 *
 * A receipt is `{v, seq, id, ts, type, data, prev}` (DESIGN.md, "Ledger
 * format"). Its canonical bytes are the RFC 8785 serialization of that
 * object, which always puts the keys in the order
 * `data, id, prev, seq, ts, type, v`. Its leaf hash is
 * SHA-256(0x00 ‖ canonical bytes).
 *
 * @module
 */
import { newLineFields, scanLine } from './_scan.js'
import { canonicalizeObject, type JsonObject } from './canonical.js'
import { CorruptLedgerError, InvalidInputError } from './errors.js'
import { leafHash, ZERO_HASH } from './hash.js'
import { createUuidv7 } from './uuidv7.js'

/** The process-wide generator behind {@link newReceiptId}. */
const uuidv7 = createUuidv7()

/** The format version written in every receipt's `v`. */
export const RECEIPT_VERSION = 1

/**
 * An immutable receipt as stored in the ledger.
 *
 * @typeParam TType - the dotted receipt type, e.g. `'failover.completed'`.
 * @typeParam TData - the shape of `data` (any JSON object).
 */
export interface Receipt<TType extends string = string, TData extends object = JsonObject> {
  /** Format version, always 1. */
  readonly v: typeof RECEIPT_VERSION
  /** 0-based position in the ledger. */
  readonly seq: number
  /** UUIDv7 assigned on append. */
  readonly id: string
  /** RFC 3339 UTC timestamp with millisecond precision, ending in `Z`. */
  readonly ts: string
  /** Dotted lowercase type, e.g. `failover.completed`. */
  readonly type: TType
  /** The receipt's payload. */
  readonly data: TData
  /** Leaf hash of receipt `seq - 1` in hex; 64 zeros for receipt 0. */
  readonly prev: string
}

/** A receipt with its leaf hash, as returned by append and read. `hash` is not part of the envelope. */
export interface StoredReceipt<TType extends string = string, TData extends object = JsonObject>
  extends Receipt<TType, TData> {
  /** RFC 9162 leaf hash of the receipt's canonical bytes, 64 lowercase hex characters. */
  readonly hash: string
}

/** What a caller appends: the ledger assigns every other field. */
export interface ReceiptInput<TType extends string = string, TData extends object = JsonObject> {
  /** Dotted lowercase type, e.g. `failover.completed`. */
  readonly type: TType
  /** A JSON object; validated and canonicalized on append. */
  readonly data: TData
}

const TYPE_RE = /^[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)+$/
const TS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const UUID7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const HASH_RE = /^[0-9a-f]{64}$/

/** Longest `type` accepted. */
export const MAX_TYPE_LENGTH = 128

/**
 * Checks a receipt type: dotted lowercase segments (`failover.completed`,
 * `step.started`), first character a letter, at most {@link MAX_TYPE_LENGTH}.
 *
 * @throws {@link InvalidInputError} naming `path`.
 */
export function assertReceiptType(type: unknown, path = 'type'): asserts type is string {
  if (typeof type !== 'string')
    throw new InvalidInputError(path, `must be a string, got ${typeof type}`)
  if (type.length > MAX_TYPE_LENGTH) {
    throw new InvalidInputError(path, `longer than ${MAX_TYPE_LENGTH} characters`)
  }
  if (!TYPE_RE.test(type)) {
    throw new InvalidInputError(
      path,
      `${JSON.stringify(type)} is not a dotted lowercase type such as "failover.completed"`,
    )
  }
}

/** True if `ts` is an RFC 3339 UTC timestamp with milliseconds that names a real instant. */
export function isReceiptTimestamp(ts: unknown): ts is string {
  if (typeof ts !== 'string' || !TS_RE.test(ts)) return false
  const ms = Date.parse(ts)
  return !Number.isNaN(ms) && new Date(ms).toISOString() === ts
}

/** Formats epoch milliseconds as a receipt timestamp (`2026-11-23T09:55:00.000Z`). */
export function formatTimestamp(ms: number, path = 'ts'): string {
  if (!Number.isInteger(ms)) throw new InvalidInputError(path, `clock returned ${ms}, not whole ms`)
  const ts = new Date(ms).toISOString()
  if (!TS_RE.test(ts)) throw new InvalidInputError(path, `${ts} is outside years 0000-9999`)
  return ts
}

/**
 * A fresh UUIDv7 for time `ms` (epoch milliseconds). Ids are strictly
 * increasing within the process, even when the clock stalls or goes back.
 */
export function newReceiptId(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= 2 ** 48) {
    throw new InvalidInputError('ms', `${ms} is not a 48-bit millisecond timestamp`)
  }
  return uuidv7(ms)
}

/** True if `id` is a lowercase RFC 9562 version 7 UUID. */
export function isReceiptId(id: unknown): id is string {
  return typeof id === 'string' && UUID7_RE.test(id)
}

/** True if `h` is 64 lowercase hex characters. */
export function isHashHex(h: unknown): h is string {
  return typeof h === 'string' && HASH_RE.test(h)
}

/**
 * Builds the canonical text of an envelope whose `data` is already
 * canonical JSON. Fields must already be valid; used by the ledger's hot path.
 *
 * @internal
 */
export function envelopeText(
  seq: number,
  id: string,
  ts: string,
  type: string,
  prev: string,
  dataJson: string,
): string {
  return `{"data":${dataJson},"id":"${id}","prev":"${prev}","seq":${seq},"ts":"${ts}","type":"${type}","v":1}`
}

/**
 * Validates every field of `receipt` and returns its canonical JSON text.
 *
 * @throws {@link InvalidInputError} naming the bad field (`seq`, `data.x[1]`, …).
 */
export function encodeReceipt(receipt: Receipt<string, object>): string {
  if (typeof receipt !== 'object' || receipt === null) {
    throw new InvalidInputError('', 'a receipt must be an object')
  }
  const r = receipt as unknown as Record<string, unknown>
  const extra = Object.keys(r).filter(
    (k) => !['v', 'seq', 'id', 'ts', 'type', 'data', 'prev', 'hash'].includes(k),
  )
  if (extra.length > 0) throw new InvalidInputError(extra[0]!, 'is not an envelope field')
  if (r.v !== RECEIPT_VERSION) throw new InvalidInputError('v', `must be ${RECEIPT_VERSION}`)
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 0) {
    throw new InvalidInputError('seq', 'must be a non-negative safe integer')
  }
  if (!isReceiptId(r.id)) throw new InvalidInputError('id', 'must be a lowercase UUIDv7')
  if (!isReceiptTimestamp(r.ts)) {
    throw new InvalidInputError('ts', 'must be RFC 3339 UTC with milliseconds, ending in Z')
  }
  assertReceiptType(r.type)
  if (!isHashHex(r.prev)) throw new InvalidInputError('prev', 'must be 64 lowercase hex characters')
  if (r.seq === 0 && r.prev !== ZERO_HASH) {
    throw new InvalidInputError('prev', 'receipt 0 must have 64 zeros as prev')
  }
  return envelopeText(r.seq, r.id, r.ts, r.type, r.prev, canonicalizeObject(r.data, 'data'))
}

/** The leaf hash of a receipt (validating it first). */
export function receiptHash(receipt: Receipt<string, object>): string {
  return leafHash(encodeReceipt(receipt))
}

const fields = newLineFields()
const utf8 = new TextDecoder('utf-8')

/** Where a line came from, for error messages. */
export interface LineLocation {
  /** File or object key. */
  readonly file?: string | undefined
  /** 1-based line number. */
  readonly line?: number | undefined
}

/**
 * Checks that `bytes` are exactly the canonical bytes of a valid receipt and
 * decodes them.
 *
 * @throws {@link CorruptLedgerError} saying what is wrong and where.
 */
export function decodeReceipt(bytes: Uint8Array | string, where: LineLocation = {}): Receipt {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  if (!scanLine(buf, 0, buf.length, fields)) {
    throw new CorruptLedgerError(`${explainLine(buf)} (byte ${fields.errorAt + 1})`, where)
  }
  return JSON.parse(utf8.decode(buf)) as Receipt
}

/**
 * Explains why a line is not a canonical receipt, in the most useful terms:
 * invalid JSON, a non-canonical serialization, or a bad envelope field.
 *
 * @internal
 */
export function explainLine(buf: Uint8Array): string {
  if (scanLine(buf, 0, buf.length, fields)) return 'ok'
  const reason = fields.reason
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf))
  } catch (e) {
    return `not valid JSON: ${e instanceof Error ? e.message : String(e)}`
  }
  try {
    const text = encodeReceipt(value as Receipt)
    if (text !== utf8.decode(buf)) return `not in canonical form: ${reason}`
  } catch (e) {
    if (e instanceof InvalidInputError) return `bad receipt: ${e.message}`
    throw e
  }
  return reason
}
