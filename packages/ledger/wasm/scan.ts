/**
 * WebAssembly (SIMD) fast path of the receipt scanner in `src/_scan.ts`.
 *
 * This is AssemblyScript, compiled by `scripts/build-wasm.mjs` into
 * `src/_scan-wasm.generated.ts`; `src/_scan-wasm.ts` loads it.
 *
 * It checks the same rules as `scanReceiptAt` and gives up (returns -1)
 * whenever anything is unusual: the JavaScript scanner stays authoritative and
 * re-checks every line this one does not accept. It must therefore NEVER
 * accept a line the JavaScript scanner rejects, and for an accepted line it
 * must find the same end offset and the same fields. It accepts plain ASCII,
 * escaped and UTF-8 string values, plain integers within ±(2^53-1), short
 * decimals, literals, and nested arrays and objects with sorted plain keys;
 * it gives up on:
 * - keys with escapes or non-ASCII bytes (their order needs UTF-16 comparison);
 * - numbers outside the JavaScript fast paths (exponents, more than 15
 *   significant digits, and anything `Number` would have to check);
 * - anything the JavaScript scanner rejects (it does not say why).
 *
 * Memory layout: page 0 holds the static data (the result record and the
 * expected `prev`); the data region starts at {@link BASE}, so offsets given
 * to and returned by {@link scan} are offsets into the caller's view of the
 * data region. Bytes at or past `limit` are never looked at, except by wide
 * loads (at most 15 bytes past it) whose extra lanes are masked or ignored;
 * the loader keeps more slack than that past the data region.
 */

/** Start of the data region (offset 0 of the caller's view). */
const BASE: usize = 65536
/** Deepest nesting accepted, as in `_scan.ts`. */
const MAX_DEPTH: i32 = 128
/** Longest `type`, as in `_scan.ts`. */
const MAX_TYPE_LENGTH: i32 = 128

/**
 * Where a successful {@link scan} leaves the fields of the receipt:
 * `seq` (f64) at +0, then i32 offsets `prevAt` +8, `idAt` +12, `tsAt` +16,
 * `typeAt` +20, `typeEnd` +24, `dataAt` +28, `dataEnd` +32, and at +36 1 if
 * `prev` equals the 64 bytes at {@link EXP}, else 0.
 */
const RES: usize = memory.data(48, 8)

/** 64 bytes the caller sets to the `prev` it expects (the last receipt's leaf hash in hex). */
const EXP: usize = memory.data(64, 16)

/** Whether the last string scanned had neither escapes nor non-ASCII bytes. */
let lastPlain: bool = true

/** Offset of the result record. */
export function resultPtr(): usize {
  return RES
}

/** Offset of the expected `prev` (64 bytes). */
export function expectedPtr(): usize {
  return EXP
}

/** Offset of the data region. */
export function dataBase(): usize {
  return BASE
}

/** End of the static data: must be at most {@link dataBase}. */
export function heapBase(): usize {
  return __heap_base
}

// @ts-ignore: decorator
@inline
function byteAt(p: i32): u32 {
  return <u32>load<u8>(<usize>p, BASE)
}

/** The byte at `p`, or 0 at or past `limit` (where the JS scanner sees garbage or nothing). */
// @ts-ignore: decorator
@inline
function peek(p: i32, limit: i32): u32 {
  if (p < limit) return <u32>load<u8>(<usize>p, BASE)
  return 0
}

// @ts-ignore: decorator
@inline
function isDigit(c: u32): bool {
  return c - 0x30 < 10
}

// @ts-ignore: decorator
@inline
function isHex(c: u32): bool {
  return c - 0x30 < 10 || c - 0x61 < 6
}

/** Splatted constants, loaded from memory (cheaper than rebuilding them in registers). */
const SPLATS: usize = memory.data<u8>([
  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
  0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
  0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
], 16)

