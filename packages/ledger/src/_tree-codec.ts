/**
 * The tree state's bytes (`tree-state.bin` for the file store). All
 * integers little-endian:
 *
 * ```
 * offset  size   field
 *      0     8   magic "BATONTS\n"
 *      8     2   format version (1)
 *     10     1   level L: one stored hash per 2^L receipts
 *     11     1   flags: bit 0 = positions present
 *     12     4   R: number of compact-range hashes
 *     16     8   size: receipts covered
 *     24    32   leaf hash of receipt size - 1 (zeros when size = 0)
 *     56     8   reserved (zeros)
 *     64  32·R   the compact range [0, size), left to right
 *      …  32·K   K = floor(size / 2^L) hashes of the complete level-L subtrees
 *      …   8·P   P = ceil(size / 2^L) positions of receipts 0, 2^L, 2·2^L, … (if flagged)
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
/** Format version written and read. */
export const TREE_STATE_VERSION = 1
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
  /** Positions of receipts `k·2^level` for `k < ceil(size / 2^level)`, or undefined. */
  readonly positions: readonly number[] | undefined
}

/** Serializes a tree state. */
export function encodeTreeState(data: TreeStateData): Uint8Array {
  const width = 2 ** data.level
  const k = Math.floor(data.size / width)
  const p = data.positions === undefined ? 0 : Math.ceil(data.size / width)
  const total = HEADER + 32 * data.range.length + 32 * k + 8 * p + HASH_BYTES
  const out = Buffer.alloc(total)
  MAGIC.copy(out, 0)
  out.writeUInt16LE(TREE_STATE_VERSION, 8)
  out.writeUInt8(data.level, 10)
  out.writeUInt8(data.positions === undefined ? 0 : 1, 11)
  out.writeUInt32LE(data.range.length, 12)
  out.writeBigUInt64LE(BigInt(data.size), 16)
  out.set(data.headHash, 24)
  let at = HEADER
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
  if (version !== TREE_STATE_VERSION) throw bad(`unsupported version ${version}`)
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
  const width = 2 ** level
  const k = Math.floor(size / width)
  const p = (flags & 1) === 1 ? Math.ceil(size / width) : 0
  const expected = HEADER + 32 * r + 32 * k + 8 * p + HASH_BYTES
  if (buf.length !== expected) throw bad(`${buf.length} bytes, expected ${expected}`)
  const headHash = new Uint8Array(buf.subarray(24, 56))
  if (size === 0 && headHash.some((b) => b !== 0)) throw bad('an empty state with a head hash')
  let at = HEADER
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
  return { level, size, headHash, range, chunks, positions }
}
