/**
 * An in-memory {@link LedgerStore}: for tests, drills and short-lived tools.
 *
 * @module
 */
import { type Anchor, checkAnchor } from './anchor.js'
import { ConflictError, LedgerError } from './errors.js'
import { ZERO_HASH } from './hash.js'
import {
  checkAppendRange,
  type EncodedReceipt,
  type LedgerStore,
  type StoredLine,
  type StoreHead,
} from './store.js'

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Name shown in messages after `memory:`; default `ledger`. */
  readonly name?: string
  /**
   * Begin at this anchor instead of receipt 0 (see `anchor.ts`): the store
   * holds receipts from `anchor.seq` on; its head starts at
   * `{size: anchor.seq, hash: anchor.prev}`. Checked with `checkAnchor`.
   */
  readonly anchor?: Anchor | undefined
}

/** A {@link LedgerStore} that keeps receipts in process memory. */
export interface MemoryStore extends LedgerStore {
  /**
   * The ledger's size (synchronous, for tests): the `seq` after the last
   * receipt, counting retired receipts before an anchor.
   */
  readonly size: number
}

/**
 * Creates an empty in-memory store, optionally beginning at an anchor.
 * Appends are atomic per batch; a batch whose first `seq` is not the
 * current size fails with a {@link ConflictError} and writes nothing.
 *
 * @throws {@link InvalidInputError} for a bad `anchor` (naming the field).
 *
 * @example
 * ```ts
 * const ledger = createLedger({ store: createMemoryStore() })
 * const restored = createMemoryStore({ anchor: plan.anchor })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const anchor = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  const base = anchor?.seq ?? 0
  const lines: Uint8Array[] = []
  const hashes: string[] = []
  let closed = false

  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', 'the memory store is closed')
  }

  return {
    location: `memory:${options.name ?? 'ledger'}`,
    ...(anchor === undefined ? {} : { anchor }),
    get size() {
      return base + lines.length
    },
    async head(): Promise<StoreHead> {
      assertOpen()
      return { size: base + lines.length, hash: hashes.at(-1) ?? anchor?.prev ?? ZERO_HASH }
    },
    async append(entries: readonly EncodedReceipt[]): Promise<void> {
      assertOpen()
      if (entries.length === 0) return
      const first = checkAppendRange(entries, base)
      const size = base + lines.length
      if (first !== size) {
        throw new ConflictError(
          first,
          0,
          first < size
            ? `seq ${first} is already taken (size ${size})`
            : `seq ${first} would leave a gap after ${size}`,
        )
      }
      for (const e of entries) {
        lines.push(e.bytes.slice())
        hashes.push(e.hash)
      }
    },
    async *read(from = 0, to?: number): AsyncIterable<StoredLine> {
      assertOpen()
      const size = base + lines.length
      const end = Math.min(to ?? size, size)
      for (let seq = Math.max(base, from); seq < end; seq++) {
        yield { seq, bytes: lines[seq - base]! }
      }
    },
    async close(): Promise<void> {
      closed = true
    },
  }
}