/** Scans a string starting at its opening quote; returns the offset after the closing quote. */
// @ts-ignore: decorator
@inline
function scanString(i: i32, limit: i32): i32 {
  let plain = true
  i++
  for (;;) {
    // Plain ASCII runs, 16 bytes per step: stop at '"', '\\', < 0x20 or >= 0x80.
    let mask: i32 = 0
    for (;;) {
      if (i >= limit) return -1
      const v = v128.load(<usize>i, BASE)
      const special = v128.or(
        v128.or(i8x16.eq(v, v128.load(SPLATS)), i8x16.eq(v, v128.load(SPLATS, 16))),
        i8x16.lt_s(v, v128.load(SPLATS, 32)),
      )
      mask = i8x16.bitmask(special)
      if (mask != 0) break
      i += 16
    }
    i += ctz(mask)
    if (i >= limit) return -1
    const c = byteAt(i)
    if (c == 0x22) {
      lastPlain = plain
      return i + 1
    }
    plain = false
    if (c == 0x5c) {
      const e = peek(i + 1, limit)
      if (
        e == 0x22 ||
        e == 0x5c ||
        e == 0x62 ||
        e == 0x66 ||
        e == 0x6e ||
        e == 0x72 ||
        e == 0x74
      ) {
        i += 2
        continue
      }
      if (e == 0x75) {
        // Only \u00XX for control characters without a short escape, lowercase hex.
        if (i + 5 >= limit || byteAt(i + 2) != 0x30 || byteAt(i + 3) != 0x30) return -1
        const h1 = byteAt(i + 4)
        const h2 = byteAt(i + 5)
        if ((h1 != 0x30 && h1 != 0x31) || !isHex(h2)) return -1
        const code = (h1 - 0x30) * 16 + (h2 <= 0x39 ? h2 - 0x30 : h2 - 0x57)
        if (code == 0x08 || code == 0x09 || code == 0x0a || code == 0x0c || code == 0x0d) return -1
        i += 6
        continue
      }
      return -1
    }
    if (c < 0x20) return -1
    // One multi-byte UTF-8 sequence: shortest form, no surrogates, at most U+10FFFF.
    if (c < 0xc2) return -1
    if (c < 0xe0) {
      if (i + 1 >= limit || (byteAt(i + 1) & 0xc0) != 0x80) return -1
      i += 2
      continue
    }
    if (c < 0xf0) {
      if (i + 2 >= limit) return -1
      const c1 = byteAt(i + 1)
      if ((c1 & 0xc0) != 0x80 || (byteAt(i + 2) & 0xc0) != 0x80) return -1
      if (c == 0xe0 && c1 < 0xa0) return -1
      if (c == 0xed && c1 >= 0xa0) return -1
      i += 3
      continue
    }
    if (c < 0xf5) {
      if (i + 3 >= limit) return -1
      const c1 = byteAt(i + 1)
      if (
        (c1 & 0xc0) != 0x80 ||
        (byteAt(i + 2) & 0xc0) != 0x80 ||
        (byteAt(i + 3) & 0xc0) != 0x80
      ) {
        return -1
      }
      if (c == 0xf0 && c1 < 0x90) return -1
      if (c == 0xf4 && c1 >= 0x90) return -1
      i += 4
      continue
    }
    return -1
  }
}

/** A mask of the `n` (0 to 8) most significant bytes of a u64. */
// @ts-ignore: decorator
@inline
function keepHigh(n: i32): u64 {
  return n == 0 ? 0 : u64.MAX_VALUE << <u64>(64 - 8 * n)
}

/** Compares two plain keys `[aStart, aEnd)` and `[bStart, bEnd)` byte by byte. */
// @ts-ignore: decorator
@inline
function compareKeys(aStart: i32, aEnd: i32, bStart: i32, bEnd: i32): i32 {
  const la = aEnd - aStart
  const lb = bEnd - bStart
  if (la <= 8 && lb <= 8) {
    // Big-endian words of the keys padded with zeros (a plain key has no zero byte).
    const a = bswap<u64>(load<u64>(<usize>aStart, BASE)) & keepHigh(la)
    const b = bswap<u64>(load<u64>(<usize>bStart, BASE)) & keepHigh(lb)
    if (a != b) return a < b ? -1 : 1
    return la - lb
  }
  const n = la < lb ? la : lb
  for (let k = 0; k < n; k++) {
    const d = <i32>byteAt(aStart + k) - <i32>byteAt(bStart + k)
    if (d != 0) return d
  }
  return la - lb
}

/** The digits of 2^53-1, for a 16-digit integer. */
const MAX_SAFE_DIGITS: usize = memory.data<u8>([
  0x39, 0x30, 0x30, 0x37, 0x31, 0x39, 0x39, 0x32, 0x35, 0x34, 0x37, 0x34, 0x30, 0x39, 0x39, 0x31,
])

