/**
 * The tree state itself (see `tree-state.ts` for what it holds and how it
 * is checked): loading and checking stored bytes, the incremental update,
 * and proofs that read whole blocks of 2^L receipts and check them.
 *
 * An anchored ledger's state starts from the anchor (size `N`, head
 * `anchor.prev`, the anchor's compact range; see `_anchor-tree.ts`): stored
 * subtrees begin at the one holding receipt `N`, a proof's nodes before it
 * come from the anchor, and retired receipts fail with a
 * {@link RetiredReceiptError}.
 *
 * @internal
 * @module
 */
import { AnchorNodes, anchorDigest, anchoredLeafSource, anchoredNodeCache } from './_anchor-tree.js'
import { type PositionedLine, StalePositionError, type StoreHooks } from './_store-hooks.js'
import { decodeTreeState, encodeTreeState, type TreeStateData } from './_tree-codec.js'
import { SubtreeLevels } from './_tree-levels.js'
import { type Anchor, anchorRange } from './anchor.js'
import { CorruptLedgerError, InvalidInputError, RetiredReceiptError } from './errors.js'
import { bytesToHex, HASH_BYTES, hexToBytes, leafHashBytes, ZERO_HASH } from './hash.js'
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  type LeafSource,
  merkleRoot,
  type NodeCache,
  perfectSubtrees,
  treeRoot,
} from './merkle.js'
import type { EncodedReceipt, LedgerStore } from './store.js'
import type {
  TreeState,
  TreeStateLoad,
  TreeStateOptions,
  TreeStateStorage,
  TreeStateUpdate,
} from './tree-state.js'

/** The ledger no longer matches the state; carries the reason for the rebuild. */
class Mismatch extends Error {}

function checkCount(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(name, `must be a non-negative integer, got ${String(value)}`)
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && Buffer.compare(a, b) === 0
}

const PREV_KEY = Buffer.from(',"prev":"', 'latin1')

/**
 * The `prev` field of a receipt's canonical bytes: the last `,"prev":"` (only
 * `seq`, `ts`, `type` and `v` follow the envelope's own, and none can hold it).
 */
function prevOf(bytes: Uint8Array): string | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = buf.lastIndexOf(PREV_KEY)
  return at < 0
    ? undefined
    : buf.toString('latin1', at + PREV_KEY.length, at + PREV_KEY.length + 64)
}

type ReadPositioned = NonNullable<StoreHooks['readPositioned']>

/** @internal Use `openTreeState`. */
export class Tree implements TreeState {
  readonly store: LedgerStore
  readonly storage: TreeStateStorage | undefined
  readonly level: number
  readonly cache: NodeCache
  readonly leafSource: LeafSource
  loaded: TreeStateLoad = { status: 'no-storage', size: 0, reason: undefined }
  lastRebuild: string | undefined
  leavesRead = 0

