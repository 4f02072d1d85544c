/**
 * Optional capabilities a store offers the tree state beyond the
 * {@link LedgerStore} contract, attached under a registered symbol so the
 * contract itself does not change: positioned reads (so a proof reads a few
 * hundred receipts, not a whole segment) and where to keep the tree state.
 *
 * @internal
 * @module
 */
import { CorruptLedgerError } from './errors.js'
import type { LedgerStore } from './store.js'
import type { TreeStateStorage } from './tree-state.js'

/** The symbol a store's {@link StoreHooks} live under (registered: works across package copies). */
export const STORE_HOOKS: unique symbol = Symbol.for('baton.ledger.store-hooks') as never

/** Where a receipt's line starts: a store-defined position (for the file store, the byte offset in its segment). */
export interface LinePosition {
  /** The receipt. */
  readonly seq: number
  /** Its position, a non-negative safe integer. */
  readonly position: number
}

/** A stored line with its position. */
export interface PositionedLine {
  readonly seq: number
  /** Canonical bytes, valid only until the next line is requested. */
  readonly bytes: Uint8Array
  readonly position: number
}

/**
 * A remembered position does not hold the receipt it should (the ledger was
 * rewritten or re-segmented since it was recorded). The tree state discards
 * its positions and rebuilds.
 */
export class StalePositionError extends CorruptLedgerError {}

/** What a store may offer the tree state. */
export interface StoreHooks {
  /**
   * Lines `[from, to)` with their positions; with `at` (a position this
   * store returned earlier, `at.seq <= from`), reading starts there and the
   * lines from `at.seq` on are yielded. Must throw when `at` is stale.
   */
  readonly readPositioned?: (
    from: number,
    to: number,
    at?: LinePosition,
  ) => AsyncIterable<PositionedLine>
  /** The default place to keep this store's tree state. */
  readonly treeStateStorage?: () => TreeStateStorage
}

/** Attaches hooks to a store object (non-enumerable, invisible to its type). */
export function attachStoreHooks<S extends LedgerStore>(store: S, hooks: StoreHooks): S {
  Object.defineProperty(store, STORE_HOOKS, { value: hooks, enumerable: false })
  return store
}

/** The hooks a store offers, if any. */
export function storeHooks(store: LedgerStore): StoreHooks | undefined {
  const hooks = (store as { [STORE_HOOKS]?: unknown })[STORE_HOOKS]
  return typeof hooks === 'object' && hooks !== null ? (hooks as StoreHooks) : undefined
}