/** Scans a number token in the JavaScript scanner's fast paths; returns the offset after it. */
// @ts-ignore: decorator
@inline
function scanNumber(i: i32, limit: i32): i32 {
  const start = i
  let j = i
  if (byteAt(j) == 0x2d) j++
  const intStart = j
  // The integer digits, as far as the limit.
  while (j < limit && isDigit(byteAt(j))) j++
  const intLen = j - intStart
  if (intLen == 0) return -1
  const next = peek(j, limit)
  if (next != 0x2e && next != 0x65 && next != 0x45) {
    // Plain integer: canonical iff no leading zero, not -0, and within ±(2^53-1).
    if (byteAt(intStart) == 0x30 && (intLen > 1 || intStart > start)) return -1
    if (intLen < 16) return j
    if (intLen == 16) {
      for (let k = 0; k < 16; k++) {
        const d = <i32>byteAt(intStart + k) - <i32>load<u8>(MAX_SAFE_DIGITS + <usize>k)
        if (d < 0) return j
        if (d > 0) return -1
      }
      return j
    }
    return -1
  }
  // Plain decimal fraction with at most 15 significant digits, no trailing zero
  // and, below 1, at most 5 zeros after the point.
  if (next == 0x2e) {
    let k = j + 1
    while (k < limit && isDigit(byteAt(k))) k++
    const fracLen = k - j - 1
    const after = peek(k, limit)
    if (fracLen > 0 && after != 0x65 && after != 0x45 && byteAt(k - 1) != 0x30) {
      if (byteAt(intStart) != 0x30) {
        if (intLen + fracLen <= 15) return k
      } else if (intLen == 1) {
        let zeros = 0
        while (byteAt(j + 1 + zeros) == 0x30) zeros++
        if (zeros <= 5 && fracLen - zeros <= 15) return k
      }
    }
  }
  // Exponents, long or non-canonical numbers: the JavaScript scanner decides.
  return -1
}

/** Scans any JSON value in canonical form; returns the offset after it. */
function scanValue(i: i32, limit: i32, depth: i32): i32 {
  if (i >= limit) return -1
  const c = byteAt(i)
  if (c == 0x22) return scanString(i, limit)
  if (c == 0x7b) return scanObject(i, limit, depth + 1)
  if (c == 0x5b) {
    if (depth + 1 > MAX_DEPTH) return -1
    i++
    if (peek(i, limit) == 0x5d) return i + 1
    for (;;) {
      i = scanValue(i, limit, depth + 1)
      if (i < 0) return -1
      const d = peek(i, limit)
      if (d == 0x5d) return i + 1
      if (d != 0x2c) return -1
      i++
    }
  }
  if (c == 0x74) {
    if (i + 4 > limit || load<u32>(<usize>i, BASE) != 0x65757274) return -1 // true
    return i + 4
  }
  if (c == 0x66) {
    if (i + 5 > limit || load<u32>(<usize>i, BASE) != 0x736c6166 || byteAt(i + 4) != 0x65) {
      return -1 // false
    }
    return i + 5
  }
  if (c == 0x6e) {
    if (i + 4 > limit || load<u32>(<usize>i, BASE) != 0x6c6c756e) return -1 // null
    return i + 4
  }
  if (c == 0x2d || isDigit(c)) return scanNumber(i, limit)
  return -1
}

/** Scans an object whose keys must be plain, unique and sorted; returns the offset after it. */
function scanObject(i: i32, limit: i32, depth: i32): i32 {
  if (depth > MAX_DEPTH) return -1
  i++
  if (peek(i, limit) == 0x7d) return i + 1
  let prevStart = -1
  let prevEnd = -1
  while (true) {
    if (peek(i, limit) != 0x22) return -1
    const keyStart = i + 1
    const keyEnd = scanString(i, limit)
    if (keyEnd < 0 || !lastPlain) return -1
    if (prevStart >= 0 && compareKeys(prevStart, prevEnd, keyStart, keyEnd - 1) >= 0) return -1
    prevStart = keyStart
    prevEnd = keyEnd - 1
    i = keyEnd
    if (peek(i, limit) != 0x3a) return -1
    i = scanValue(i + 1, limit, depth)
    if (i < 0) return -1
    const d = peek(i, limit)
    if (d == 0x7d) return i + 1
    if (d != 0x2c) return -1
    i++
  }
}

