/**
 * The hashes of every complete perfect subtree at level L and above, in
 * growable flat buffers: level L is what the tree state stores, the higher
 * levels are recomputed from it on load and extended as leaves arrive.
 *
 * In an anchored ledger (receipts `[0, N)` retired) level `l` stores the
 * subtrees from index `floor(N / 2^l)` on (the one holding receipt `N`,
 * which may straddle the anchor, and those after it); a subtree before that
 * is answered from the anchor's nodes when it is one (see `_anchor-tree.ts`).
 *
 * @internal
 * @module
 */
import type { AnchorNodes } from './_anchor-tree.js'
import { HASH_BYTES, nodeHashBytes } from './hash.js'

class HashList {
  bytes = new Uint8Array(0)
  count = 0

  push(hash: Uint8Array): void {
    const need = (this.count + 1) * HASH_BYTES
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2, 1024))
      grown.set(this.bytes.subarray(0, this.count * HASH_BYTES))
      this.bytes = grown
    }
    this.bytes.set(hash, this.count * HASH_BYTES)
    this.count++
  }

  get(index: number): Uint8Array | undefined {
    if (index < 0 || index >= this.count) return undefined
    return this.bytes.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES)
  }
}

/** Subtree hashes at levels `base`, `base + 1`, … */
export class SubtreeLevels {
  readonly base: number
  readonly #anchor: AnchorNodes | undefined
  #levels: HashList[] = []

  /** @param anchor - the anchor's nodes, for an anchored ledger. */
  constructor(base: number, anchor?: AnchorNodes) {
    this.base = base
    this.#anchor = anchor
  }

  /**
   * Levels from the concatenated level-`base` hashes (higher levels
   * recomputed); in an anchored ledger the first is subtree
   * `floor(N / 2^base)`.
   */
  static fromChunks(base: number, chunks: Uint8Array, anchor?: AnchorNodes): SubtreeLevels {
    const levels = new SubtreeLevels(base, anchor)
    const count = chunks.length / HASH_BYTES
    const first = levels.#first(0)
    for (let i = first; i < first + count; i++) {
      const k = i - first
      levels.#add(0, i, chunks.subarray(k * HASH_BYTES, (k + 1) * HASH_BYTES))
      // Complete the parents this chunk finishes, as a compact range would.
      let j = 0
      let index = i
      while (index % 2 === 1) {
        const parent = nodeHashBytes(levels.#get(j, index - 1)!, levels.#get(j, index)!)
        j++
        index = (index - 1) / 2
        levels.#add(j, index, parent)
      }
    }
    return levels
  }

  /** Number of complete level-`base` subtrees stored. */
  get chunkCount(): number {
    return this.#levels[0]?.count ?? 0
  }

  /** One past the index of the last complete level-`base` subtree (counting retired ones). */
  get chunkEnd(): number {
    return this.#first(0) + this.chunkCount
  }

  /** Index of the first subtree stored at level `base + j`. */
  #first(j: number): number {
    return this.#anchor === undefined ? 0 : Math.floor(this.#anchor.seq / 2 ** (this.base + j))
  }

  /** The level-`base` hashes, concatenated (a view). */
  chunkBytes(): Uint8Array {
    const l = this.#levels[0]
    return l === undefined ? new Uint8Array(0) : l.bytes.subarray(0, l.count * HASH_BYTES)
  }

  /**
   * Records a node a compact range completed (a `NodeVisitor`). Nodes below
   * `base` are ignored; the others arrive in index order per level.
   */
  visit(level: number, index: number, hash: Uint8Array): void {
    if (level >= this.base) this.#add(level - this.base, index, hash)
  }

  /** The hash of subtree `(level, index)` when stored. */
  get(level: number, index: number): Uint8Array | undefined {
    return level < this.base ? undefined : this.#get(level - this.base, index)
  }

  #get(j: number, index: number): Uint8Array | undefined {
    const first = this.#first(j)
    if (index < first) return this.#anchor?.get(this.base + j, index)
    return this.#levels[j]?.get(index - first)
  }

  #add(j: number, index: number, hash: Uint8Array): void {
    while (this.#levels.length <= j) this.#levels.push(new HashList())
    const list = this.#levels[j]!
    const want = this.#first(j) + list.count
    if (index !== want) {
      throw new Error(`internal: subtree ${j + this.base}/${index} out of order (${want})`)
    }
    list.push(hash)
  }
}
