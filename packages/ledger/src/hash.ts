/**
 * Hashing used by the ledger: RFC 9162 leaf and node hashes over SHA-256.
 *
 * Node's `crypto.hash` one-shot is used because it is the fastest SHA-256
 * available to a Node process (see BENCHMARKS.md: it beats both
 * `createHash()` and the pure-JS `@noble/hashes` on receipt-sized inputs).
 *
 * @module
 */
import { hash as nodeHash } from 'node:crypto'

/** Hex of 32 zero bytes: the `prev` of receipt 0, and the hash of "nothing". */
export const ZERO_HASH = '0'.repeat(64)

/** Length in bytes of a SHA-256 digest. */
export const HASH_BYTES = 32

let scratch = new Uint8Array(4096)

/**
 * RFC 9162 leaf hash, SHA-256(0x00 ‖ bytes), as 64 lowercase hex characters.
 * `bytes` are a receipt's canonical bytes, without the trailing newline.
 */
export function leafHash(bytes: Uint8Array | string): string {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  const need = data.length + 1
  if (scratch.length < need) scratch = new Uint8Array(Math.max(need, scratch.length * 2))
  scratch[0] = 0
  scratch.set(data, 1)
  return nodeHash('sha256', scratch.subarray(0, need), 'hex')
}

/**
 * SHA-256 of `data` as a fresh 32-byte array. Asking `crypto.hash` for a
 * latin1 string and copying its char codes is about twice as fast as its
 * `'buffer'` output on Node 24 (see BENCHMARKS.md, checkpoint).
 */
function digestBytes(data: Uint8Array): Uint8Array {
  const s = nodeHash('sha256', data, 'binary') // latin1
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i)
  return out
}

/** RFC 9162 leaf hash, SHA-256(0x00 ‖ bytes), as 32 raw bytes (for Merkle trees). */
export function leafHashBytes(bytes: Uint8Array | string): Uint8Array {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  const need = data.length + 1
  if (scratch.length < need) scratch = new Uint8Array(Math.max(need, scratch.length * 2))
  scratch[0] = 0
  scratch.set(data, 1)
  return digestBytes(scratch.subarray(0, need))
}

/**
 * RFC 9162 leaf hash of `buf[start, end)` where `buf[start - 1]` may be
 * overwritten temporarily (it is restored before returning). Lets the
 * verifier hash a line in place, using the preceding newline as the 0x00
 * prefix, without copying it.
 *
 * @internal
 */
export function leafHashInPlace(buf: Uint8Array, start: number, end: number): string {
  const saved = buf[start - 1]!
  buf[start - 1] = 0
  const h = nodeHash('sha256', buf.subarray(start - 1, end), 'hex')
  buf[start - 1] = saved
  return h
}

const nodeScratch = new Uint8Array(65)

/** RFC 9162 interior node hash, SHA-256(0x01 ‖ left ‖ right), over raw 32-byte digests. */
export function nodeHashBytes(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) {
    const buf = new Uint8Array(1 + left.length + right.length)
    buf[0] = 1
    buf.set(left, 1)
    buf.set(right, 1 + left.length)
    return digestBytes(buf)
  }
  nodeScratch[0] = 1
  nodeScratch.set(left, 1)
  nodeScratch.set(right, 33)
  return digestBytes(nodeScratch)
}

/** SHA-256 of `data` as raw bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  return nodeHash('sha256', data, 'buffer')
}

/** SHA-256 of `data` as 64 lowercase hex characters. */
export function sha256Hex(data: Uint8Array | string): string {
  return nodeHash('sha256', data, 'hex')
}

/** Decodes 64 hex characters into 32 bytes. Throws `TypeError` on bad input. */
export function hexToBytes(hex: string): Uint8Array {
  if (!/^[0-9a-f]*$/.test(hex) || hex.length % 2 !== 0) {
    throw new TypeError(`not lowercase hex: ${JSON.stringify(hex.slice(0, 80))}`)
  }
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Encodes bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