/** Lowercase RFC 9562 version 7 UUID at `[i, i + 36)` (in bounds). */
// @ts-ignore: decorator
@inline
function isUuidV7(i: i32): bool {
  const zero = i8x16.splat(0x30)
  const ten = i8x16.splat(10)
  const a = i8x16.splat(0x61)
  const six = i8x16.splat(6)
  const dash = i8x16.splat(0x2d)
  const v0 = v128.load(<usize>i, BASE)
  const v1 = v128.load(<usize>i, BASE + 16)
  const v2 = v128.load(<usize>i, BASE + 20)
  const h0 = i8x16.bitmask(
    v128.or(i8x16.lt_u(i8x16.sub(v0, zero), ten), i8x16.lt_u(i8x16.sub(v0, a), six)),
  )
  const h1 = i8x16.bitmask(
    v128.or(i8x16.lt_u(i8x16.sub(v1, zero), ten), i8x16.lt_u(i8x16.sub(v1, a), six)),
  )
  const h2 = i8x16.bitmask(
    v128.or(i8x16.lt_u(i8x16.sub(v2, zero), ten), i8x16.lt_u(i8x16.sub(v2, a), six)),
  )
  const d0 = i8x16.bitmask(i8x16.eq(v0, dash))
  const d1 = i8x16.bitmask(i8x16.eq(v1, dash))
  const d2 = i8x16.bitmask(i8x16.eq(v2, dash))
  // Dashes at 8, 13, 18 and 23; lowercase hex everywhere else.
  if (d0 != 0x2100 || d1 != 0x0084 || d2 != 0x0008) return false
  if ((h0 | d0) != 0xffff || (h1 | d1) != 0xffff || (h2 | d2) != 0xffff) return false
  if (byteAt(i + 14) != 0x37) return false
  const variant = byteAt(i + 19)
  return variant == 0x38 || variant == 0x39 || variant == 0x61 || variant == 0x62
}

/** Days per month of a common year. */
const DAYS: usize = memory.data<u8>([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])

