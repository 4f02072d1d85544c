/**
 * RFC 9162 (section 2.1) Merkle tree maths over leaf hashes: tree roots,
 * compact ranges, and inclusion / consistency proof generation that streams
 * leaf hashes in O(log n) memory and, given a {@link NodeCache}, reads only
 * O(log n) stored nodes. Verification lives in `merkle-verify.ts`.
 *
 * Leaf hashes are given (SHA-256(0x00 ‖ bytes), see `hash.ts`); this module
 * only computes interior nodes, SHA-256(0x01 ‖ left ‖ right). A "subtree"
 * `(level, index)` is the perfect subtree over leaves
 * `[index·2^level, (index+1)·2^level)`; its hash never changes once those
 * leaves exist, whatever the tree size.
 *
 * @module
 */
import { CorruptLedgerError, InvalidInputError } from './errors.js'
import { HASH_BYTES, nodeHashBytes } from './hash.js'
import { emptyTreeRoot } from './merkle-verify.js'

/** A perfect subtree: leaves `[index·2^level, (index+1)·2^level)`. */
export interface SubtreeId {
  /** Height: 0 for a single leaf. */
  readonly level: number
  /** Position among the subtrees of that level, counted from 0. */
  readonly index: number
}

/** Called with every interior node a {@link CompactRange} computes. Must not mutate `hash`. */
export type NodeVisitor = (level: number, index: number, hash: Uint8Array) => void

/** Where proof generation reads leaf hashes from (e.g. the ledger's segment files). */
export interface LeafSource {
  /**
   * Yields the leaf hashes of leaves `from` to `to - 1`, in order, exactly
   * `to - from` of them, each 32 bytes. A yielded array is consumed before
   * the next one is requested, so a reused buffer is fine.
   */
  leafHashes(from: number, to: number): AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/** Stored tree state: hashes of perfect subtrees, so proofs need not re-read leaves. */
export interface NodeCache {
  /**
   * The hash of subtree `(level, index)`, or `undefined` when not stored.
   * Only asked about subtrees that lie entirely inside the tree in question.
   * Level 0 is a leaf hash; a cache may leave level 0 to the leaf source.
   */
  nodeHash(
    level: number,
    index: number,
  ): Uint8Array | undefined | PromiseLike<Uint8Array | undefined>
}

/** Options for streaming proof and root generation. */
export interface ProofOptions {
  /** Stored subtree hashes to use before falling back to reading leaves. */
  readonly cache?: NodeCache | undefined
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(name, `must be a non-negative safe integer, got ${String(value)}`)
  }
}

function checkHash(name: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length !== HASH_BYTES) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value
    throw new InvalidInputError(name, `must be a ${HASH_BYTES}-byte hash, got ${got}`)
  }
}

/** A plain `Uint8Array` copy (`Buffer#slice` would be a view, not a copy). */
const copy = (h: Uint8Array): Uint8Array => new Uint8Array(h)

/** Largest power of two strictly below `x` (x ≥ 2), without 32-bit bitwise maths. */
function splitPoint(x: number): number {
  let k = 1
  while (k * 2 < x) k *= 2
  return k
}

/** MTH of consecutive subtrees that form an RFC 9162 subtree: fold from the right. */
function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  let r = hashes[hashes.length - 1]
  if (r === undefined) return emptyTreeRoot()
  for (let i = hashes.length - 2; i >= 0; i--) r = nodeHashBytes(hashes[i]!, r)
  return copy(r)
}

/**
 * The perfect subtrees, left to right, that exactly cover leaves
 * `[begin, end)` with the fewest nodes (the nodes of a compact range).
 *
 * @throws {InvalidInputError} `begin`/`end` not non-negative safe integers, or `begin > end`.
 * @example perfectSubtrees(0, 6) // [{ level: 2, index: 0 }, { level: 1, index: 2 }]
 */
export function perfectSubtrees(begin: number, end: number): SubtreeId[] {
  checkCount('begin', begin)
  checkCount('end', end)
  if (begin > end) throw new InvalidInputError('begin', `${begin} is greater than end ${end}`)
  const out: SubtreeId[] = []
  let pos = begin
  while (pos < end) {
    let size = 1
    while ((pos === 0 || pos % (size * 2) === 0) && pos + size * 2 <= end) size *= 2
    out.push({ level: Math.log2(size), index: pos / size })
    pos += size
  }
  return out
}

