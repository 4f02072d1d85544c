/**
 * An in-memory {@link LedgerStore}: for tests, drills and short-lived tools.
 *
 * @module
 */
import { ConflictError, InvalidInputError, LedgerError } from './errors.js'
import { ZERO_HASH } from './hash.js'
import type { EncodedReceipt, LedgerStore, StoredLine, StoreHead } from './store.js'

/** Options for {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Name shown in messages after `memory:`; default `ledger`. */
  readonly name?: string
}

/** A {@link LedgerStore} that keeps receipts in process memory. */
export interface MemoryStore extends LedgerStore {
  /** Number of receipts held (synchronous, for tests). */
  readonly size: number
}

/**
 * Creates an empty in-memory store. Appends are atomic per batch; a batch
 * whose first `seq` is not the current size fails with a
 * {@link ConflictError} and writes nothing.
 *
 * @example
 * ```ts
 * const ledger = createLedger({ store: createMemoryStore() })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const lines: Uint8Array[] = []
  const hashes: string[] = []
  let closed = false

  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', 'the memory store is closed')
  }

  return {
    location: `memory:${options.name ?? 'ledger'}`,
    get size() {
      return lines.length
    },
    async head(): Promise<StoreHead> {
      assertOpen()
      return { size: lines.length, hash: hashes.at(-1) ?? ZERO_HASH }
    },
    async append(entries: readonly EncodedReceipt[]): Promise<void> {
      assertOpen()
      if (entries.length === 0) return
      const first = entries[0]!.seq
      for (let i = 0; i < entries.length; i++) {
        if (entries[i]!.seq !== first + i) {
          throw new InvalidInputError(`entries[${i}].seq`, `must be ${first + i} (consecutive)`)
        }
      }
      if (first !== lines.length) {
        throw new ConflictError(
          first,
          0,
          first < lines.length
            ? `seq ${first} is already taken (size ${lines.length})`
            : `seq ${first} would leave a gap after ${lines.length}`,
        )
      }
      for (const e of entries) {
        lines.push(e.bytes.slice())
        hashes.push(e.hash)
      }
    },
    async *read(from = 0, to?: number): AsyncIterable<StoredLine> {
      assertOpen()
      const end = Math.min(to ?? lines.length, lines.length)
      for (let seq = Math.max(0, from); seq < end; seq++) {
        yield { seq, bytes: lines[seq]! }
      }
    },
    async close(): Promise<void> {
      closed = true
    },
  }
}