// @ts-ignore: decorator
@inline
function two(p: i32): u32 {
  return (byteAt(p) - 0x30) * 10 + (byteAt(p + 1) - 0x30)
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` at `[i, i + 24)` (in bounds), a real calendar instant. */
// @ts-ignore: decorator
@inline
function isTimestamp(i: i32): bool {
  // Each lane XOR its template: a digit lane must give < 10, a separator lane 0.
  const v0 = v128.load(<usize>i, BASE)
  const v1 = v128.load(<usize>i, BASE + 8)
  const t0 = i8x16(0x30, 0x30, 0x30, 0x30, 0x2d, 0x30, 0x30, 0x2d, 0x30, 0x30, 0x54, 0x30, 0x30, 0x3a, 0x30, 0x30)
  const b0 = i8x16(10, 10, 10, 10, 1, 10, 10, 1, 10, 10, 1, 10, 10, 1, 10, 10)
  const t1 = i8x16(0x30, 0x30, 0x54, 0x30, 0x30, 0x3a, 0x30, 0x30, 0x3a, 0x30, 0x30, 0x2e, 0x30, 0x30, 0x30, 0x5a)
  const b1 = i8x16(10, 10, 1, 10, 10, 1, 10, 10, 1, 10, 10, 1, 10, 10, 10, 1)
  const ok0 = i8x16.bitmask(i8x16.lt_u(v128.xor(v0, t0), b0))
  const ok1 = i8x16.bitmask(i8x16.lt_u(v128.xor(v1, t1), b1))
  if ((ok0 & ok1) != 0xffff) return false
  const year = two(i) * 100 + two(i + 2)
  const month = two(i + 5)
  const day = two(i + 8)
  if (month < 1 || month > 12 || day < 1) return false
  if (two(i + 11) > 23 || two(i + 14) > 59 || two(i + 17) > 59) return false
  const leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
  const maxDay: u32 = month == 2 && leap ? 29 : <u32>load<u8>(DAYS + <usize>(month - 1))
  return day <= maxDay
}

/**
 * Dotted lowercase name: `a.b`, segments `[a-z][a-z0-9_-]*` (later ones may
 * start with a digit); returns the offset of the byte after it (the closing
 * quote). Names shorter than 16 bytes are checked 16 bytes at a time.
 */
// @ts-ignore: decorator
@inline
function scanType(i: i32, limit: i32): i32 {
  const v = v128.load(<usize>i, BASE)
  const quotes = i8x16.bitmask(i8x16.eq(v, i8x16.splat(0x22)))
  if (quotes != 0) {
    const n = ctz(quotes)
    if (i + n >= limit) return -1
    const inside = (1 << n) - 1
    const dots = i8x16.bitmask(i8x16.eq(v, i8x16.splat(0x2e))) & inside
    const lower = i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x61)), i8x16.splat(26)))
    const other = i8x16.bitmask(
      v128.or(
        i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x30)), i8x16.splat(10)),
        v128.or(i8x16.eq(v, i8x16.splat(0x2d)), i8x16.eq(v, i8x16.splat(0x5f))),
      ),
    )
    // Starts with a letter (so n > 0 and no leading dot), only allowed bytes,
    // at least one dot, no two dots in a row, no trailing dot.
    if (
      (lower & 1) == 0 ||
      ((lower | other | dots) & inside) != inside ||
      dots == 0 ||
      (dots & (dots >> 1)) != 0 ||
      (dots >> (n - 1)) != 0
    ) {
      return -1
    }
    return i + n
  }
  return scanLongType(i, limit)
}

/** {@link scanType} for names of 16 bytes or more, one byte at a time. */
function scanLongType(i: i32, limit: i32): i32 {
  const start = i
  let segStart = i
  let dots = 0
  while (i < limit) {
    const c = byteAt(i)
    if (c == 0x22) break
    if (c == 0x2e) {
      if (i == segStart) return -1
      dots++
      segStart = i + 1
    } else if (i == start) {
      if (c - 0x61 >= 26) return -1
    } else if (!(c - 0x61 < 26 || c - 0x30 < 10 || c == 0x2d || c == 0x5f)) {
      return -1
    }
    i++
    if (i - start > MAX_TYPE_LENGTH) return -1
  }
  if (i == segStart || dots == 0) return -1
  return i
}

/**
 * Scans one receipt envelope starting at `start` (offsets into the data
 * region) without reading meaningful bytes at or past `limit`. Returns the
 * offset just after the receipt, with its fields in the result record, or
 * -1 when this fast path does not accept it (the JavaScript scanner decides).
 * Like `scanReceiptAt`, it does not check that `prev` is hex.
 */
export function scan(start: i32, limit: i32): i32 {
  let i = start
  // {"data":{…}
  if (i < 0 || i + 8 > limit || load<u64>(<usize>i, BASE) != 0x3a2261746164227b) return -1
  i += 8
  if (peek(i, limit) != 0x7b) return -1
  const dataAt = i
  i = scanObject(i, limit, 1)
  if (i < 0) return -1
  const dataEnd = i
  // ,"id":"…
  if (i + 7 > limit || (load<u64>(<usize>i, BASE) & 0x00ffffffffffffff) != 0x223a226469222c) {
    return -1
  }
  i += 7
  const idAt = i
  if (i + 36 > limit || !isUuidV7(i)) return -1
  i += 36
  // ","prev":"…
  if (
    i + 10 > limit ||
    load<u64>(<usize>i, BASE) != 0x2276657270222c22 ||
    load<u16>(<usize>i, BASE + 8) != 0x223a
  ) {
    return -1
  }
  i += 10
  const prevAt = i
  if (i + 64 > limit) return -1
  i += 64
  // ","seq":N
  if (i + 8 > limit || load<u64>(<usize>i, BASE) != 0x3a22716573222c22) return -1
  i += 8
  const seqStart = i
  let seq: u64 = 0
  while (i < limit) {
    const d = byteAt(i) - 0x30
    if (d >= 10) break
    if (i - seqStart >= 16) return -1
    seq = seq * 10 + <u64>d
    i++
  }
  const seqLen = i - seqStart
  if (seqLen == 0 || (byteAt(seqStart) == 0x30 && seqLen > 1) || seq > 9007199254740991) {
    return -1
  }
  // ,"ts":"…
  if (i + 7 > limit || (load<u64>(<usize>i, BASE) & 0x00ffffffffffffff) != 0x223a227374222c) {
    return -1
  }
  i += 7
  const tsAt = i
  if (i + 24 > limit || !isTimestamp(i)) return -1
  i += 24
  // ","type":"…
  if (
    i + 10 > limit ||
    load<u64>(<usize>i, BASE) != 0x2265707974222c22 ||
    load<u16>(<usize>i, BASE + 8) != 0x223a
  ) {
    return -1
  }
  i += 10
  const typeAt = i
  i = scanType(i, limit)
  if (i < 0) return -1
  const typeEnd = i
  // ","v":1}
  if (i + 8 > limit || load<u64>(<usize>i, BASE) != 0x7d313a2276222c22) return -1
  i += 8
  store<f64>(RES, <f64>seq)
  store<i32>(RES, prevAt, 8)
  store<i32>(RES, idAt, 12)
  store<i32>(RES, tsAt, 16)
  store<i32>(RES, typeAt, 20)
  store<i32>(RES, typeEnd, 24)
  store<i32>(RES, dataAt, 28)
  store<i32>(RES, dataEnd, 32)
  const p = <usize>prevAt
  const same = v128.and(
    v128.and(
      i8x16.eq(v128.load(p, BASE), v128.load(EXP)),
      i8x16.eq(v128.load(p, BASE + 16), v128.load(EXP, 16)),
    ),
    v128.and(
      i8x16.eq(v128.load(p, BASE + 32), v128.load(EXP, 32)),
      i8x16.eq(v128.load(p, BASE + 48), v128.load(EXP, 48)),
    ),
  )
  store<i32>(RES, i8x16.all_true(same) ? 1 : 0, 36)
  return i
}
