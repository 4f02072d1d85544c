/**
 * The tree state's bytes (`tree-state.bin` for the file store). All
 * integers little-endian:
 *
 * ```
 * offset  size   field
 *      0     8   magic "BATONTS\n"
 *      8     2   format version: 1, or 2 for an anchored ledger
 *     10     1   level L: one stored hash per 2^L receipts
 *     11     1   flags: bit 0 = positions present
 *     12     4   R: number of compact-range hashes
 *     16     8   size: receipts covered (counting retired ones)
 *     24    32   leaf hash of receipt size - 1 (zeros when size = 0)
 *     56     8   version 1: reserved (zeros); version 2: N, the anchor's seq (≥ 1)
 *     64    32   version 2 only: SHA-256 of the anchor (see `anchorDigest`)
 *      …  32·R   the compact range [0, size), left to right
 *      …  32·K   K = floor(size / 2^L) - floor(N / 2^L) hashes of the complete
 *                level-L subtrees from subtree floor(N / 2^L) on (N = 0 in version 1)
 *      …   8·P   P = ceil(size / 2^L) - ceil(N / 2^L) positions of receipts
 *                k·2^L ≥ N, in order (if flagged)
 *      …    32   SHA-256 of everything before
 * ```
 *
 * Decoding checks the structure and the checksum only; what the bytes say
 * about the ledger is checked against the ledger by `tree-state.ts`.
 *
 * @internal
 * @module
 */
import { CorruptLedgerError } from './errors.js'
import { HASH_BYTES, sha256 } from './hash.js'
import { perfectSubtrees } from './merkle.js'

const MAGIC = Buffer.from('BATONTS\n', 'latin1')
const HEADER = 64
/** Format version written and read for a ledger that begins at receipt 0. */
export const TREE_STATE_VERSION = 1
/** Format version written and read for an anchored ledger. */
export const ANCHORED_TREE_STATE_VERSION = 2
/** Smallest level L accepted (one hash per 2 receipts). */
export const MIN_TREE_LEVEL = 1
/** Largest level L accepted (one hash per 2^24 receipts). */
export const MAX_TREE_LEVEL = 24

/** A tree state as stored. */
export interface TreeStateData {
  readonly level: number
  readonly size: number
  /** Leaf hash of receipt `size - 1` (32 zero bytes when `size` is 0). */
  readonly headHash: Uint8Array
  /** Hashes of `perfectSubtrees(0, size)`. */
  readonly range: readonly Uint8Array[]
  /** `floor(size / 2^level)` level-L subtree hashes, 32 bytes each, concatenated. */
  readonly chunks: Uint8Array
  /** Positions of receipts `k·2^level` for `k < ceil(size / 2^level)` (and `≥ N`), or undefined. */
  readonly positions: readonly number[] | undefined
  /** For an anchored ledger: the anchor's seq `N` and digest it was built on. */
  readonly anchor?: { readonly seq: number; readonly digest: Uint8Array } | undefined
}

/** Counts of stored level-L hashes and positions. */
function counts(size: number, level: number, anchorSeq: number): { k: number; p: number } {
  const width = 2 ** level
  return {
    k: Math.floor(size / width) - Math.floor(anchorSeq / width),
    p: Math.ceil(size / width) - Math.ceil(anchorSeq / width),
  }
}

