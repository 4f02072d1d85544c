/**
 * A lean append-only RFC 9162 compact range from leaf 0, for the export hot
 * paths: it takes ownership of the leaf hashes it is given (no copies, no
 * checks), so appending a leaf costs one interior node hash on average and
 * nothing else. Same hashes, in the same order, as {@link CompactRange}
 * over `[0, size)`.
 *
 * @internal
 * @module
 */
import { nodeHashBytes as node } from './hash.js'
import { CompactRange } from './merkle.js'
import { emptyTreeRoot } from './merkle-verify.js'

/** The compact range of leaves `[0, size)`. */
export class MerkleAccumulator {
  /** Perfect subtree hashes, left (largest) to right. */
  readonly #stack: Uint8Array[]
  #size: number

  private constructor(size: number, stack: Uint8Array[]) {
    this.#size = size
    this.#stack = stack
  }

  /** An empty range, or one continuing `range` (which must begin at 0; its hashes are copied). */
  static from(range?: CompactRange): MerkleAccumulator {
    if (range === undefined) return new MerkleAccumulator(0, [])
    if (range.begin !== 0) throw new Error('internal: the range must begin at 0')
    return new MerkleAccumulator(range.end, range.hashes)
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size
  }

  /** Appends a 32-byte leaf hash, which the accumulator now owns (do not modify it). */
  append(leaf: Uint8Array): void {
    let h = leaf
    let s = this.#size
    while (s % 2 === 1) {
      h = node(this.#stack.pop()!, h)
      s = (s - 1) / 2
    }
    this.#stack.push(h)
    this.#size++
  }

  /** The RFC 9162 root of leaves `[0, size)`. */
  root(): Uint8Array {
    const n = this.#stack.length
    if (n === 0) return emptyTreeRoot()
    let r = this.#stack[n - 1]!
    for (let i = n - 2; i >= 0; i--) r = node(this.#stack[i]!, r)
    return r
  }

  /** The subtree hashes as hex, left to right (a manifest entry's `range`). */
  hexHashes(): string[] {
    return this.#stack.map((h) => Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex'))
  }

  /** An independent copy (leaf buffers are shared: they are never modified). */
  clone(): MerkleAccumulator {
    return new MerkleAccumulator(this.#size, [...this.#stack])
  }

  /** As a {@link CompactRange} (for tests and cross-checks). */
  toCompactRange(): CompactRange {
    return CompactRange.fromHashes(0, this.#size, this.#stack)
  }
}

const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i

/** True when the 64 hex characters at `buf[at…]` spell the 32 bytes `hash` (no allocation). */
export function hexEquals(buf: Uint8Array, at: number, hash: Uint8Array): boolean {
  if (at < 0 || at + 64 > buf.length) return false
  for (let k = 0; k < 32; k++) {
    const a = buf[at + 2 * k]!
    const b = buf[at + 2 * k + 1]!
    const hi = a > 0x7f ? -1 : HEX[a]!
    const lo = b > 0x7f ? -1 : HEX[b]!
    if (hi < 0 || lo < 0) return false
    if (((hi << 4) | lo) !== hash[k]) return false
  }
  return true
}

/** The 32 bytes spelled by the 64 lowercase hex characters at `buf[at…]`, or `undefined`. */
export function hexDecode(buf: Uint8Array, at: number): Uint8Array | undefined {
  if (at < 0 || at + 64 > buf.length) return undefined
  const out = new Uint8Array(32)
  for (let k = 0; k < 32; k++) {
    const a = buf[at + 2 * k]!
    const b = buf[at + 2 * k + 1]!
    const hi = a > 0x7f ? -1 : HEX[a]!
    const lo = b > 0x7f ? -1 : HEX[b]!
    if (hi < 0 || lo < 0) return undefined
    out[k] = (hi << 4) | lo
  }
  return out
}