/**
 * A compact range: the roots of the perfect subtrees covering leaves
 * `[begin, end)` — at most 2·log2(n) hashes, whatever the number of leaves.
 * Appending leaf hashes to a range that starts at 0 computes the tree root
 * in one streaming pass; the ledger can keep one at its head and persist
 * `hashes` (restore with {@link CompactRange.fromHashes}).
 *
 * @example
 * ```ts
 * const range = new CompactRange()
 * for await (const leaf of leafHashes) range.append(leaf)
 * const root = range.root() // same as merkleRoot([...leafHashes])
 * ```
 */
export class CompactRange {
  #begin: number
  #end: number
  readonly #hashes: Uint8Array[] = []
  readonly #levels: number[] = []

  /**
   * An empty range at `begin` (default 0).
   * @throws {InvalidInputError} `begin` is not a non-negative safe integer.
   */
  constructor(begin = 0) {
    checkCount('begin', begin)
    this.#begin = begin
    this.#end = begin
  }

  /**
   * Restores a range from its `begin`, `end` and `hashes` (as returned by the
   * getters). The hashes are copied.
   * @throws {InvalidInputError} bad bounds, or `hashes` not the
   *   `perfectSubtrees(begin, end).length` 32-byte hashes the range needs.
   */
  static fromHashes(begin: number, end: number, hashes: readonly Uint8Array[]): CompactRange {
    const ids = perfectSubtrees(begin, end)
    if (hashes.length !== ids.length) {
      throw new InvalidInputError(
        'hashes',
        `has ${hashes.length} hashes but the range [${begin}, ${end}) needs ${ids.length}`,
      )
    }
    for (const [i, h] of hashes.entries()) checkHash(`hashes[${i}]`, h)
    const range = new CompactRange(begin)
    range.#end = end
    for (const [i, id] of ids.entries()) {
      range.#hashes.push(copy(hashes[i]!))
      range.#levels.push(id.level)
    }
    return range
  }

  /** First leaf index covered. */
  get begin(): number {
    return this.#begin
  }

  /** One past the last leaf index covered (for a range from 0: the tree size). */
  get end(): number {
    return this.#end
  }

  /** Copies of the subtree hashes, left to right, one per `perfectSubtrees(begin, end)` entry. */
  get hashes(): Uint8Array[] {
    return this.#hashes.map(copy)
  }

