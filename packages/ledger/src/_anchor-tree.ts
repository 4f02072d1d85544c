/**
 * Merkle maths over an anchored ledger: the receipts `[0, N)` are retired,
 * and only the anchor's compact range stands for them. A perfect subtree
 * is then
 * - **retired** (it ends at or before `N`): known only when it is one of the
 *   anchor's nodes (`AnchorNodes.get`), else it cannot be computed;
 * - **straddling** (it begins before `N` and ends after): the anchor's nodes
 *   inside it (the tail of its range) extended with the held leaves
 *   `[N, end)`;
 * - **held** (it begins at or after `N`): from the held leaves, as usual.
 *
 * Every node an inclusion proof of a held receipt needs, and every node of
 * a root or consistency proof of a size `≥ N`, is one of the anchor's nodes,
 * straddling or held: a retired subtree that is not an anchor node is only
 * needed for retired receipts, which fail with a {@link RetiredReceiptError}.
 *
 * @internal
 * @module
 */
import { type Anchor, anchorRange } from './anchor.js'
import { canonicalize } from './canonical.js'
import { CorruptLedgerError, RetiredReceiptError } from './errors.js'
import { sha256 } from './hash.js'
import { CompactRange, type LeafSource, type NodeCache, perfectSubtrees } from './merkle.js'

/** The anchor's nodes: the perfect subtrees of `[0, N)` and their hashes. */
export class AnchorNodes {
  /** N: the first held receipt. */
  readonly seq: number
  readonly #levels: number[] = []
  readonly #indexes: number[] = []
  readonly #hashes: Uint8Array[]

  constructor(anchor: Anchor) {
    this.seq = anchor.seq
    this.#hashes = anchorRange(anchor).hashes
    for (const id of perfectSubtrees(0, anchor.seq)) {
      this.#levels.push(id.level)
      this.#indexes.push(id.index)
    }
  }

  /** The hash of subtree `(level, index)` when it is one of the anchor's nodes. */
  get(level: number, index: number): Uint8Array | undefined {
    for (let i = 0; i < this.#levels.length; i++) {
      if (this.#levels[i] === level && this.#indexes[i] === index) return this.#hashes[i]
    }
    return undefined
  }

  /** The anchor's nodes inside `[begin, N)`, left to right (for `CompactRange.fromHashes(begin, N, …)`). */
  tail(begin: number): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let i = 0; i < this.#levels.length; i++) {
      if (this.#indexes[i]! * 2 ** this.#levels[i]! >= begin) out.push(this.#hashes[i]!)
    }
    return out
  }

  /**
   * A compact range from `begin` (aligned to a subtree straddling or
   * starting at N) to N: the anchor's nodes inside it.
   */
  rangeFrom(begin: number): CompactRange {
    return CompactRange.fromHashes(begin, this.seq, this.tail(begin))
  }
}

/** SHA-256 of the canonical JSON of an anchor's `seq`, `prev` and `range`: what a tree state was built on. */
export function anchorDigest(anchor: Anchor): Uint8Array {
  return sha256(canonicalize({ prev: anchor.prev, range: [...anchor.range], seq: anchor.seq }))
}

/** `source`, refusing leaves before the anchor with a {@link RetiredReceiptError}. */
export function anchoredLeafSource(source: LeafSource, anchorSeq: number): LeafSource {
  return {
    leafHashes(from, to) {
      if (from < anchorSeq && from < to) throw new RetiredReceiptError(from, anchorSeq)
      return source.leafHashes(from, to)
    },
  }
}

/**
 * A node cache for an anchored ledger (see the module documentation):
 * anchor nodes, then `inner` (stored subtree hashes, if any), then, for a
 * straddling subtree, its hash computed from the anchor's nodes and the held
 * leaves of `source`.
 */
export function anchoredNodeCache(
  nodes: AnchorNodes,
  source: LeafSource,
  inner?: NodeCache,
): NodeCache {
  const n = nodes.seq
  return {
    async nodeHash(level, index) {
      const width = 2 ** level
      const begin = index * width
      const end = begin + width
      if (end <= n) return nodes.get(level, index)
      const stored = await inner?.nodeHash(level, index)
      if (stored !== undefined || begin >= n) return stored
      const range = nodes.rangeFrom(begin)
      let count = 0
      for await (const leaf of source.leafHashes(n, end)) {
        range.append(leaf)
        count++
      }
      if (count !== end - n || range.hashes.length !== 1) {
        throw new CorruptLedgerError(
          `the leaves [${n}, ${end}) did not complete subtree ${level}/${index}`,
        )
      }
      return range.hashes[0]!
    },
  }
}
