/**
 * Anchors: where an anchored ledger begins.
 *
 * A ledger may begin at receipt `N > 0` instead of 0: the receipts before
 * `N` are **retired** (not held; typically their export bundles were deleted
 * by retention), but the ledger's **anchor** commits to them exactly:
 *
 * | field | meaning |
 * |---|---|
 * | `seq` | `N`, the first `seq` the ledger holds (≥ 1) |
 * | `prev` | leaf hash of receipt `N - 1`, hex: the first held receipt's `prev` |
 * | `range` | hex hashes of the RFC 9162 compact range of leaves `[0, N)` (one per set bit of `N`, largest subtree first): they fold to the root of a checkpoint of size `N`, and extended with the held leaves they give every later root |
 * | `source` | optional, informational: where the anchor came from (e.g. the export manifest entry) |
 *
 * The anchor is part of the store (see `LedgerStore.anchor`): an empty
 * anchored store's head is `{size: N, hash: prev}`, and appends continue at
 * `N`. Verification starts at the anchor and, with a checkpoint, computes
 * the root from its range plus the held leaves, so a restored ledger is held
 * to the same checkpoints as the original. The anchor itself is trusted data:
 * take it only from a signed source (a manifest entry whose checkpoint
 * verifies, see `planRestore`), and check it against a checkpoint with
 * {@link anchorRoot}.
 *
 * @module
 */
import { CorruptLedgerError, InvalidInputError, RetiredReceiptError } from './errors.js'
import { bytesToHex, hexToBytes, leafHashBytes, ZERO_HASH } from './hash.js'
import type { ManifestEntry } from './manifest.js'
import { CompactRange, perfectSubtrees } from './merkle.js'
import { isHashHex } from './receipt.js'
import type { LedgerStore, StoreHead } from './store.js'

/** Where an anchored ledger begins (see the module documentation). */
export interface Anchor {
  /** The first `seq` the ledger holds; receipts `0…seq-1` are retired. At least 1. */
  readonly seq: number
  /** Leaf hash of receipt `seq - 1` (64 lowercase hex): the first held receipt's `prev`. */
  readonly prev: string
  /** Hex hashes of the RFC 9162 compact range of leaves `[0, seq)`, largest subtree first. */
  readonly range: readonly string[]
  /** Where the anchor came from, for people (e.g. `file:/backups/baton manifest/…0041.json`). */
  readonly source?: string
}

/**
 * Checks an anchor and returns a frozen copy of it.
 *
 * Besides the shapes of the fields, `range` must have one hash per set bit of
 * `seq`, and when `seq` is odd its last hash is the single leaf `seq - 1`,
 * which must then equal `prev`.
 *
 * @param path - the name used in error messages (default `anchor`).
 * @throws {@link InvalidInputError} naming the bad field (`anchor.range[2]`, …).
 *
 * @example
 * ```ts
 * const anchor = checkAnchor(JSON.parse(text).anchor)
 * ```
 */
export function checkAnchor(value: unknown, path = 'anchor'): Anchor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(path, 'must be an object {seq, prev, range, source?}')
  }
  const a = value as Record<string, unknown>
  const seq = a.seq
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new InvalidInputError(
      `${path}.seq`,
      `must be a positive integer (an anchor at 0 is no anchor: omit it), got ${JSON.stringify(seq)}`,
    )
  }
  if (!isHashHex(a.prev)) {
    throw new InvalidInputError(`${path}.prev`, 'must be 64 lowercase hex characters')
  }
  const need = perfectSubtrees(0, seq).length
  if (!Array.isArray(a.range) || a.range.length !== need) {
    throw new InvalidInputError(
      `${path}.range`,
      `must be the ${need} hex hashes of the compact range of leaves [0, ${seq}), got ${Array.isArray(a.range) ? `${a.range.length}` : typeof a.range}`,
    )
  }
  a.range.forEach((h, i) => {
    if (!isHashHex(h)) {
      throw new InvalidInputError(`${path}.range[${i}]`, 'must be 64 lowercase hex characters')
    }
  })
  const range = [...(a.range as string[])]
  if (seq % 2 === 1 && range.at(-1) !== a.prev) {
    throw new InvalidInputError(
      `${path}.prev`,
      `must equal the last hash of range: for an odd seq (${seq}) that is the leaf hash of receipt ${seq - 1}`,
    )
  }
  if (a.source !== undefined && typeof a.source !== 'string') {
    throw new InvalidInputError(`${path}.source`, 'must be a string when present')
  }
  return Object.freeze({
    seq,
    prev: a.prev,
    range: Object.freeze(range),
    ...(a.source === undefined ? {} : { source: a.source as string }),
  })
}