  /** An independent copy of this range. */
  clone(): CompactRange {
    return CompactRange.fromHashes(this.#begin, this.#end, this.#hashes)
  }

  /**
   * Extends the range by the leaf at index `end`.
   * @param leafHash - its 32-byte RFC 9162 leaf hash (copied).
   * @param visit - called with each interior node this append completes,
   *   lowest first (use it to fill a {@link NodeCache}).
   * @throws {InvalidInputError} `leafHash` is not a 32-byte `Uint8Array`.
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    checkHash('leafHash', leafHash)
    this.#push(0, copy(leafHash), visit)
  }

  /**
   * Extends this range by `other`, which must start where this one ends.
   * `other` is not modified.
   * @param visit - called with each interior node the merge completes.
   * @throws {InvalidInputError} `other.begin` is not `this.end`.
   */
  merge(other: CompactRange, visit?: NodeVisitor): void {
    if (!(other instanceof CompactRange) || other.#begin !== this.#end) {
      const got = other instanceof CompactRange ? String(other.#begin) : typeof other
      throw new InvalidInputError('other', `must begin at ${this.#end}, begins at ${got}`)
    }
    const levels = [...other.#levels]
    const hashes = [...other.#hashes]
    for (const [i, level] of levels.entries()) this.#push(level, hashes[i]!, visit)
  }

  #push(level: number, hash: Uint8Array, visit: NodeVisitor | undefined): void {
    let width = 2 ** level
    let index = this.#end / width
    this.#end += width
    this.#hashes.push(hash)
    this.#levels.push(level)
    // Merge with the left sibling while that sibling is inside the range.
    while (index % 2 === 1 && (index - 1) * width >= this.#begin) {
      const right = this.#hashes.pop()!
      const left = this.#hashes.pop()!
      this.#levels.pop()
      this.#levels.pop()
      const parent = nodeHashBytes(left, right)
      level++
      width *= 2
      index = (index - 1) / 2
      this.#hashes.push(parent)
      this.#levels.push(level)
      visit?.(level, index, parent)
    }
  }

  /**
   * The RFC 9162 Merkle tree hash (MTH) of leaves `[0, end)`; the empty-tree
   * root for an empty range.
   * @throws {InvalidInputError} the range does not begin at 0.
   */
  root(): Uint8Array {
    if (this.#begin !== 0) {
      throw new InvalidInputError(
        'begin',
        `root() needs a range from 0, this one begins at ${this.#begin}`,
      )
    }
    return foldRight(this.#hashes)
  }
}

/**
 * RFC 9162 Merkle tree hash (MTH) of the given leaf hashes; SHA-256 of the
 * empty string for no leaves.
 * @throws {InvalidInputError} a leaf (`leaves[i]`) is not a 32-byte hash.
 * @example bytesToHex(merkleRoot([])) // 'e3b0c442…b855'
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const range = new CompactRange()
  for (const [i, leaf] of leaves.entries()) {
    checkHash(`leaves[${i}]`, leaf)
    range.append(leaf)
  }
  return range.root()
}

/** A half-open leaf range `[begin, end)` that is a subtree of an RFC 9162 tree. */
export type LeafRange = readonly [begin: number, end: number]

/**
 * The leaf ranges whose MTHs make up the RFC 9162 inclusion proof (PATH) of
 * leaf `index` in a tree of `size` leaves, in proof order (nearest first).
 * @throws {InvalidInputError} bad numbers, or `index` not below `size`.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkCount('index', index)
  checkCount('size', size)
  if (index >= size) throw new InvalidInputError('index', `${index} is not below size ${size}`)
  const out: LeafRange[] = []
  let lo = 0
  let hi = size
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo)
    if (index < lo + k) {
      out.push([lo + k, hi])
      hi = lo + k
    } else {
      out.push([lo, lo + k])
      lo += k
    }
  }
  return out.reverse()
}

/**
 * The leaf ranges whose MTHs make up the RFC 9162 consistency proof (PROOF)
 * from size `m` to size `n`, in proof order. Empty when `m == n` or `m == 0`.
 * @throws {InvalidInputError} bad numbers, or `m > n`.
 */
export function consistencyProofRanges(m: number, n: number): LeafRange[] {
  checkCount('m', m)
  checkCount('n', n)
  if (m > n) throw new InvalidInputError('m', `${m} is greater than n ${n}`)
  if (m === 0 || m === n) return []
  const out: LeafRange[] = []
  let lo = 0
  let hi = n
  let whole = true // SUBPROOF's b: still on the old tree's own root
  while (m !== hi) {
    const k = splitPoint(hi - lo)
    if (m <= lo + k) {
      out.push([lo + k, hi])
      hi = lo + k
    } else {
      out.push([lo, lo + k])
      lo += k
      whole = false
    }
  }
  if (!whole) out.push([lo, hi])
  return out.reverse()
}

interface Slot {
  readonly level: number
  readonly index: number
  readonly begin: number
  readonly end: number
  hash: Uint8Array | undefined
}

/** MTH of each range: cached subtrees where available, else one read per contiguous run of leaves. */
async function resolve(
  source: LeafSource,
  ranges: readonly LeafRange[],
  cache: NodeCache | undefined,
): Promise<Uint8Array[]> {
  const perRange = ranges.map(([b, e]) =>
    perfectSubtrees(b, e).map((id): Slot => {
      const width = 2 ** id.level
      return { ...id, begin: id.index * width, end: (id.index + 1) * width, hash: undefined }
    }),
  )
  const all = perRange.flat()
  if (cache !== undefined) {
    // O(log n) lookups, issued together so a disk-backed cache can overlap them.
    const found = await Promise.all(all.map((s) => cache.nodeHash(s.level, s.index)))
    for (const [i, h] of found.entries()) {
      const s = all[i]!
      if (h === undefined) continue
      if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) {
        throw new CorruptLedgerError(
          `node cache returned a bad hash for level ${s.level} index ${s.index}`,
        )
      }
      s.hash = h
    }
  }
  const missing = all.filter((s) => s.hash === undefined).sort((a, b) => a.begin - b.begin)
  for (let i = 0; i < missing.length; ) {
    let j = i + 1
    while (j < missing.length && missing[j]!.begin === missing[j - 1]!.end) j++
    await stream(source, missing.slice(i, j))
    i = j
  }
  return perRange.map((slots) => foldRight(slots.map((s) => s.hash!)))
}

/** Reads the leaves of consecutive subtrees once and sets their hashes. */
async function stream(source: LeafSource, slots: readonly Slot[]): Promise<void> {
  const from = slots[0]!.begin
  const to = slots[slots.length - 1]!.end
  let pos = from
  let k = 0
  let range = new CompactRange(from)
  for await (const leaf of source.leafHashes(from, to)) {
    if (pos >= to) {
      throw new CorruptLedgerError(
        `leaf source yielded over ${to - from} hashes for [${from}, ${to})`,
      )
    }
    if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_BYTES) {
      throw new CorruptLedgerError(`leaf source yielded a bad leaf hash for leaf ${pos}`)
    }
    range.append(leaf)
    pos++
    const slot = slots[k]!
    if (pos === slot.end) {
      slot.hash = range.hashes[0]!
      k++
      range = new CompactRange(pos)
    }
  }
  if (pos !== to) {
    throw new CorruptLedgerError(
      `leaf source yielded ${pos - from} hashes for [${from}, ${to}), expected ${to - from}`,
    )
  }
}

/**
 * RFC 9162 root of the first `size` leaves of `source`, streaming (O(log n)
 * memory) and using `options.cache` for whole subtrees when it has them.
 * @throws {InvalidInputError} `size` is not a non-negative safe integer.
 * @throws {CorruptLedgerError} the source or cache returned bad data.
 */
export async function treeRoot(
  source: LeafSource,
  size: number,
  options: ProofOptions = {},
): Promise<Uint8Array> {
  checkCount('size', size)
  if (size === 0) return emptyTreeRoot()
  const [root] = await resolve(source, [[0, size]], options.cache)
  return root!
}

/**
 * RFC 9162 inclusion proof (PATH) for leaf `index` in the tree of the first
 * `size` leaves of `source`. Without a cache it reads every other leaf of
 * that tree once (two sequential reads); with a cache holding every subtree
 * it reads O(log n) nodes and no leaves.
 * @throws {InvalidInputError} bad numbers, or `index` not below `size`.
 * @throws {CorruptLedgerError} the source or cache returned bad data.
 * @example
 * ```ts
 * const proof = await inclusionProof(ledgerLeaves, seq, checkpoint.size, { cache })
 * verifyInclusion(leaf, seq, checkpoint.size, proof, checkpoint.root) // true
 * ```
 */
export async function inclusionProof(
  source: LeafSource,
  index: number,
  size: number,
  options: ProofOptions = {},
): Promise<Uint8Array[]> {
  return resolve(source, inclusionProofRanges(index, size), options.cache)
}

/**
 * RFC 9162 consistency proof (PROOF) from the tree of the first `m` leaves
 * to the tree of the first `n` leaves of `source`; empty when `m == n` or
 * `m == 0` (see `assertConsistency` for that convention).
 * @throws {InvalidInputError} bad numbers, or `m > n`.
 * @throws {CorruptLedgerError} the source or cache returned bad data.
 */
export async function consistencyProof(
  source: LeafSource,
  m: number,
  n: number,
  options: ProofOptions = {},
): Promise<Uint8Array[]> {
  return resolve(source, consistencyProofRanges(m, n), options.cache)
}

/** A {@link LeafSource} over leaf hashes held in memory. */
export function leafSourceFromArray(leaves: readonly Uint8Array[]): LeafSource {
  return { leafHashes: (from, to) => leaves.slice(from, to) }
}

/** Checks the first `size` leaves and returns `MTH(D[begin:end])` for each range. */
function rangeRootsSync(
  leaves: readonly Uint8Array[],
  name: string,
  size: number,
  ranges: readonly LeafRange[],
): Uint8Array[] {
  if (size > leaves.length) {
    throw new InvalidInputError(name, `${size} is greater than the ${leaves.length} leaves given`)
  }
  for (let i = 0; i < size; i++) checkHash(`leaves[${i}]`, leaves[i]!)
  return ranges.map(([begin, end]) => merkleRoot(leaves.slice(begin, end)))
}

/**
 * Synchronous {@link inclusionProof} over in-memory leaf hashes (tests, small trees).
 * @param size - tree size, default `leaves.length`.
 * @throws {InvalidInputError} bad numbers, `index` not below `size`, `size`
 *   beyond the leaves given, or a leaf that is not a 32-byte hash.
 */
export function inclusionProofSync(
  leaves: readonly Uint8Array[],
  index: number,
  size = leaves.length,
): Uint8Array[] {
  return rangeRootsSync(leaves, 'size', size, inclusionProofRanges(index, size))
}

/**
 * Synchronous {@link consistencyProof} over in-memory leaf hashes.
 * @param n - new tree size, default `leaves.length`.
 * @throws {InvalidInputError} bad numbers, `m > n`, `n` beyond the leaves
 *   given, or a leaf that is not a 32-byte hash.
 */
export function consistencyProofSync(
  leaves: readonly Uint8Array[],
  m: number,
  n = leaves.length,
): Uint8Array[] {
  return rangeRootsSync(leaves, 'n', n, consistencyProofRanges(m, n))
}