  readonly #width: number
  readonly #options: TreeStateOptions
  readonly #readPositioned: ReadPositioned | undefined
  /** The store's anchor, its nodes and digest, for an anchored ledger. */
  readonly #anchor: Anchor | undefined
  readonly #nodes: AnchorNodes | undefined
  readonly #anchorDigest: Uint8Array | undefined
  /** The first receipt held: the anchor's seq, or 0. */
  readonly #base: number
  /** Index of the first position kept: the first 2^L-th receipt at or after the anchor. */
  readonly #firstPosition: number
  /** What proofs read through: stored subtrees (and the anchor's nodes). */
  readonly #levelsCache: NodeCache
  #size = 0
  #head: Uint8Array = new Uint8Array(HASH_BYTES)
  #range = new CompactRange()
  #levels: SubtreeLevels
  #positions: number[] | undefined
  /** Checked against the ledger since loaded or rebuilt. */
  #checked = false
  /** Why the loaded bytes were discarded, reported by the first update. */
  #pending: string | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(
    store: LedgerStore,
    storage: TreeStateStorage | undefined,
    level: number,
    options: TreeStateOptions,
    readPositioned: ReadPositioned | undefined,
  ) {
    this.store = store
    this.storage = storage
    this.level = level
    this.#width = 2 ** level
    this.#options = options
    this.#readPositioned = readPositioned
    this.#anchor = store.anchor
    this.#nodes = this.#anchor === undefined ? undefined : new AnchorNodes(this.#anchor)
    this.#anchorDigest = this.#anchor === undefined ? undefined : anchorDigest(this.#anchor)
    this.#base = this.#anchor?.seq ?? 0
    this.#firstPosition = Math.ceil(this.#base / this.#width)
    this.#levels = new SubtreeLevels(level, this.#nodes)
    this.#positions = readPositioned === undefined ? undefined : []
    this.#levelsCache = { nodeHash: (l, i) => this.#levels.get(l, i) }
    this.leafSource = {
      leafHashes: (from, to) => this.#leafHashes(from, to),
    }
    this.cache =
      this.#nodes === undefined
        ? this.#levelsCache
        : anchoredNodeCache(this.#nodes, this.leafSource, this.#levelsCache)
    this.#reset()
  }

  get size(): number {
    return this.#size
  }

  get headHash(): string {
    return this.#size === 0 ? ZERO_HASH : bytesToHex(this.#head)
  }

  /** Runs `fn` after every earlier call. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async load(): Promise<void> {
    if (this.storage === undefined) return
    const bytes = await this.storage.load()
    if (bytes === undefined) {
      this.loaded = { status: 'missing', size: 0, reason: undefined }
      return
    }
    try {
      const data = decodeTreeState(bytes, this.storage.name)
      this.#adopt(data)
      this.loaded = { status: 'loaded', size: data.size, reason: undefined }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      this.#reset()
      this.#pending = `the stored tree state was discarded: ${reason}`
      this.loaded = { status: 'discarded', size: 0, reason }
    }
  }

  /** Takes a decoded state after checking it agrees with itself and with what is wanted. */
  #adopt(data: TreeStateData): void {
    const where = { file: this.storage?.name }
    if (data.level !== this.level) {
      throw new CorruptLedgerError(`built with level ${data.level}, not ${this.level}`, where)
    }
    const built = data.anchor
    if (
      (built === undefined) !== (this.#anchor === undefined) ||
      (built !== undefined &&
        (built.seq !== this.#base || !equalBytes(built.digest, this.#anchorDigest)))
    ) {
      throw new CorruptLedgerError(
        built === undefined
          ? `built for a ledger that begins at receipt 0, but this one begins at its anchor (seq ${this.#base})`
          : this.#anchor === undefined
            ? `built for a ledger that begins at an anchor (seq ${built.seq}), but this one begins at receipt 0`
            : `built for another anchor (seq ${built.seq}) than this ledger's (seq ${this.#base})`,
        where,
      )
    }
    if ((data.positions === undefined) !== (this.#positions === undefined)) {
      throw new CorruptLedgerError(
        data.positions === undefined
          ? 'has no receipt positions but this store offers them'
          : 'has receipt positions but this store has none',
        where,
      )
    }
    const levels = SubtreeLevels.fromChunks(this.level, data.chunks, this.#nodes)
    const whole = levels.chunkEnd * this.#width
    const ids = perfectSubtrees(0, whole)
    for (const [i, id] of ids.entries()) {
      if (!equalBytes(data.range[i]!, levels.get(id.level, id.index))) {
        throw new CorruptLedgerError(
          `its compact range disagrees with its subtree hashes at level ${id.level}`,
          where,
        )
      }
    }
    this.#levels = levels
    this.#range = CompactRange.fromHashes(0, data.size, data.range)
    this.#size = data.size
    this.#head = data.headHash
    this.#positions = data.positions === undefined ? undefined : [...data.positions]
    this.#checked = false
  }

  #reset(): void {
    const anchor = this.#anchor
    this.#size = this.#base
    this.#head = anchor === undefined ? new Uint8Array(HASH_BYTES) : hexToBytes(anchor.prev)
    this.#range = anchor === undefined ? new CompactRange() : anchorRange(anchor)
    this.#levels = new SubtreeLevels(this.level, this.#nodes)
    this.#positions = this.#positions === undefined ? undefined : []
    this.#checked = false
  }

  update(): Promise<TreeStateUpdate> {
    return this.#serial(() => this.#update(undefined))
  }

  rebuild(): Promise<TreeStateUpdate> {
    return this.#serial(() => this.#update('a rebuild was asked for'))
  }

  async #update(force: string | undefined): Promise<TreeStateUpdate> {
    const previousSize = this.#size
    const readBefore = this.leavesRead
    let rebuilt = force ?? this.#pending
    this.#pending = undefined
    if (rebuilt !== undefined) this.#reset()
    const head = await this.store.head()
    if (this.#size > head.size) {
      rebuilt = `the ledger holds ${head.size} receipts, fewer than the ${this.#size} the tree state covers`
      this.#reset()
    }
    const unchanged = this.#checked && this.#size === head.size && this.headHash === head.hash
    if (!unchanged) {
      try {
        await this.#extend(head.size)
      } catch (error) {
        if (!(error instanceof Mismatch || error instanceof StalePositionError)) throw error
        rebuilt = error.message
        this.#reset()
        await this.#extend(head.size)
      }
      this.#checked = true
    }
    if (rebuilt !== undefined) this.lastRebuild = rebuilt
    const changed = !unchanged || rebuilt !== undefined
    const { saved, saveError } = changed
      ? await this.#save()
      : { saved: false, saveError: undefined }
    return {
      previousSize,
      size: this.#size,
      leavesRead: this.leavesRead - readBefore,
      rebuilt,
      saved,
      saveError,
    }
  }

  async #save(): Promise<{ saved: boolean; saveError: string | undefined }> {
    if (this.storage === undefined || this.storage.readOnly === true) {
      return { saved: false, saveError: undefined }
    }
    try {
      await this.storage.save(
        encodeTreeState({
          level: this.level,
          size: this.#size,
          headHash: this.#size === 0 ? new Uint8Array(HASH_BYTES) : this.#head,
          range: this.#range.hashes,
          chunks: this.#levels.chunkBytes(),
          positions: this.#positions,
          anchor:
            this.#anchorDigest === undefined
              ? undefined
              : { seq: this.#base, digest: this.#anchorDigest },
        }),
      )
      return { saved: true, saveError: undefined }
    } catch (error) {
      return { saved: false, saveError: error instanceof Error ? error.message : String(error) }
    }
  }

  /**
   * Reads from the start of the last block the state covers to `target`:
   * the receipts it already covers must reproduce its hashes (else
   * {@link Mismatch}); the others extend it.
   */
  async #extend(target: number): Promise<void> {
    const w = this.#width
    const old = this.#size
    // Unchecked: read back the last block (its held part, after an anchor).
    // Checked (in memory): start at `old`; the first new receipt's `prev`
    // must still link to the state's head (or the anchor's `prev`).
    const block = Math.floor((old - 1) / w) * w
    const start = old === this.#base || this.#checked ? old : Math.max(block, this.#base)
    // A last block straddling the anchor is checked from the anchor's nodes inside it.
    const check =
      start === old || block >= this.#base || this.#nodes === undefined
        ? new CompactRange(start)
        : this.#nodes.rangeFrom(block)
    const { onProgress, signal } = this.#options
    const every = this.#options.progressEvery ?? 65_536
    const total = target - start
    let next = every
    let seq = start
    const visit = (l: number, i: number, h: Uint8Array): void => this.#levels.visit(l, i, h)
    for await (const line of this.#lines(start, target)) {
      if (line.seq !== seq) {
        throw new CorruptLedgerError(`expected receipt ${seq}, read ${line.seq}`, {
          file: this.store.location,
        })
      }
      const leaf = leafHashBytes(line.bytes)
      if (seq < old) {
        check.append(leaf)
        if (seq === old - 1) this.#checkBlock(check, leaf)
      } else {
        if (seq === old && old > 0 && prevOf(line.bytes) !== this.headHash) {
          throw new Mismatch(
            `receipt ${old} does not link to receipt ${old - 1} the tree state ends with: the ledger was rewritten`,
          )
        }
        if (seq % w === 0 && this.#positions !== undefined) this.#positions.push(line.position)
        this.#range.append(leaf, visit)
        this.#head = leaf
        this.#size = seq + 1
      }
      seq++
      if (seq - start >= next) {
        next += every
        signal?.throwIfAborted()
        onProgress?.({ done: seq - start, total })
      }
    }
    if (seq !== target) {
      throw new CorruptLedgerError(`the ledger ends at receipt ${seq}, before ${target}`, {
        file: this.store.location,
      })
    }
    onProgress?.({ done: total, total })
  }

  /** The receipts of the state's last block, read back, must give its stored hashes. */
  #checkBlock(check: CompactRange, last: Uint8Array): void {
    const old = this.#size
    if (!equalBytes(last, this.#head)) {
      throw new Mismatch(
        `receipt ${old - 1} is not the one the tree state was built on (its leaf hash differs): the ledger was rewritten or the state belongs to another ledger`,
      )
    }
    const begin = check.begin
    const want =
      old - begin === this.#width
        ? [this.#levels.get(this.level, begin / this.#width)]
        : this.#range.hashes.slice(-perfectSubtrees(begin, old).length)
    const got = check.hashes
    if (got.length !== want.length || got.some((h, i) => !equalBytes(h, want[i]))) {
      throw new Mismatch(
        `receipts ${begin}…${old - 1} do not match the stored tree state (the state is damaged or stale)`,
      )
    }
  }

  /** Lines `[from, to)`, from the nearest remembered position; counts every line read. */
  async *#lines(from: number, to: number): AsyncGenerator<PositionedLine> {
    if (from >= to) return
    const read = this.#readPositioned
    if (read === undefined) {
      for await (const line of this.store.read(from, to)) {
        this.leavesRead++
        yield { seq: line.seq, bytes: line.bytes, position: 0 }
      }
      return
    }
    const positions = this.#positions ?? []
    const first = this.#firstPosition
    const block = Math.min(Math.floor(from / this.#width) - first, positions.length - 1)
    const at =
      block < 0 ? undefined : { seq: (first + block) * this.#width, position: positions[block]! }
    for await (const line of read(from, to, at)) {
      this.leavesRead++
      if (line.seq >= from) yield line
    }
  }

  async *#leafHashes(from: number, to: number): AsyncGenerator<Uint8Array> {
    checkCount('from', from)
    checkCount('to', to)
    if (from < this.#base && from < to) throw new RetiredReceiptError(from, this.#base)
    let seq = from
    for await (const line of this.#lines(from, to)) {
      if (line.seq !== seq) {
        throw new CorruptLedgerError(`expected receipt ${seq}, read ${line.seq}`, {
          file: this.store.location,
        })
      }
      seq++
      yield leafHashBytes(line.bytes)
    }
    if (seq !== to) {
      throw new CorruptLedgerError(`the ledger ends at receipt ${seq}, before ${to}`, {
        file: this.store.location,
      })
    }
  }

  /**
   * A leaf source for proofs: reads whole 2^L blocks (each at most once per
   * proof) and checks each against the stored hashes before using it.
   */
  #checkedSource(): LeafSource {
    /** Each block's held leaves, from `held` (its first receipt, or the anchor's seq). */
    const blocks = new Map<number, { held: number; leaves: Uint8Array[] }>()
    const w = this.#width
    const base = this.#base
    const nodes = this.#nodes
    const load = async (b: number): Promise<{ held: number; leaves: Uint8Array[] }> => {
      const have = blocks.get(b)
      if (have !== undefined) return have
      const begin = b * w
      const end = Math.min(begin + w, this.#size)
      const held = Math.max(begin, base)
      const leaves: Uint8Array[] = []
      for await (const leaf of this.#leafHashes(held, end)) leaves.push(leaf)
      // A block straddling the anchor starts from the anchor's nodes inside it.
      const range =
        held > begin && nodes !== undefined ? nodes.rangeFrom(begin) : new CompactRange(begin)
      for (const leaf of leaves) range.append(leaf)
      const whole = end - begin === w
      const ok = whole
        ? equalBytes(
            held === begin ? merkleRoot(leaves) : range.hashes[0]!,
            this.#levels.get(this.level, b),
          )
        : (() => {
            const want = this.#range.hashes.slice(-range.hashes.length)
            return range.hashes.every((h, i) => equalBytes(h, want[i]))
          })()
      if (!ok) {
        throw new Mismatch(
          `receipts ${held}…${end - 1} do not match the stored tree state (the ledger or the state changed)`,
        )
      }
      const loaded = { held, leaves }
      blocks.set(b, loaded)
      return loaded
    }
    const source: LeafSource = {
      async *leafHashes(from, to) {
        for (let b = Math.floor(from / w); b * w < to; b++) {
          const { held, leaves } = await load(b)
          const end = Math.min(to, (b + 1) * w)
          for (let i = Math.max(from, b * w); i < end; i++) yield leaves[i - held]!
        }
      },
    }
    return nodes === undefined ? source : anchoredLeafSource(source, base)
  }

  /** What proofs read: the checked leaves, and the stored subtrees (with the anchor's nodes). */
  #proofInputs(): { source: LeafSource; cache: NodeCache } {
    const source = this.#checkedSource()
    const cache =
      this.#nodes === undefined
        ? this.#levelsCache
        : anchoredNodeCache(this.#nodes, source, this.#levelsCache)
    return { source, cache }
  }

  /**
   * Makes sure the state is checked and covers `need` receipts; else an
   * error naming `name` (`value`: the argument as given).
   */
  async #ready(need: number, name: string, value: number): Promise<void> {
    if (!this.#checked || this.#pending !== undefined || need > this.#size) {
      await this.#update(undefined)
    }
    if (need > this.#size) {
      const n = this.#size
      throw new InvalidInputError(
        name,
        name === 'seq'
          ? `${value} is not below the ledger's ${n} receipts`
          : `${value} is beyond the ledger's ${n} receipts`,
      )
    }
  }

  /** Runs a proof computation; when the ledger contradicts the state, rebuilds once and retries. */
  async #retrying<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      if (!(error instanceof Mismatch || error instanceof StalePositionError)) throw error
      await this.#update(error.message)
      return fn()
    }
  }

  root(size?: number): Promise<Uint8Array> {
    return this.#serial(async () => {
      if (size !== undefined) checkCount('size', size)
      await this.#ready(size ?? 0, 'size', size ?? 0)
      const n = size ?? this.#size
      if (n === this.#size) return this.#range.root()
      return this.#retrying(() => {
        const { source, cache } = this.#proofInputs()
        return treeRoot(source, n, { cache })
      })
    })
  }

  inclusionProof(seq: number, size?: number): Promise<Uint8Array[]> {
    return this.#serial(async () => {
      checkCount('seq', seq)
      if (size !== undefined) checkCount('size', size)
      if (size !== undefined && seq >= size) {
        throw new InvalidInputError('seq', `${seq} is not below the tree size ${size}`)
      }
      if (seq < this.#base) throw new RetiredReceiptError(seq, this.#base)
      await (size === undefined
        ? this.#ready(seq + 1, 'seq', seq)
        : this.#ready(size, 'size', size))
      const n = size ?? this.#size
      if (seq >= n) throw new InvalidInputError('seq', `${seq} is not below the tree size ${n}`)
      return this.#retrying(() => {
        const { source, cache } = this.#proofInputs()
        return inclusionProof(source, seq, n, { cache })
      })
    })
  }

  consistencyProof(m: number, n?: number): Promise<Uint8Array[]> {
    return this.#serial(async () => {
      checkCount('m', m)
      if (n !== undefined) checkCount('n', n)
      if (n !== undefined && m > n) throw new InvalidInputError('m', `${m} is greater than n ${n}`)
      await (n === undefined ? this.#ready(m, 'm', m) : this.#ready(n, 'n', n))
      const to = n ?? this.#size
      return this.#retrying(() => {
        const { source, cache } = this.#proofInputs()
        return consistencyProof(source, m, to, { cache })
      })
    })
  }

  receipt(seq: number): Promise<EncodedReceipt> {
    return this.#serial(async () => {
      checkCount('seq', seq)
      if (seq < this.#base) throw new RetiredReceiptError(seq, this.#base)
      const head = await this.store.head()
      if (seq >= head.size) {
        throw new InvalidInputError('seq', `${seq} is not below the ledger's ${head.size} receipts`)
      }
      const read = async (): Promise<EncodedReceipt> => {
        for await (const line of this.#lines(seq, seq + 1)) {
          const bytes = new Uint8Array(line.bytes)
          return { seq, bytes, hash: bytesToHex(leafHashBytes(bytes)) }
        }
        throw new CorruptLedgerError(`receipt ${seq} could not be read`, {
          file: this.store.location,
        })
      }
      try {
        return await read()
      } catch (error) {
        if (!(error instanceof StalePositionError)) throw error
        await this.#update(error.message)
        return read()
      }
    })
  }
}
