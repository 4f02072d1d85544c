/**
 * Stored tree state: what makes checkpoints of a large ledger incremental
 * and lets an inclusion or consistency proof read a few hundred receipts
 * instead of the whole ledger.
 *
 * A tree state covers the first `size` receipts and holds
 * - the compact range `[0, size)` (at most 2·log2(size) hashes: the root);
 * - the leaf hash of receipt `size - 1` (the head it was built on);
 * - the hash of every complete perfect subtree at level L (one 32-byte hash
 *   per 2^L receipts; default L = 8, so 125 KB per million receipts);
 *   the levels above are recomputed in memory on load;
 * - where the store can tell (the file store), the position of every
 *   2^L-th receipt, so reading a few receipts does not scan a segment.
 *
 * It is derived data: the file store keeps it in `<dir>/tree-state.bin`
 * (written atomically), and it can always be rebuilt from the ledger.
 * Nothing in it is trusted blindly:
 * - on load, the bytes must be well formed with a valid SHA-256 checksum,
 *   the stored compact range must agree with the stored subtree hashes, and
 *   the level and kind of positions must be the ones wanted;
 * - before first use ({@link TreeState.update}), the receipts of the last
 *   (partial) 2^L block are read back and must reproduce the stored hashes,
 *   and receipt `size - 1` must still have the stored leaf hash, which
 *   commits through the `prev` chain to every receipt before it;
 * - every proof re-reads the 2^L blocks it needs from the ledger and checks
 *   them against the stored hashes; a remembered position must hold the
 *   receipt it should.
 *
 * Anything that does not match makes it rebuild from scratch and say why
 * ({@link TreeStateUpdate.rebuilt}, {@link TreeState.lastRebuild}).
 *
 * For an anchored store (see `anchor.ts`) the state starts from the anchor:
 * size `anchor.seq`, head `anchor.prev`, the anchor's compact range. Roots
 * and checkpoints equal the original ledger's at the same size; proofs for
 * held receipts work (the nodes before the anchor come from its range);
 * proofs for retired receipts, and roots of sizes the anchor's nodes do not
 * cover, throw a {@link RetiredReceiptError}. A stored state records the
 * anchor it was built on (format version 2) and is rebuilt for any other.
 *
 * @module
 */
import { storeHooks } from './_store-hooks.js'
import { MAX_TREE_LEVEL, MIN_TREE_LEVEL } from './_tree-codec.js'
import { Tree } from './_tree-impl.js'
import { InvalidInputError } from './errors.js'
import type { LeafSource, NodeCache } from './merkle.js'
import type { EncodedReceipt, LedgerStore } from './store.js'

export { createFileTreeStateStorage, createMemoryTreeStateStorage } from './_tree-storage.js'

/** Default {@link TreeStateOptions.level}: one stored hash per 256 receipts. */
export const DEFAULT_TREE_LEVEL = 8

/** File name of the file store's tree state, in the ledger directory. */
export const TREE_STATE_FILE = 'tree-state.bin'

/** Where a tree state's bytes are kept. */
export interface TreeStateStorage {
  /** For messages: a path or a name. */
  readonly name: string
  /** When true, {@link TreeStateStorage.save} is never called (a read-only store). */
  readonly readOnly?: boolean
  /** The stored bytes, or `undefined` when nothing is stored. */
  load(): Promise<Uint8Array | undefined>
  /** Replaces the stored bytes, atomically (a reader sees the old or the new bytes). */
  save(bytes: Uint8Array): Promise<void>
}

/** An in-memory {@link TreeStateStorage} whose bytes tests can read and damage. */
export interface MemoryTreeStateStorage extends TreeStateStorage {
  /** The stored bytes. */
  bytes: Uint8Array | undefined
}

/** Progress of a long {@link TreeState.update}: receipts read of those to read. */
export interface TreeStateProgress {
  readonly done: number
  readonly total: number
}

/** Options for {@link openTreeState}. */
export interface TreeStateOptions {
  /**
   * Where to keep the state. Default: the store's own place (the file
   * store: `<dir>/tree-state.bin`, never written when it is read-only), or
   * nowhere for other stores. `null`: keep it in memory only.
   */
  readonly storage?: TreeStateStorage | null
  /**
   * L: store one subtree hash per 2^L receipts (1 to 24; default
   * {@link DEFAULT_TREE_LEVEL}). A proof reads at most about 2^(L+1)
   * receipts; the state takes 32 bytes per 2^L receipts. A stored state of
   * another level is rebuilt.
   */
  readonly level?: number
  /** Called while {@link TreeState.update} reads receipts, every `progressEvery` and at the end. */
  readonly onProgress?: (progress: TreeStateProgress) => void
  /** Receipts between progress calls; default 65,536. */
  readonly progressEvery?: number
  /** Aborts a running update (it rejects with the signal's reason; the state stays usable). */
  readonly signal?: AbortSignal
}

/** What {@link openTreeState} found in storage. */
export interface TreeStateLoad {
  /**
   * `loaded`: a well-formed state (checked against the ledger on first
   * use); `missing`: nothing stored; `discarded`: the stored bytes are not
   * usable (`reason` says why) and the state will be rebuilt;
   * `no-storage`: the state lives in memory only.
   */
  readonly status: 'loaded' | 'missing' | 'discarded' | 'no-storage'
  /** Receipts the loaded state covers (0 unless `loaded`). */
  readonly size: number
  /** Why the stored bytes were discarded. */
  readonly reason: string | undefined
}

