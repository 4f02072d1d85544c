/**
 * The export manifest: one create-only, hash-chained entry per exported
 * bundle. This file is the contract other tools check exports against.
 *
 * Entry `i` is stored at `manifest/<i as 20 digits>.json` as the RFC 8785
 * canonical JSON of:
 *
 * | field | meaning |
 * |---|---|
 * | `v` | format version, `1` |
 * | `index` | position in the manifest, from 0 (matches the key) |
 * | `key` | the bundle's key in the target |
 * | `encoding` | `identity` (plain JSONL) or `gzip` (gzip of that JSONL) |
 * | `bytes`, `sha256` | size and SHA-256 (hex) of the bundle **as stored** |
 * | `firstSeq`, `lastSeq` | the receipts in the bundle, inclusive; `firstSeq` is the previous entry's `lastSeq + 1` (0 for the first) |
 * | `firstTs`, `lastTs` | `ts` of receipts `firstSeq` and `lastSeq` |
 * | `lastHash` | leaf hash of receipt `lastSeq` (the next bundle's first `prev`) |
 * | `date` | the UTC day exported (`YYYY-MM-DD`): the `date` asked for, or the day the export ran; never before the previous entry's; retention ages bundles by it |
 * | `range` | hex hashes of the RFC 9162 compact range of leaves `[0, lastSeq + 1)`: they fold to the checkpoint's root, and extending them with the next bundle's leaves must give the next checkpoint's root, even after retention deleted this bundle |
 * | `prevEntry` | SHA-256 (hex) of the previous entry's stored bytes; 64 zeros for entry 0 |
 * | `checkpoint` | a C2SP signed note: a tlog-checkpoint of size `lastSeq + 1` and the tree root, with the extension line `baton-manifest-entry <hex>` holding {@link manifestEntryDigest}, the SHA-256 of this entry's canonical JSON without `checkpoint` |
 *
 * Through the extension line the signature covers every field of the entry,
 * and through `prevEntry` every earlier entry: editing, removing or
 * reordering entries is detectable with the verifier keys alone.
 *
 * @module
 */
import { canonicalize } from './canonical.js'
import { CorruptLedgerError } from './errors.js'
import { exportKeyProblem } from './export-target.js'
import { hexToBytes, sha256Hex } from './hash.js'
import { CompactRange, perfectSubtrees } from './merkle.js'
import { isHashHex, isReceiptTimestamp } from './receipt.js'

/** Format version of manifest entries. */
export const MANIFEST_VERSION = 1

/** Key prefix of manifest entries. */
export const MANIFEST_PREFIX = 'manifest/'

/** Key prefix of bundles. */
export const BUNDLE_PREFIX = 'bundles/'

/** The checkpoint extension line that binds a checkpoint to its manifest entry: this, a space, the digest. */
export const MANIFEST_ENTRY_EXTENSION = 'baton-manifest-entry'

/** Largest manifest entry accepted, in bytes (entries are ~1–3 KB). */
export const MAX_MANIFEST_ENTRY_BYTES = 1024 * 1024

/** How a bundle's bytes are stored. */
export type BundleEncoding = 'identity' | 'gzip'

/** One manifest entry (see the module documentation for the contract). */
export interface ManifestEntry {
  /** Format version, 1. */
  readonly v: typeof MANIFEST_VERSION
  /** Position in the manifest, from 0. */
  readonly index: number
  /** The bundle's key in the target. */
  readonly key: string
  /** `identity`: plain JSONL; `gzip`: gzip of it. */
  readonly encoding: BundleEncoding
  /** Size of the bundle as stored. */
  readonly bytes: number
  /** SHA-256 (hex) of the bundle as stored. */
  readonly sha256: string
  /** First receipt in the bundle. */
  readonly firstSeq: number
  /** Last receipt in the bundle (inclusive). */
  readonly lastSeq: number
  /** `ts` of receipt `firstSeq`. */
  readonly firstTs: string
  /** `ts` of receipt `lastSeq`. */
  readonly lastTs: string
  /** Leaf hash of receipt `lastSeq`. */
  readonly lastHash: string
  /** The UTC day exported, `YYYY-MM-DD`. */
  readonly date: string
  /** Hex hashes of the compact range of leaves `[0, lastSeq + 1)`. */
  readonly range: readonly string[]
  /** SHA-256 (hex) of the previous entry's stored bytes; 64 zeros for entry 0. */
  readonly prevEntry: string
  /** Signed checkpoint note of size `lastSeq + 1`, bound to this entry. */
  readonly checkpoint: string
}

/** A manifest entry before it is signed. */
export type UnsignedManifestEntry = Omit<ManifestEntry, 'checkpoint'>

const FIELDS = [
  'v',
  'index',
  'key',
  'encoding',
  'bytes',
  'sha256',
  'firstSeq',
  'lastSeq',
  'firstTs',
  'lastTs',
  'lastHash',
  'date',
  'range',
  'prevEntry',
  'checkpoint',
] as const