/** The anchor's compact range `[0, seq)` as a {@link CompactRange} (a fresh copy). */
export function anchorRange(anchor: Anchor): CompactRange {
  return CompactRange.fromHashes(0, anchor.seq, anchor.range.map(hexToBytes))
}

/**
 * The RFC 9162 root of the retired receipts `[0, seq)`: what a checkpoint of
 * size `seq` of the original ledger says. Compare it with a signed
 * checkpoint to check an anchor.
 */
export function anchorRoot(anchor: Anchor): Uint8Array {
  return anchorRange(anchor).root()
}

/** True when two anchors commit to the same receipts (`seq`, `prev` and `range`; `source` is ignored). */
export function sameAnchor(a: Anchor | undefined, b: Anchor | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return (
    a.seq === b.seq &&
    a.prev === b.prev &&
    a.range.length === b.range.length &&
    a.range.every((h, i) => h === b.range[i])
  )
}

/**
 * The head of an empty store that begins at `anchor`: `{size: seq, hash:
 * prev}`, or `{size: 0, hash: ZERO_HASH}` without an anchor.
 */
export function anchorHead(anchor: Anchor | undefined): StoreHead {
  return anchor === undefined
    ? { size: 0, hash: ZERO_HASH }
    : { size: anchor.seq, hash: anchor.prev }
}

/**
 * The anchor at the end of a manifest entry: `{seq: lastSeq + 1, prev:
 * lastHash, range}`. Every field is covered by the entry's signed checkpoint
 * (its `range` folds to the checkpoint's root; its digest is in the
 * checkpoint's extension line), so only take it from an entry whose
 * checkpoint was verified (as `planRestore` does).
 */
export function anchorAfterManifestEntry(entry: ManifestEntry, source?: string): Anchor {
  return checkAnchor(
    {
      seq: entry.lastSeq + 1,
      prev: entry.lastHash,
      range: entry.range,
      ...(source === undefined ? {} : { source }),
    },
    'entry',
  )
}

/**
 * The anchor at `seq` of a ledger that holds receipt `seq - 1`: its leaf
 * hash and the compact range of `[0, seq)`, computed from the receipts the
 * store holds (extending the store's own anchor, if it has one). With it, a
 * new store can begin where this one is at `seq` (e.g. to retire old
 * receipts, or in tests). Reads receipts `[firstHeld, seq)` once.
 *
 * @throws {@link InvalidInputError} `seq` is not in `1…size`.
 * @throws {@link RetiredReceiptError} `seq` is before the store's own anchor.
 * @throws {@link CorruptLedgerError} the store does not hold the receipts it should.
 *
 * @example
 * ```ts
 * const anchor = await createAnchor(store, 1000)
 * const rest = createMemoryStore({ anchor }) // continues at receipt 1000
 * ```
 */
export async function createAnchor(
  store: LedgerStore,
  seq: number,
  options: { readonly source?: string } = {},
): Promise<Anchor> {
  const head = await store.head()
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > head.size) {
    throw new InvalidInputError('seq', `must be an integer from 1 to the ledger size ${head.size}`)
  }
  const own = store.anchor
  if (own !== undefined && seq < own.seq) throw new RetiredReceiptError(seq, own.seq)
  const range = own === undefined ? new CompactRange(0) : anchorRange(own)
  let prev = own?.prev ?? ZERO_HASH
  let next = range.end
  for await (const line of store.read(range.end, seq)) {
    if (line.seq !== next) {
      throw new CorruptLedgerError(`expected receipt ${next}, read ${line.seq}`, {
        file: store.location,
      })
    }
    const leaf = leafHashBytes(line.bytes)
    range.append(leaf)
    prev = bytesToHex(leaf)
    next++
  }
  if (next !== seq) {
    throw new CorruptLedgerError(`the ledger ends at receipt ${next}, before ${seq}`, {
      file: store.location,
    })
  }
  return checkAnchor({
    seq,
    prev,
    range: range.hashes.map(bytesToHex),
    ...(options.source === undefined ? {} : { source: options.source }),
  })
}
