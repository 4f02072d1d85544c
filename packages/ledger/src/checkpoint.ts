/**
 * Signed checkpoints of a ledger: a C2SP tlog-checkpoint (origin, size,
 * RFC 9162 root) inside a C2SP signed note with Ed25519 signatures.
 *
 * A checkpoint commits to the first `size` receipts exactly: anyone holding
 * it and the signer's verifier key can check a ledger (or a single receipt,
 * with an inclusion proof) without trusting whoever stores it.
 *
 * @module
 */

import { AnchorNodes, anchoredLeafSource, anchoredNodeCache } from './_anchor-tree.js'
import {
  type Checkpoint,
  type CheckpointFields,
  formatCheckpoint,
  parseCheckpoint,
} from './checkpoint-text.js'
import { CorruptLedgerError, InvalidInputError, RetiredReceiptError } from './errors.js'
import { leafHashBytes } from './hash.js'
import type { NoteSigner, NoteVerifier } from './keys.js'
import { type LeafSource, type NodeCache, treeRoot } from './merkle.js'
import { type NoteSignature, type OpenNoteOptions, openNote, signNote } from './note.js'
import type { LedgerStore } from './store.js'

/** A checkpoint whose note was opened with trusted keys. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The whole signed note, as given. */
  readonly note: string
  /** The signatures that verified (one per known key that signed). */
  readonly signedBy: readonly NoteSignature[]
}

/**
 * Formats and signs a checkpoint with every signer (sign with old and new
 * keys during a rotation; verifiers ignore keys they do not know).
 *
 * @returns the signed note text.
 * @throws {@link InvalidInputError} for bad fields or no signer.
 */
export function signCheckpoint(fields: CheckpointFields, signers: readonly NoteSigner[]): string {
  if (signers.length === 0) throw new InvalidInputError('signers', 'at least one signer is needed')
  return signNote(formatCheckpoint(fields), signers)
}

/**
 * Verifies a signed checkpoint against trusted keys and parses it.
 *
 * @throws `BAD_SIGNATURE` errors: `MalformedNoteError`, `NoteVerificationError`
 *   (no known key signed, or a known key's signature is bad),
 *   `CheckpointFormatError` (the signed text is not a checkpoint).
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: OpenNoteOptions = {},
): VerifiedCheckpoint {
  const opened = openNote(note, verifiers, options)
  const checkpoint = parseCheckpoint(opened.text)
  return {
    ...checkpoint,
    note: typeof note === 'string' ? note : Buffer.from(note).toString('utf8'),
    signedBy: opened.verified,
  }
}

/**
 * The leaf hashes of a store's receipts, read through `store.read`, for
 * proofs and roots. In an anchored store, asking for leaves before the
 * anchor throws a {@link RetiredReceiptError}.
 */
export function storeLeafSource(store: LedgerStore): LeafSource {
  const base = store.anchor?.seq ?? 0
  return {
    async *leafHashes(from, to) {
      if (from < base && from < to) throw new RetiredReceiptError(from, base)
      let expected = from
      for await (const line of store.read(from, to)) {
        if (line.seq !== expected) {
          throw new CorruptLedgerError(`expected receipt ${expected}, read ${line.seq}`, {
            file: store.location,
          })
        }
        expected++
        yield leafHashBytes(line.bytes)
      }
      if (expected !== to) {
        throw new CorruptLedgerError(`the ledger ends at ${expected}, before ${to}`, {
          file: store.location,
        })
      }
    },
  }
}

/** Options for {@link createCheckpoint}. */
export interface CreateCheckpointOptions {
  /** The log's identity; default the first signer's name (as C2SP recommends). */
  readonly origin?: string
  /** Checkpoint the first `size` receipts; default the whole ledger. */
  readonly size?: number
  /**
   * Stored subtree hashes, so the root need not be recomputed from every
   * leaf (e.g. a tree state's `cache`).
   */
  readonly cache?: NodeCache
}

/** A freshly signed checkpoint. */
export interface CreatedCheckpoint {
  readonly origin: string
  readonly size: number
  readonly root: Uint8Array
  /** The signed note. */
  readonly note: string
}

/**
 * Computes the RFC 9162 root of a store's first `size` receipts and signs a
 * checkpoint of it. For an anchored store the root is computed from the
 * anchor's compact range and the held receipts, so it equals the original
 * ledger's at the same size; a `size` below the anchor works only where the
 * anchor's nodes cover it (size `anchor.seq` always does), else it throws a
 * {@link RetiredReceiptError}.
 *
 * @example
 * ```ts
 * const signer = parseSignerKey(process.env.BATON_SIGNER_KEY!)
 * const { note } = await createCheckpoint(store, [signer])
 * ```
 */
export async function createCheckpoint(
  store: LedgerStore,
  signers: readonly NoteSigner[],
  options: CreateCheckpointOptions = {},
): Promise<CreatedCheckpoint> {
  if (signers.length === 0) throw new InvalidInputError('signers', 'at least one signer is needed')
  const head = await store.head()
  const size = options.size ?? head.size
  if (!Number.isSafeInteger(size) || size < 0 || size > head.size) {
    throw new InvalidInputError('size', `must be between 0 and the ledger size ${head.size}`)
  }
  const origin = options.origin ?? signers[0]!.name
  const anchor = store.anchor
  let source = storeLeafSource(store)
  let cache = options.cache
  if (anchor !== undefined) {
    source = anchoredLeafSource(source, anchor.seq)
    cache = anchoredNodeCache(new AnchorNodes(anchor), source, cache)
  }
  const root = await treeRoot(source, size, { cache })
  return { origin, size, root, note: signCheckpoint({ origin, size, root }, signers) }
}