/** Serializes a tree state. */
export function encodeTreeState(data: TreeStateData): Uint8Array {
  const anchor = data.anchor
  const c = counts(data.size, data.level, anchor?.seq ?? 0)
  const k = c.k
  const p = data.positions === undefined ? 0 : c.p
  const extra = anchor === undefined ? 0 : HASH_BYTES
  const total = HEADER + extra + 32 * data.range.length + 32 * k + 8 * p + HASH_BYTES
  const out = Buffer.alloc(total)
  MAGIC.copy(out, 0)
  out.writeUInt16LE(anchor === undefined ? TREE_STATE_VERSION : ANCHORED_TREE_STATE_VERSION, 8)
  out.writeUInt8(data.level, 10)
  out.writeUInt8(data.positions === undefined ? 0 : 1, 11)
  out.writeUInt32LE(data.range.length, 12)
  out.writeBigUInt64LE(BigInt(data.size), 16)
  out.set(data.headHash, 24)
  let at = HEADER
  if (anchor !== undefined) {
    out.writeBigUInt64LE(BigInt(anchor.seq), 56)
    out.set(anchor.digest, at)
    at += HASH_BYTES
  }
  for (const h of data.range) {
    out.set(h, at)
    at += 32
  }
  out.set(data.chunks.subarray(0, 32 * k), at)
  at += 32 * k
  for (let i = 0; i < p; i++) {
    out.writeBigUInt64LE(BigInt(data.positions![i]!), at)
    at += 8
  }
  out.set(sha256(out.subarray(0, at)), at)
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

/**
 * Parses and checks a stored tree state.
 * @throws {CorruptLedgerError} naming what is wrong (`file` is `name`).
 */
export function decodeTreeState(bytes: Uint8Array, name: string): TreeStateData {
  const bad = (why: string): CorruptLedgerError =>
    new CorruptLedgerError(`not a usable tree state: ${why}`, { file: name })
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER + HASH_BYTES || !buf.subarray(0, 8).equals(MAGIC)) {
    throw bad('wrong magic bytes or too short')
  }
  const body = buf.subarray(0, buf.length - HASH_BYTES)
  if (!Buffer.from(sha256(body)).equals(buf.subarray(body.length))) {
    throw bad('checksum mismatch (the file is damaged or truncated)')
  }
  const version = buf.readUInt16LE(8)
  if (version !== TREE_STATE_VERSION && version !== ANCHORED_TREE_STATE_VERSION) {
    throw bad(`unsupported version ${version}`)
  }
  const level = buf.readUInt8(10)
  if (level < MIN_TREE_LEVEL || level > MAX_TREE_LEVEL) throw bad(`level ${level} out of range`)
  const flags = buf.readUInt8(11)
  if ((flags & ~1) !== 0) throw bad(`unknown flags ${flags}`)
  const r = buf.readUInt32LE(12)
  const bigSize = buf.readBigUInt64LE(16)
  if (bigSize > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('size beyond 2^53 - 1')
  const size = Number(bigSize)
  if (r !== perfectSubtrees(0, size).length) {
    throw bad(
      `${r} compact-range hashes, but size ${size} needs ${perfectSubtrees(0, size).length}`,
    )
  }
  let anchor: TreeStateData['anchor']
  if (version === ANCHORED_TREE_STATE_VERSION) {
    const seq = buf.readBigUInt64LE(56)
    if (seq < 1n || seq > bigSize) throw bad(`anchor seq ${seq} is not in 1…${size}`)
    if (buf.length < HEADER + HASH_BYTES * 2) throw bad('too short for an anchor digest')
    anchor = { seq: Number(seq), digest: new Uint8Array(buf.subarray(HEADER, HEADER + HASH_BYTES)) }
  }
  const extra = anchor === undefined ? 0 : HASH_BYTES
  const c = counts(size, level, anchor?.seq ?? 0)
  const k = c.k
  const p = (flags & 1) === 1 ? c.p : 0
  const expected = HEADER + extra + 32 * r + 32 * k + 8 * p + HASH_BYTES
  if (buf.length !== expected) throw bad(`${buf.length} bytes, expected ${expected}`)
  const headHash = new Uint8Array(buf.subarray(24, 56))
  if (size === 0 && headHash.some((b) => b !== 0)) throw bad('an empty state with a head hash')
  let at = HEADER + extra
  const range: Uint8Array[] = []
  for (let i = 0; i < r; i++, at += 32) range.push(new Uint8Array(buf.subarray(at, at + 32)))
  const chunks = new Uint8Array(buf.subarray(at, at + 32 * k))
  at += 32 * k
  let positions: number[] | undefined
  if ((flags & 1) === 1) {
    positions = []
    for (let i = 0; i < p; i++, at += 8) {
      const v = buf.readBigUInt64LE(at)
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`position ${i} beyond 2^53 - 1`)
      positions.push(Number(v))
    }
  }
  return {
    level,
    size,
    headHash,
    range,
    chunks,
    positions,
    ...(anchor === undefined ? {} : { anchor }),
  }
}
