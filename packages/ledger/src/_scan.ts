/**
 * Byte-level check that a stored line is exactly the canonical (RFC 8785)
 * JSON of a valid receipt envelope, without building any JavaScript objects.
 *
 * This is the verifier's hot path: it must cost well under the SHA-256 of the
 * same line, so it walks the bytes once with no allocation on success. On
 * failure it reports the byte offset and a reason; callers that want a more
 * helpful message re-check the line with `JSON.parse` and `canonicalize`.
 *
 * A canonical envelope has its keys in this fixed (sorted) order:
 * `{"data":{…},"id":"…","prev":"…","seq":N,"ts":"…","type":"…","v":1}`.
 *
 * @internal
 * @module
 */

/** Where the fields of a scanned line are; filled by {@link scanLine}. */
export interface LineFields {
  /** The receipt's `seq`. */
  seq: number
  /** Offset of the 64 hex characters of `prev`. */
  prevAt: number
  /** Offset of the 36 characters of `id`. */
  idAt: number
  /** Offset of the 24 characters of `ts`. */
  tsAt: number
  /** Offsets of the `type` string's characters, `[typeAt, typeEnd)`. */
  typeAt: number
  typeEnd: number
  /** Offsets of the `data` object's text, `[dataAt, dataEnd)`. */
  dataAt: number
  dataEnd: number
  /** On failure: what is wrong. */
  reason: string
  /** On failure: offset of the offending byte. */
  errorAt: number
}

/** Creates a reusable {@link LineFields} record. */
export function newLineFields(): LineFields {
  return {
    seq: -1,
    prevAt: -1,
    idAt: -1,
    tsAt: -1,
    typeAt: -1,
    typeEnd: -1,
    dataAt: -1,
    dataEnd: -1,
    reason: '',
    errorAt: -1,
  }
}

const MAX_DEPTH = 128
const MAX_TYPE_LENGTH = 128

// Byte classes inside strings: 0 plain, 1 quote, 2 backslash, 3 control, 4 non-ASCII.
const STR = new Uint8Array(256)
for (let i = 0; i < 0x20; i++) STR[i] = 3
STR[0x22] = 1
STR[0x5c] = 2
for (let i = 0x80; i < 256; i++) STR[i] = 4

// Lowercase hex digits.
const HEX = new Uint8Array(256)
for (const c of '0123456789abcdef') HEX[c.charCodeAt(0)] = 1

// Control characters that JCS writes with a two-character escape.
const SHORT_ESCAPED = new Uint8Array(32)
for (const c of [0x08, 0x09, 0x0a, 0x0c, 0x0d]) SHORT_ESCAPED[c] = 1

/** Failure state shared by the scanning functions (single-threaded, reset per line). */
let failReason = ''
let failAt = -1
/** Whether the last string scanned had neither escapes nor non-ASCII bytes. */
let lastStringPlain = true

function fail(at: number, reason: string): number {
  if (failAt < 0) {
    failAt = at
    failReason = reason
  }
  return -1
}

/** Scans a string starting at the opening quote; returns the offset after the closing quote. */
function scanString(b: Uint8Array, i: number, end: number): number {
  let plain = true
  i++
  for (;;) {
    // Hot loop: plain ASCII content.
    while (i < end && STR[b[i]!] === 0) i++
    if (i >= end) return fail(end, 'unterminated string')
    const c = b[i]!
    if (c === 0x22) {
      lastStringPlain = plain
      return i + 1
    }
    plain = false
    if (c === 0x5c) {
      const e = b[i + 1]
      if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        i += 2
        continue
      }
      if (e === 0x75) {
        // Only \u00XX for control characters without a short escape, lowercase hex.
        if (i + 5 >= end || b[i + 2] !== 0x30 || b[i + 3] !== 0x30) {
          return fail(i, 'non-canonical \\u escape')
        }
        const h1 = b[i + 4]!
        const h2 = b[i + 5]!
        if ((h1 !== 0x30 && h1 !== 0x31) || HEX[h2] !== 1) {
          return fail(i, 'non-canonical \\u escape')
        }
        const code = (h1 - 0x30) * 16 + (h2 <= 0x39 ? h2 - 0x30 : h2 - 0x57)
        if (SHORT_ESCAPED[code] === 1) return fail(i, 'non-canonical \\u escape')
        i += 6
        continue
      }
      return fail(i, 'invalid or non-canonical escape')
    }
    if (c < 0x20) return fail(i, 'unescaped control character in string')
    i = scanUtf8(b, i, end, c)
    if (i < 0) return -1
  }
}