/** The result of {@link TreeState.update} or {@link TreeState.rebuild}. */
export interface TreeStateUpdate {
  /** Receipts covered before. */
  readonly previousSize: number
  /** Receipts covered now: the ledger's size when the update started. */
  readonly size: number
  /** Receipts read from the store by this update. */
  readonly leavesRead: number
  /** Set when the state was rebuilt from scratch: why. */
  readonly rebuilt: string | undefined
  /** True when the new state was written to storage. */
  readonly saved: boolean
  /** Set when writing it failed (the state in memory is still right). */
  readonly saveError: string | undefined
}

/** A ledger's stored tree state. Get one with {@link openTreeState}. */
export interface TreeState {
  /** The store it describes. */
  readonly store: LedgerStore
  /** Where it is kept, if anywhere. */
  readonly storage: TreeStateStorage | undefined
  /** L: one stored hash per 2^L receipts. */
  readonly level: number
  /** Receipts covered, counting retired ones before an anchor (checked against the ledger once {@link update} has run). */
  readonly size: number
  /** Leaf hash of receipt `size - 1`, hex ({@link ZERO_HASH} when empty). */
  readonly headHash: string
  /** What was found in storage when opened. */
  readonly loaded: TreeStateLoad
  /** Why the state was last rebuilt from scratch, if it was since it was opened. */
  readonly lastRebuild: string | undefined
  /** Receipts read from the store since opened (for tests and benchmarks). */
  readonly leavesRead: number
  /**
   * Subtree hashes at level L and above, for `treeRoot`, `inclusionProof`
   * and `consistencyProof` of `merkle.ts` (levels below L: `undefined`).
   */
  readonly cache: NodeCache
  /**
   * The ledger's leaf hashes, read through positioned reads where the store
   * offers them (not checked against the state).
   */
  readonly leafSource: LeafSource
  /**
   * Brings the state up to the ledger's current head, reading only the
   * receipts after `size` (and the last 2^L block, to check the state still
   * describes this ledger); rebuilds from scratch when it does not. Saves it.
   */
  update(): Promise<TreeStateUpdate>
  /** Recomputes the state from every receipt of the ledger and saves it. */
  rebuild(): Promise<TreeStateUpdate>
  /**
   * RFC 9162 root of the first `size` receipts (default: all it covers).
   * Updates first if `size` is beyond it.
   * @throws {InvalidInputError} `size` is not a count, or beyond the ledger.
   * @throws {RetiredReceiptError} `size` is before an anchor whose nodes do not cover it.
   */
  root(size?: number): Promise<Uint8Array>
  /**
   * RFC 9162 inclusion proof of receipt `seq` in the tree of the first
   * `size` receipts (default: all it covers).
   * @throws {InvalidInputError} naming `seq` or `size`.
   * @throws {RetiredReceiptError} `seq` is before the store's anchor.
   */
  inclusionProof(seq: number, size?: number): Promise<Uint8Array[]>
  /**
   * RFC 9162 consistency proof from the first `m` to the first `n` receipts
   * (default: all it covers).
   * @throws {InvalidInputError} naming `m` or `n`.
   * @throws {RetiredReceiptError} `m` is before the store's anchor and the proof needs a retired subtree.
   */
  consistencyProof(m: number, n?: number): Promise<Uint8Array[]>
  /**
   * Receipt `seq` as stored, with its leaf hash (one positioned read).
   * @throws {InvalidInputError} `seq` is not below the ledger's size.
   * @throws {RetiredReceiptError} `seq` is before the store's anchor.
   */
  receipt(seq: number): Promise<EncodedReceipt>
}

/**
 * Opens a ledger's tree state: loads what storage holds (checking its
 * structure and checksum) without reading the ledger. Call
 * {@link TreeState.update} to check it against the ledger and bring it up
 * to date; the proof methods do so when needed.
 *
 * @throws {InvalidInputError} a bad option (`level`, `storage`, `progressEvery`).
 * @throws `IO` errors from storage.
 *
 * @example
 * ```ts
 * const state = await openTreeState(await openFileStore('./ledger'))
 * await state.update() // reads only the receipts appended since the last time
 * const note = signCheckpoint({ origin, size: state.size, root: await state.root() }, [signer])
 * const proof = await state.inclusionProof(42) // reads ~2 blocks of 256 receipts
 * ```
 */
export async function openTreeState(
  store: LedgerStore,
  options: TreeStateOptions = {},
): Promise<TreeState> {
  if (typeof store !== 'object' || store === null || typeof store.read !== 'function') {
    throw new InvalidInputError('store', 'must be a LedgerStore')
  }
  const level = options.level ?? DEFAULT_TREE_LEVEL
  if (!Number.isInteger(level) || level < MIN_TREE_LEVEL || level > MAX_TREE_LEVEL) {
    throw new InvalidInputError(
      'level',
      `must be an integer from ${MIN_TREE_LEVEL} to ${MAX_TREE_LEVEL}, got ${String(level)}`,
    )
  }
  const every = options.progressEvery ?? 65_536
  if (!Number.isSafeInteger(every) || every < 1) {
    throw new InvalidInputError('progressEvery', 'must be a positive integer')
  }
  const hooks = storeHooks(store)
  const storage =
    options.storage === null ? undefined : (options.storage ?? hooks?.treeStateStorage?.())
  if (
    storage !== undefined &&
    (typeof storage.load !== 'function' || typeof storage.save !== 'function')
  ) {
    throw new InvalidInputError('storage', 'must have load() and save()')
  }
  const state = new Tree(store, storage, level, options, hooks?.readPositioned)
  await state.load()
  return state
}
