/**
 * Opening a ledger's tree state for `baton checkpoint` and `baton prove`:
 * the ledger read-only (no lock, no repairs), the tree state in
 * `<dir>/tree-state.bin` brought up to date with a progress bar, and a
 * note on standard error when it had to be rebuilt or could not be saved.
 *
 * @module
 */
import { join } from 'node:path'
import {
  createFileTreeStateStorage,
  type FileStore,
  openTreeState,
  TREE_STATE_FILE,
  type TreeState,
  type TreeStateUpdate,
} from '@baton/ledger'
import { openLedgerDir } from './_ledger-dir.js'
import type { CliIo } from './io.js'
import { createProgress } from './progress.js'

/** A ledger opened read-only with its tree state up to date. */
export interface OpenedTree {
  readonly store: FileStore
  readonly state: TreeState
  readonly update: TreeStateUpdate
}

/**
 * Opens the ledger in `dir` read-only and its tree state, and updates the
 * state (reading only the receipts appended since it was last saved). The
 * caller closes `store`.
 */
export async function openUpdatedTree(
  io: CliIo,
  dir: string,
  json: boolean,
  options: { readonly rebuild?: boolean } = {},
): Promise<OpenedTree> {
  const store = await openLedgerDir(io, dir, { readOnly: true })
  try {
    const progress = createProgress(io, 'Tree state', json, 'receipts')
    let state: TreeState
    let update: TreeStateUpdate
    try {
      state = await openTreeState(store, {
        storage: createFileTreeStateStorage(join(store.dir, TREE_STATE_FILE)),
        progressEvery: 16_384,
        onProgress: (p) => progress.update(p.done, p.total, p.done),
      })
      update = options.rebuild === true ? await state.rebuild() : await state.update()
    } finally {
      progress.stop()
    }
    if (update.rebuilt !== undefined && options.rebuild !== true) {
      io.stderr.write(`baton: note: the tree state was rebuilt from scratch: ${update.rebuilt}\n`)
    }
    if (update.saveError !== undefined) {
      io.stderr.write(`baton: warning: the tree state was not saved: ${update.saveError}\n`)
    }
    return { store, state, update }
  } catch (error) {
    await store.close()
    throw error
  }
}

/** The tree state update, for JSON output. */
export function updateJson(update: TreeStateUpdate): Record<string, unknown> {
  return {
    previousSize: update.previousSize,
    size: update.size,
    receiptsRead: update.leavesRead,
    rebuilt: update.rebuilt ?? null,
    saved: update.saved,
  }
}
