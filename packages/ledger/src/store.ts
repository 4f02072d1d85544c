/**
 * The storage contract every ledger store implements.
 *
 * A store keeps receipts as their canonical bytes, addressed by `seq`. It
 * knows nothing of what a receipt means: the {@link Ledger} assigns `seq`,
 * `prev` and hashes, and the verifier checks them. The one primitive a store
 * must get right is the **create-only write at key `seq`**: writing a `seq`
 * that is already taken fails with a {@link ConflictError} and changes
 * nothing that was stored. Many writers on many machines can then append to
 * one ledger without a coordinator: the loser of a race re-reads the head and
 * tries again.
 *
 * A store may begin at an {@link Anchor} (see `anchor.ts`): it then holds
 * receipts from `anchor.seq` on, and its anchor commits to the retired ones
 * before. Stores without an anchor begin at 0 and are unaffected.
 *
 * @module
 */
import type { Anchor } from './anchor.js'
import { ConflictError, InvalidInputError } from './errors.js'

/** One stored receipt: its position and its canonical bytes. */
export interface StoredLine {
  /** Position in the ledger, 0-based. */
  readonly seq: number
  /** Canonical bytes (RFC 8785 JSON of the envelope), without a trailing newline. */
  readonly bytes: Uint8Array
}

/** A receipt ready to be written: position, canonical bytes and leaf hash. */
export interface EncodedReceipt extends StoredLine {
  /** RFC 9162 leaf hash of `bytes`, 64 lowercase hex characters. */
  readonly hash: string
}

/** The end of a ledger as a store sees it. */
export interface StoreHead {
  /**
   * The `seq` after the last receipt (the ledger's size, counting retired
   * receipts before an anchor); the next append goes to `seq === size`.
   */
  readonly size: number
  /**
   * Leaf hash of receipt `size - 1`: {@link ZERO_HASH} for an empty ledger,
   * the anchor's `prev` for an empty anchored one.
   */
  readonly hash: string
}

/** A byte range of raw ledger text, for verifying a store's files as they are. */
export interface RawSegment {
  /** File name or object key, used in problem locations. */
  readonly name: string
  /** Size in bytes when known (for progress bars). */
  readonly size?: number
  /**
   * The segment's bytes in order, in chunks of any size. A store may refill
   * one buffer for every chunk, so a chunk is only valid until the next one
   * is requested: copy what you keep.
   */
  readonly chunks: AsyncIterable<Uint8Array>
}

/** The storage contract. Implementations: {@link MemoryStore}, {@link FileStore}, and the adapters. */
export interface LedgerStore {
  /** Where the ledger lives, for messages (`memory:`, `file:/var/lib/baton/ledger`, `s3://…`). */
  readonly location: string

  /**
   * Where the ledger begins, when it does not begin at receipt 0: receipts
   * `0…anchor.seq-1` are retired (not held) and the anchor commits to them.
   * Fixed when the store is created (`createMemoryStore({anchor})`,
   * `openFileStore(dir, {create: true, anchor})`). An empty anchored store's
   * head is `{size: anchor.seq, hash: anchor.prev}`, appends continue at
   * `anchor.seq`, and {@link read} yields nothing below it. Absent (or
   * `undefined`): the ledger begins at 0, as every store did before anchors.
   */
  readonly anchor?: Anchor | undefined

  /**
   * The current head, read from storage (not a cached guess that may be
   * stale when other writers exist).
   */
  head(): Promise<StoreHead>

  /**
   * Durably writes `entries`, which hold consecutive `seq`s starting at
   * `entries[0].seq`, each one create-only.
   *
   * Resolves only once every entry is durable. If a `seq` is already taken,
   * rejects with a {@link ConflictError} whose `committed` counts the leading
   * entries that were written before the conflict (0 for stores whose batches
   * are atomic). A store may also reject a batch that would leave a gap
   * (`entries[0].seq > size`) with a `ConflictError`.
   */
  append(entries: readonly EncodedReceipt[]): Promise<void>

  /**
   * Reads receipts with `from <= seq < to` in order (`to` defaults to the
   * head at the time of the call). Stops early, without error, at the end of
   * the ledger. In an anchored store, `from` below the anchor reads from the
   * anchor: the retired receipts yield nothing (check `seq` of what is yielded).
   */
  read(from?: number, to?: number): AsyncIterable<StoredLine>

  /**
   * Optional: the store's raw bytes, segment by segment, exactly as stored
   * (including torn or malformed lines). The verifier prefers this to
   * {@link read} so it can report problems by file and line. An anchored
   * store's first segment begins with receipt `anchor.seq`.
   */
  rawSegments?(): AsyncIterable<RawSegment>

  /** Releases files, locks and connections. Further calls reject with code `CLOSED`. */
  close(): Promise<void>
}

/**
 * The checks every store's `append` begins with, for a non-empty batch:
 * the entries hold consecutive `seq`s, and none lies below `start` (the
 * store's anchor `seq`, 0 without one). Returns the first `seq`.
 *
 * @throws {@link InvalidInputError} naming the first entry out of sequence.
 * @throws {@link ConflictError} when the batch starts below `start`: that
 * `seq` is retired behind the anchor and can never be written.
 */
export function checkAppendRange(entries: readonly EncodedReceipt[], start: number): number {
  const first = entries[0]!.seq
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.seq !== first + i) {
      throw new InvalidInputError(`entries[${i}].seq`, `must be ${first + i} (consecutive)`)
    }
  }
  if (first < start) {
    throw new ConflictError(
      first,
      0,
      `seq ${first} is retired: the ledger begins at its anchor (seq ${start})`,
    )
  }
  return first
}