const KEY_RE = /^manifest\/(\d{20})\.json$/
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/

/** The key of manifest entry `index`: `manifest/<index as 20 digits>.json`. */
export function manifestEntryKey(index: number): string {
  return `${MANIFEST_PREFIX}${String(index).padStart(20, '0')}.json`
}

/** The index a manifest key names, or `undefined` if it is not a manifest entry key. */
export function manifestKeyIndex(key: string): number | undefined {
  const m = KEY_RE.exec(key)
  if (m === null) return undefined
  const n = Number(m[1])
  return Number.isSafeInteger(n) ? n : undefined
}

/** Epoch ms of the start of UTC day `YYYY-MM-DD`, or `undefined` if it is not a real day. */
export function parseDay(day: unknown): number | undefined {
  if (typeof day !== 'string') return undefined
  const m = DAY_RE.exec(day)
  if (m === null) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return formatDay(ms) === day ? ms : undefined
}

/** The UTC day of epoch ms `ms`, as `YYYY-MM-DD`. */
export function formatDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** SHA-256 (hex) of the canonical JSON of an entry without its `checkpoint`: what the checkpoint's extension line holds. */
export function manifestEntryDigest(entry: UnsignedManifestEntry | ManifestEntry): string {
  const { checkpoint: _, ...rest } = entry as ManifestEntry
  return sha256Hex(canonicalize(rest))
}

/** The canonical JSON text of an entry: exactly the bytes stored. */
export function encodeManifestEntry(entry: ManifestEntry): string {
  return canonicalize(entry)
}

/** The entry's compact range as a {@link CompactRange} over `[0, lastSeq + 1)`. */
export function manifestEntryRange(entry: ManifestEntry): CompactRange {
  return CompactRange.fromHashes(0, entry.lastSeq + 1, entry.range.map(hexToBytes))
}

const isCount = (x: unknown): x is number =>
  typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/**
 * Parses and checks a stored manifest entry: UTF-8 canonical JSON with
 * exactly the contract's fields, each well-formed (the checkpoint's
 * signature is not checked here).
 *
 * @param key - where it was read from, for messages.
 * @throws {@link CorruptLedgerError} saying what is wrong, located at `key`.
 */
export function parseManifestEntry(bytes: Uint8Array | string, key?: string): ManifestEntry {
  const fail = (message: string): never => {
    throw new CorruptLedgerError(
      `manifest entry: ${message}`,
      key === undefined ? {} : { file: key },
    )
  }
  let text: string
  try {
    text =
      typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return fail('not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return fail(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('not a JSON object')
  }
  const o = value as Record<string, unknown>
  const extra = Object.keys(o).find((k) => !(FIELDS as readonly string[]).includes(k))
  if (extra !== undefined) fail(`unknown field ${JSON.stringify(extra)}`)
  const missing = FIELDS.find((f) => !(f in o))
  if (missing !== undefined) fail(`missing field ${missing}`)
  if (o.v !== MANIFEST_VERSION) fail(`v must be ${MANIFEST_VERSION}`)
  if (!isCount(o.index)) fail('index must be a non-negative integer')
  const keyProblem = exportKeyProblem(o.key)
  if (keyProblem !== undefined) fail(`key: ${keyProblem}`)
  if (o.encoding !== 'identity' && o.encoding !== 'gzip') fail('encoding must be identity or gzip')
  if (!isCount(o.bytes)) fail('bytes must be a non-negative integer')
  if (!isHashHex(o.sha256)) fail('sha256 must be 64 lowercase hex characters')
  if (!isCount(o.firstSeq)) fail('firstSeq must be a non-negative integer')
  if (!isCount(o.lastSeq) || (o.lastSeq as number) < (o.firstSeq as number)) {
    fail('lastSeq must be an integer ≥ firstSeq')
  }
  if (!isReceiptTimestamp(o.firstTs)) fail('firstTs must be a receipt timestamp')
  if (!isReceiptTimestamp(o.lastTs)) fail('lastTs must be a receipt timestamp')
  if (!isHashHex(o.lastHash)) fail('lastHash must be 64 lowercase hex characters')
  if (parseDay(o.date) === undefined) fail('date must be a real day, YYYY-MM-DD')
  const need = perfectSubtrees(0, (o.lastSeq as number) + 1).length
  if (!Array.isArray(o.range) || o.range.length !== need || !o.range.every(isHashHex)) {
    fail(`range must be ${need} hashes of 64 lowercase hex characters`)
  }
  if (!isHashHex(o.prevEntry)) fail('prevEntry must be 64 lowercase hex characters')
  if (typeof o.checkpoint !== 'string') fail('checkpoint must be a string')
  let canonical: string
  try {
    canonical = canonicalize(value)
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e))
  }
  if (canonical !== text) fail('not in canonical (RFC 8785) form')
  return value as ManifestEntry
}