/** Checks one multi-byte UTF-8 sequence starting with lead byte `c`; returns the offset after it. */
function scanUtf8(b: Uint8Array, i: number, end: number, c: number): number {
  // Shortest form, no surrogates, at most U+10FFFF.
  if (c < 0xc2) return fail(i, 'invalid UTF-8')
  if (c < 0xe0) {
    if (i + 1 >= end || (b[i + 1]! & 0xc0) !== 0x80) return fail(i, 'invalid UTF-8')
    return i + 2
  }
  if (c < 0xf0) {
    const c1 = b[i + 1]!
    if (i + 2 >= end || (c1 & 0xc0) !== 0x80 || (b[i + 2]! & 0xc0) !== 0x80) {
      return fail(i, 'invalid UTF-8')
    }
    if (c === 0xe0 && c1 < 0xa0) return fail(i, 'overlong UTF-8')
    if (c === 0xed && c1 >= 0xa0) return fail(i, 'lone surrogate')
    return i + 3
  }
  if (c < 0xf5) {
    const c1 = b[i + 1]!
    if (
      i + 3 >= end ||
      (c1 & 0xc0) !== 0x80 ||
      (b[i + 2]! & 0xc0) !== 0x80 ||
      (b[i + 3]! & 0xc0) !== 0x80
    ) {
      return fail(i, 'invalid UTF-8')
    }
    if (c === 0xf0 && c1 < 0x90) return fail(i, 'overlong UTF-8')
    if (c === 0xf4 && c1 >= 0x90) return fail(i, 'code point beyond U+10FFFF')
    return i + 4
  }
  return fail(i, 'invalid UTF-8')
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Compares two scanned keys in UTF-16 code unit order. Each key is given by
 * the offsets of its content, `[start, end)`, without the quotes.
 */
function compareKeys(
  b: Uint8Array,
  aStart: number,
  aEnd: number,
  aPlain: boolean,
  bStart: number,
  bEnd: number,
  bPlain: boolean,
): number {
  if (aPlain && bPlain) {
    // ASCII without escapes: byte order is code unit order.
    const la = aEnd - aStart
    const lb = bEnd - bStart
    const n = Math.min(la, lb)
    for (let k = 0; k < n; k++) {
      const d = b[aStart + k]! - b[bStart + k]!
      if (d !== 0) return d
    }
    return la - lb
  }
  // Escapes or non-ASCII: decode both and let JavaScript compare code units.
  const ka = JSON.parse(decoder.decode(b.subarray(aStart - 1, aEnd + 1))) as string
  const kb = JSON.parse(decoder.decode(b.subarray(bStart - 1, bEnd + 1))) as string
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const MAX_SAFE = '9007199254740991'

/** Scans a number token; returns the offset after it. */
function scanNumber(b: Uint8Array, i: number, end: number): number {
  const start = i
  let j = i
  if (b[j] === 0x2d) j++
  const intStart = j
  while (j < end && b[j]! >= 0x30 && b[j]! <= 0x39) j++
  const intLen = j - intStart
  if (intLen === 0) return fail(start, 'invalid number')
  const next = j < end ? b[j]! : 0
  if (next !== 0x2e && next !== 0x65 && next !== 0x45) {
    // Plain integer: canonical iff no leading zero, not -0, and within ±(2^53-1).
    if (b[intStart] === 0x30 && (intLen > 1 || intStart > start)) {
      return fail(start, 'non-canonical number')
    }
    if (intLen < 16) return j
    if (intLen === 16) {
      for (let k = 0; k < 16; k++) {
        const d = b[intStart + k]! - MAX_SAFE.charCodeAt(k)
        if (d < 0) return j
        if (d > 0) break
        if (k === 15) return j
      }
    }
    return fail(start, 'integer beyond ±(2^53-1)')
  }
  // Plain decimal fraction with at most 15 significant digits: canonical iff
  // there is no trailing zero and, below 1, at most 5 zeros after the point
  // (Number-to-String switches to exponent form at 1e-7).
  if (next === 0x2e) {
    let k = j + 1
    while (k < end && b[k]! >= 0x30 && b[k]! <= 0x39) k++
    const fracLen = k - j - 1
    const after = k < end ? b[k]! : 0
    if (fracLen > 0 && after !== 0x65 && after !== 0x45 && b[k - 1] !== 0x30) {
      if (b[intStart] !== 0x30) {
        if (intLen + fracLen <= 15) return k
      } else if (intLen === 1) {
        let zeros = 0
        while (b[j + 1 + zeros] === 0x30) zeros++
        if (zeros <= 5 && fracLen - zeros <= 15) return k
      }
    }
  }
  // Anything else: canonical iff it is exactly what Number-to-String prints.
  while (j < end) {
    const c = b[j]!
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x2b || c === 0x2d) j++
    else break
  }
  let token = ''
  for (let k = start; k < j; k++) token += String.fromCharCode(b[k]!)
  const n = Number(token)
  if (!Number.isFinite(n) || JSON.stringify(n) !== token) return fail(start, 'non-canonical number')
  if (n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER) {
    return fail(start, 'number beyond ±(2^53-1)')
  }
  return j
}

function scanLiteral(b: Uint8Array, i: number, end: number, lit: string): number {
  if (i + lit.length > end) return fail(i, 'invalid literal')
  for (let k = 0; k < lit.length; k++) {
    if (b[i + k] !== lit.charCodeAt(k)) return fail(i, 'invalid literal')
  }
  return i + lit.length
}

/** Scans any JSON value in canonical form; returns the offset after it. */
function scanValue(b: Uint8Array, i: number, end: number, depth: number): number {
  if (i >= end) return fail(i, 'value expected')
  const c = b[i]!
  if (c === 0x22) return scanString(b, i, end)
  if (c === 0x7b) return scanObject(b, i, end, depth + 1)
  if (c === 0x5b) {
    if (depth + 1 > MAX_DEPTH) return fail(i, 'nesting too deep')
    i++
    if (b[i] === 0x5d) return i + 1
    for (;;) {
      i = scanValue(b, i, end, depth + 1)
      if (i < 0) return -1
      const d = b[i]
      if (d === 0x2c) i++
      else if (d === 0x5d) return i + 1
      else return fail(i, "',' or ']' expected")
    }
  }
  if (c === 0x74) return scanLiteral(b, i, end, 'true')
  if (c === 0x66) return scanLiteral(b, i, end, 'false')
  if (c === 0x6e) return scanLiteral(b, i, end, 'null')
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return scanNumber(b, i, end)
  return fail(i, 'value expected')
}

/** Scans an object whose keys must be unique and sorted; returns the offset after it. */
function scanObject(b: Uint8Array, i: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return fail(i, 'nesting too deep')
  i++
  if (b[i] === 0x7d) return i + 1
  let prevStart = -1
  let prevEnd = -1
  let prevPlain = true
  for (;;) {
    if (b[i] !== 0x22) return fail(i, 'key expected')
    const keyStart = i + 1
    const keyEnd = scanString(b, i, end)
    if (keyEnd < 0) return -1
    const plain = lastStringPlain
    if (prevStart >= 0) {
      const cmp = compareKeys(b, prevStart, prevEnd, prevPlain, keyStart, keyEnd - 1, plain)
      if (cmp === 0) return fail(i, 'duplicate key')
      if (cmp > 0) return fail(i, 'keys not in canonical order')
    }
    prevStart = keyStart
    prevEnd = keyEnd - 1
    prevPlain = plain
    i = keyEnd
    if (b[i] !== 0x3a) return fail(i, "':' expected")
    i = scanValue(b, i + 1, end, depth)
    if (i < 0) return -1
    const d = b[i]
    if (d === 0x2c) i++
    else if (d === 0x7d) return i + 1
    else return fail(i, "',' or '}' expected")
  }
}

/** Checks that `b[i, i + lit.length)` equals the literal bytes. */
function expect(b: Uint8Array, i: number, end: number, lit: Uint8Array, what: string): number {
  const n = lit.length
  if (i + n > end) return fail(i, `${what} expected`)
  for (let k = 0; k < n; k++) {
    if (b[i + k] !== lit[k]) return fail(i + k, `${what} expected`)
  }
  return i + n
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const LIT_DATA = ascii('{"data":')
const LIT_ID = ascii(',"id":"')
const LIT_PREV = ascii('","prev":"')
const LIT_SEQ = ascii('","seq":')
const LIT_TS = ascii(',"ts":"')
const LIT_TYPE = ascii('","type":"')
const LIT_V = ascii('","v":1}')

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39
}

function digits(b: Uint8Array, i: number, n: number): number {
  let v = 0
  for (let k = 0; k < n; k++) {
    const c = b[i + k]
    if (!isDigit(c)) return -1
    v = v * 10 + (c! - 0x30)
  }
  return v
}

function scanUuidV7(b: Uint8Array, i: number): number {
  for (let k = 0; k < 36; k++) {
    const c = b[i + k]!
    if (k === 8 || k === 13 || k === 18 || k === 23) {
      if (c !== 0x2d) return fail(i + k, 'id is not a lowercase UUID')
    } else if (HEX[c] !== 1) {
      return fail(i + k, 'id is not a lowercase UUID')
    }
  }
  if (b[i + 14] !== 0x37) return fail(i + 14, 'id is not a version 7 UUID')
  const variant = b[i + 19]!
  if (variant !== 0x38 && variant !== 0x39 && variant !== 0x61 && variant !== 0x62) {
    return fail(i + 19, 'id does not have the RFC 9562 variant')
  }
  return i + 36
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, a real calendar instant. */
function scanTimestamp(b: Uint8Array, i: number): number {
  const year = digits(b, i, 4)
  const month = digits(b, i + 5, 2)
  const day = digits(b, i + 8, 2)
  const hour = digits(b, i + 11, 2)
  const minute = digits(b, i + 14, 2)
  const second = digits(b, i + 17, 2)
  const milli = digits(b, i + 20, 3)
  if (
    year < 0 ||
    b[i + 4] !== 0x2d ||
    b[i + 7] !== 0x2d ||
    b[i + 10] !== 0x54 ||
    b[i + 13] !== 0x3a ||
    b[i + 16] !== 0x3a ||
    b[i + 19] !== 0x2e ||
    b[i + 23] !== 0x5a ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    milli < 0
  ) {
    return fail(i, 'ts is not RFC 3339 UTC with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)')
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const maxDay = month === 2 && leap ? 29 : DAYS[month - 1]!
  if (day > maxDay) return fail(i + 8, 'ts is not a calendar date')
  return i + 24
}

/** Dotted lowercase name: `a.b`, segments `[a-z][a-z0-9_-]*` (later ones may start with a digit). */
function scanType(b: Uint8Array, i: number, end: number): number {
  const start = i
  let segStart = i
  let dots = 0
  while (i < end) {
    const c = b[i]!
    if (c === 0x22) break
    if (c === 0x2e) {
      if (i === segStart) return fail(i, 'type has an empty segment')
      dots++
      segStart = i + 1
    } else if (i === start) {
      if (c < 0x61 || c > 0x7a) return fail(i, 'type must start with a lowercase letter')
    } else if (
      !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)
    ) {
      return fail(i, 'type may only contain a-z, 0-9, "-", "_" and "."')
    }
    i++
  }
  if (i === segStart) return fail(i, 'type has an empty segment')
  if (dots === 0) return fail(start, 'type must be dotted, e.g. "failover.completed"')
  if (i - start > MAX_TYPE_LENGTH) return fail(start, `type longer than ${MAX_TYPE_LENGTH}`)
  return i
}

/**
 * Checks that `b[start, end)` is the canonical JSON of a valid envelope and
 * records where its fields are in `out`. Returns false (with `out.reason`
 * and `out.errorAt` set) otherwise.
 */
export function scanLine(b: Uint8Array, start: number, end: number, out: LineFields): boolean {
  failAt = -1
  failReason = ''
  let ok = scanEnvelope(b, start, end, out) === end
  if (ok && !isHex64(b, out.prevAt)) {
    ok = false
    fail(out.prevAt, 'prev is not 64 lowercase hex characters')
  }
  if (!ok) {
    out.reason = failAt < 0 ? 'unexpected bytes after the receipt' : failReason
    out.errorAt = failAt < 0 ? end : failAt
  }
  return ok
}

/**
 * The verifier's fast path: scans one receipt starting at `start` without
 * knowing where its line ends (`limit` bounds the scan) and returns the
 * offset just after it, or -1. A receipt never spans a newline, so the
 * caller checks that the returned offset holds `\n`.
 *
 * Unlike {@link scanLine} it does not check that `prev` is hex: the caller
 * compares `prev` with a known hash, or calls {@link isHex64}.
 */
export function scanReceiptAt(
  b: Uint8Array,
  start: number,
  limit: number,
  out: LineFields,
): number {
  failAt = -1
  return scanEnvelope(b, start, limit, out)
}

/** True if `b[at, at + 64)` is lowercase hex. */
export function isHex64(b: Uint8Array, at: number): boolean {
  for (let k = 0; k < 64; k++) if (HEX[b[at + k]!] !== 1) return false
  return true
}

function scanEnvelope(b: Uint8Array, start: number, end: number, out: LineFields): number {
  let i = expect(b, start, end, LIT_DATA, '\'{"data":\'')
  if (i < 0) return -1
  if (b[i] !== 0x7b) return fail(i, 'data must be an object')
  out.dataAt = i
  i = scanObject(b, i, end, 1)
  if (i < 0) return -1
  out.dataEnd = i
  i = expect(b, i, end, LIT_ID, '\',"id":"\'')
  if (i < 0) return -1
  out.idAt = i
  if (i + 36 > end) return fail(i, 'id is not a lowercase UUID')
  i = scanUuidV7(b, i)
  if (i < 0) return -1
  i = expect(b, i, end, LIT_PREV, '\'","prev":"\'')
  if (i < 0) return -1
  out.prevAt = i
  if (i + 64 > end) return fail(i, 'prev is not 64 lowercase hex characters')
  i = expect(b, i + 64, end, LIT_SEQ, '\'","seq":\'')
  if (i < 0) return -1
  const seqStart = i
  let seq = 0
  while (i < end && isDigit(b[i])) {
    seq = seq * 10 + (b[i]! - 0x30)
    i++
  }
  const seqLen = i - seqStart
  if (seqLen === 0 || (b[seqStart] === 0x30 && seqLen > 1) || seq > Number.MAX_SAFE_INTEGER) {
    return fail(seqStart, 'seq is not a canonical non-negative integer')
  }
  out.seq = seq
  i = expect(b, i, end, LIT_TS, '\',"ts":"\'')
  if (i < 0) return -1
  out.tsAt = i
  if (i + 24 > end) return fail(i, 'ts is not RFC 3339 UTC with milliseconds')
  i = scanTimestamp(b, i)
  if (i < 0) return -1
  i = expect(b, i, end, LIT_TYPE, '\'","type":"\'')
  if (i < 0) return -1
  out.typeAt = i
  i = scanType(b, i, end)
  if (i < 0) return -1
  out.typeEnd = i
  return expect(b, i, end, LIT_V, '\'","v":1}\' (format version 1)')
}
