/**
 * Daily export: copies the receipts a target does not hold yet into one
 * bundle (canonical JSONL, optionally gzip), then appends a signed,
 * hash-chained manifest entry for it (see `manifest.ts` for the format),
 * then applies retention.
 *
 * The order makes crashes harmless: a bundle is written (create-only,
 * whole or not at all) before the entry that references it, so the manifest
 * never points at a partial bundle. A crash between the two leaves a bundle
 * no entry references; the next run exports the same receipts under a new
 * key and deletes the leftover once its own entry is written. Two exports
 * racing for the same entry: one wins the create-only write, the other
 * deletes its bundle and fails with `CONFLICT`.
 *
 * Memory is constant: receipts stream from the store through the hashing,
 * the compact range and gzip into the target.
 *
 * An anchored ledger (a restored one) continues the manifest it was
 * restored from: the manifest must reach at least to its anchor (the
 * receipts before it are retired and cannot be exported again).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { gzipChunks, prevOffset, StreamDigest, tsOffset } from './_bundle-codec.js'
import { hexEquals, MerkleAccumulator } from './_merkle-acc.js'
import { sameAnchor } from './anchor.js'
import { signCheckpoint } from './checkpoint.js'
import { parseCheckpoint } from './checkpoint-text.js'
import { CorruptLedgerError, InvalidInputError, isBatonError } from './errors.js'
import { type ExportTarget, ExportTargetError, readExportObject } from './export-target.js'
import { bytesToHex, hexToBytes, leafHash, leafHashBytes, sha256Hex, ZERO_HASH } from './hash.js'
import type { NoteSigner } from './keys.js'
import {
  BUNDLE_PREFIX,
  type BundleEncoding,
  encodeManifestEntry,
  formatDay,
  MANIFEST_ENTRY_EXTENSION,
  MANIFEST_PREFIX,
  MAX_MANIFEST_ENTRY_BYTES,
  type ManifestEntry,
  manifestEntryDigest,
  manifestEntryKey,
  manifestEntryRange,
  manifestKeyIndex,
  parseDay,
  parseManifestEntry,
  type UnsignedManifestEntry,
} from './manifest.js'
import { CompactRange } from './merkle.js'
import { parseNote } from './note.js'
import type { LedgerStore, StoredLine } from './store.js'

/** Default number of days bundles are kept (the runbooks' 90-day rolling retention). */
export const DEFAULT_RETAIN_DAYS = 90

const DAY_MS = 86_400_000
const CHUNK_BYTES = 1 << 20
const BUNDLE_KEY_RE = /^bundles\/(\d{20})-(\d{4}-\d{2}-\d{2})-[0-9a-f]+\.jsonl(?:\.gz)?$/

/** Progress of a running export. */
export interface ExportProgress {
  /** Receipts written to the bundle so far. */
  readonly receipts: number
  /** Receipts the export may write at most (the store's head minus the first), when known. */
  readonly totalReceipts: number
  /** Bundle bytes written so far (as stored, after gzip). */
  readonly bytes: number
}

/** Options for {@link exportLedger}. */
export interface ExportOptions {
  /** Signs the manifest entry's checkpoint; several during a key rotation. */
  readonly signers: NoteSigner | readonly NoteSigner[]
  /**
   * Export the day `YYYY-MM-DD` (UTC), or the UTC day of a `Date`: the
   * receipts after the last exported one whose `ts` is before the end of
   * that day (the export stops at the first receipt at or after it). The day
   * must be over. A day already exported (the last entry's `date` is that
   * day or later) writes nothing.
   */
  readonly date?: string | Date
  /** An assertion: the export continues where the manifest ends, which must not be after `from`. */
  readonly from?: number
  /** Last receipt to export (inclusive); default the store's last. */
  readonly to?: number
  /** Gzip the bundle (`true`: level 6). */
  readonly gzip?: boolean | { readonly level: number }
  /** Bundles whose `date` is more than this many days before today are deleted; default 90, `Infinity` keeps all. */
  readonly retainDays?: number
  /** The current time (for `date` checks, the entry's `date` and retention); default now. */
  readonly now?: Date | number
  /** The checkpoints' origin line; default the previous entry's, else the first signer's name. */
  readonly origin?: string
  /** Called about every 64 Ki receipts and at the end. */
  readonly onProgress?: (progress: ExportProgress) => void
  /** Aborts the export (nothing is referenced by the manifest then). */
  readonly signal?: AbortSignal
}

/**
 * What an export did: `exported` a new bundle and entry; `already-exported`
 * (the `date` or `to` asked for is covered by the manifest); or
 * `nothing-to-export` (no new receipts, or none in the day asked for).
 */
export type ExportStatus = 'exported' | 'already-exported' | 'nothing-to-export'

/** The result of {@link exportLedger}. */
export interface ExportResult {
  /** What the run did. */
  readonly status: ExportStatus
  /** A sentence for people. */
  readonly message: string
  /** The new manifest entry (`exported` only). */
  readonly entry: ManifestEntry | undefined
  /** The newest manifest entry after the run (the new one, or the one that was there). */
  readonly last: ManifestEntry | undefined
  /** Receipts exported by this run. */
  readonly receipts: number
  /** Bundles deleted by retention. */
  readonly retired: readonly string[]
  /** Bundles of earlier, interrupted runs that no entry referenced, deleted. */
  readonly leftovers: readonly string[]
}

function checkOptions(options: ExportOptions): {
  signers: readonly NoteSigner[]
  nowMs: number
  day: number | undefined
  level: number | undefined
  retainDays: number
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  const signers = Array.isArray(options.signers)
    ? (options.signers as readonly NoteSigner[])
    : options.signers === undefined
      ? []
      : [options.signers as NoteSigner]
  if (signers.length === 0) {
    throw new InvalidInputError('signers', 'at least one signer is needed: the manifest is signed')
  }
  signers.forEach((s, i) => {
    if (typeof s?.sign !== 'function' || typeof s.name !== 'string') {
      throw new InvalidInputError(`signers[${i}]`, 'must be a NoteSigner (see parseSignerKey)')
    }
  })
  const nowMs = options.now === undefined ? Date.now() : Number(options.now)
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new InvalidInputError('now', 'must be a valid Date or epoch milliseconds')
  }
  let day: number | undefined
  if (options.date !== undefined) {
    if (options.date instanceof Date) {
      const ms = options.date.getTime()
      if (Number.isNaN(ms)) throw new InvalidInputError('date', 'is an invalid Date')
      day = Math.floor(ms / DAY_MS) * DAY_MS
    } else {
      day = parseDay(options.date)
      if (day === undefined) {
        throw new InvalidInputError(
          'date',
          `${JSON.stringify(options.date)} is not a real day written YYYY-MM-DD`,
        )
      }
    }
    const today = Math.floor(nowMs / DAY_MS) * DAY_MS
    if (day >= today) {
      throw new InvalidInputError(
        'date',
        `${formatDay(day)} is not over yet (now is ${new Date(nowMs).toISOString()}); export a day that has ended`,
      )
    }
  }
  for (const name of ['from', 'to'] as const) {
    const v = options[name]
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
      throw new InvalidInputError(name, `must be a non-negative integer, got ${String(v)}`)
    }
  }
  if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
    throw new InvalidInputError('to', `${options.to} is before from ${options.from}`)
  }
  let level: number | undefined
  if (options.gzip === true) level = 6
  else if (typeof options.gzip === 'object' && options.gzip !== null) {
    level = options.gzip.level
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new InvalidInputError('gzip.level', 'must be an integer from 0 to 9')
    }
  } else if (options.gzip !== undefined && options.gzip !== false) {
    throw new InvalidInputError('gzip', 'must be a boolean or { level }')
  }
  const retainDays = options.retainDays ?? DEFAULT_RETAIN_DAYS
  if (
    retainDays !== Number.POSITIVE_INFINITY &&
    (!Number.isSafeInteger(retainDays) || retainDays < 1)
  ) {
    throw new InvalidInputError(
      'retainDays',
      `must be a positive integer or Infinity, got ${retainDays}`,
    )
  }
  if (
    options.origin !== undefined &&
    (typeof options.origin !== 'string' || options.origin === '')
  ) {
    throw new InvalidInputError('origin', 'must be a non-empty string')
  }
  return { signers, nowMs, day, level, retainDays }
}

/**
 * The newest manifest entry of `target`, parsed (its signature is not
 * checked: `verifyExport` does that), or `undefined` for an empty manifest.
 *
 * @throws {@link CorruptLedgerError} when the newest entry is unreadable.
 */
export async function readLastManifestEntry(
  target: ExportTarget,
): Promise<ManifestEntry | undefined> {
  let lastKey: string | undefined
  for await (const key of target.list(MANIFEST_PREFIX)) {
    if (manifestKeyIndex(key) !== undefined) lastKey = key
  }
  if (lastKey === undefined) return undefined
  const info = await target.head(lastKey)
  if (info !== undefined && info.size > MAX_MANIFEST_ENTRY_BYTES) {
    throw new CorruptLedgerError(`manifest entry is ${info.size} bytes, too large`, {
      file: lastKey,
    })
  }
  const entry = parseManifestEntry(await readExportObject(target, lastKey), lastKey)
  if (entry.index !== manifestKeyIndex(lastKey)) {
    throw new CorruptLedgerError(`the entry says index ${entry.index}`, { file: lastKey })
  }
  return entry
}

/** The root and origin of an entry's checkpoint, read without checking signatures. */
function checkpointOf(entry: ManifestEntry, key: string): { root: Uint8Array; origin: string } {
  try {
    const cp = parseCheckpoint(parseNote(entry.checkpoint).text)
    return { root: cp.root, origin: cp.origin }
  } catch (error) {
    throw new CorruptLedgerError(
      `the newest entry's checkpoint is unreadable: ${error instanceof Error ? error.message : String(error)}`,
      { file: key },
      { cause: error },
    )
  }
}

/**
 * Deletes bundles whose day (in their key) is more than `retainDays` days
 * before the UTC day of `nowMs`; manifest entries are kept. Returns the
 * deleted keys.
 */
export async function applyRetention(
  target: ExportTarget,
  options: { readonly retainDays?: number; readonly now?: Date | number } = {},
): Promise<string[]> {
  const retainDays = options.retainDays ?? DEFAULT_RETAIN_DAYS
  if (retainDays === Number.POSITIVE_INFINITY) return []
  if (!Number.isSafeInteger(retainDays) || retainDays < 1) {
    throw new InvalidInputError(
      'retainDays',
      `must be a positive integer or Infinity, got ${retainDays}`,
    )
  }
  const nowMs = options.now === undefined ? Date.now() : Number(options.now)
  const cutoff = retentionCutoff(nowMs, retainDays)
  const doomed: string[] = []
  for await (const key of target.list(BUNDLE_PREFIX)) {
    const m = BUNDLE_KEY_RE.exec(key)
    const day = m === null ? undefined : parseDay(m[2])
    if (day !== undefined && day < cutoff) doomed.push(key)
  }
  for (const key of doomed) await target.delete(key)
  return doomed
}

/** Start of the oldest UTC day whose bundles retention keeps. */
export function retentionCutoff(nowMs: number, retainDays: number): number {
  if (retainDays === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY
  return Math.floor(nowMs / DAY_MS) * DAY_MS - retainDays * DAY_MS
}

/**
 * Exports the receipts of `store` that `target` does not hold yet: one
 * bundle, then one signed manifest entry; then deletes bundles older than
 * `retainDays`. Idempotent: a day (or `to`) already exported writes nothing.
 *
 * Before writing, the store must agree with the manifest: it must hold the
 * newest entry's last receipt with the same leaf hash (otherwise this is a
 * different or rewritten ledger: `CORRUPT`). An anchored store whose anchor
 * is exactly where the manifest ends must have that entry's `lastHash` and
 * `range` as its anchor; one whose anchor is past the manifest's end cannot
 * be exported to it (`INVALID_INPUT` naming `store`: the receipts between
 * are retired). While streaming, every receipt's `prev` must link to the
 * one before (`CORRUPT` otherwise, and nothing is referenced).
 *
 * @throws {@link InvalidInputError} naming a bad option.
 * @throws {@link CorruptLedgerError} when the ledger is broken or disagrees with the export.
 * @throws {@link ExportTargetError} `CONFLICT` when a concurrent export wrote the entry first.
 *
 * @example
 * ```ts
 * const signer = parseSignerKey(process.env.BATON_SIGNER_KEY!)
 * const r = await exportLedger(store, createDirectoryTarget('/backups/baton'), {
 *   date: '2026-01-25', signers: [signer], gzip: true,
 * })
 * console.log(r.status, r.entry?.key)
 * ```
 */
export async function exportLedger(
  store: LedgerStore,
  target: ExportTarget,
  options: ExportOptions,
): Promise<ExportResult> {
  const { signers, nowMs, day, level, retainDays } = checkOptions(options)
  const last = await readLastManifestEntry(target)
  const firstSeq = last === undefined ? 0 : last.lastSeq + 1
  const head = await store.head()
  const anchor = store.anchor

  if (anchor !== undefined && firstSeq < anchor.seq) {
    throw new InvalidInputError(
      'store',
      last === undefined
        ? `${store.location} begins at its anchor (seq ${anchor.seq}): receipts 0–${anchor.seq - 1} are retired, so it can only continue the export it was restored from, not start a new one`
        : `${store.location} begins at its anchor (seq ${anchor.seq}) but the export ends at receipt ${last.lastSeq}: receipts ${firstSeq}–${anchor.seq - 1} are retired and cannot be exported`,
    )
  }
  if (anchor !== undefined && last !== undefined && firstSeq === anchor.seq) {
    // Nothing held to compare with the newest entry: the anchor itself must be its end.
    if (!sameAnchor(anchor, { seq: firstSeq, prev: last.lastHash, range: last.range })) {
      throw new CorruptLedgerError(
        `the anchor of ${store.location} (seq ${anchor.seq}) is not the end of manifest entry ${last.index}: this ledger was not restored from this export`,
        { file: store.location },
      )
    }
  } else if (last !== undefined) {
    if (head.size < firstSeq) {
      throw new CorruptLedgerError(
        `the export holds receipts through ${last.lastSeq} but the ledger only ${head.size}: it is not the ledger that was exported`,
        { file: store.location },
      )
    }
    let hash: string | undefined
    for await (const line of store.read(last.lastSeq, firstSeq)) hash = leafHash(line.bytes)
    if (hash !== last.lastHash) {
      throw new CorruptLedgerError(
        `receipt ${last.lastSeq} differs from the one exported (manifest entry ${last.index}): the ledger diverges from its export at or before it`,
        { file: store.location },
      )
    }
  }
  if (options.from !== undefined && options.from > firstSeq) {
    throw new InvalidInputError(
      'from',
      `the export continues at receipt ${firstSeq}; starting at ${options.from} would leave a gap`,
    )
  }

  const finish = async (
    status: ExportStatus,
    message: string,
    entry?: ManifestEntry,
    receipts = 0,
    leftovers: readonly string[] = [],
  ): Promise<ExportResult> => {
    const retired = await applyRetention(target, { retainDays, now: nowMs })
    return { status, message, entry, last: entry ?? last, receipts, retired, leftovers }
  }

  if (day !== undefined && last !== undefined && (parseDay(last.date) ?? 0) >= day) {
    return finish(
      'already-exported',
      `${formatDay(day)} is already exported (manifest entry ${last.index} is for ${last.date})`,
    )
  }
  if (options.to !== undefined && options.to < firstSeq) {
    return finish(
      'already-exported',
      `receipts through ${options.to} are already exported (the export holds 0–${firstSeq - 1})`,
    )
  }
  const end = Math.min(head.size, options.to === undefined ? head.size : options.to + 1)
  const nothing = (): Promise<ExportResult> =>
    finish(
      'nothing-to-export',
      day === undefined
        ? `nothing to export: the export already holds every receipt (${firstSeq})`
        : `nothing to export for ${formatDay(day)}: no receipt after ${firstSeq - 1} is from before its end`,
    )
  if (firstSeq >= end) return nothing()

  // Peek at the first receipt: an empty day writes no bundle.
  const endTs = day === undefined ? undefined : new Date(day + DAY_MS).toISOString()
  const lines = store.read(firstSeq, end)[Symbol.asyncIterator]()
  const first = await lines.next()
  const tsText = (line: StoredLine): string => {
    const buf = Buffer.from(line.bytes.buffer, line.bytes.byteOffset, line.bytes.byteLength)
    const at = tsOffset(buf)
    if (at < 0) {
      throw new CorruptLedgerError(`receipt ${line.seq} has no ts`, { file: store.location })
    }
    return buf.toString('latin1', at, at + 24)
  }
  if (first.done === true || (endTs !== undefined && tsText(first.value) >= endTs)) {
    await lines.return?.()
    return nothing()
  }

  const entryDate =
    day !== undefined ? formatDay(day) : [formatDay(nowMs), last?.date ?? ''].sort().at(-1)!
  const encoding: BundleEncoding = level === undefined ? 'identity' : 'gzip'
  const bundleKey = `${BUNDLE_PREFIX}${String(firstSeq).padStart(20, '0')}-${entryDate}-${randomBytes(4).toString('hex')}.jsonl${level === undefined ? '' : '.gz'}`
  const prevCheckpoint =
    last === undefined ? undefined : checkpointOf(last, manifestEntryKey(last.index))
  const range = last === undefined ? new CompactRange(0) : manifestEntryRange(last)
  if (prevCheckpoint !== undefined && Buffer.compare(range.root(), prevCheckpoint.root) !== 0) {
    throw new CorruptLedgerError(
      `the newest entry's range does not hash to its checkpoint's root`,
      {
        file: manifestEntryKey(last!.index),
      },
    )
  }

  // Stream the receipts: check links, hash leaves, find the day's end.
  const acc = MerkleAccumulator.from(range)
  let count = 0
  let seq = firstSeq
  let prevLeaf: Uint8Array = hexToBytes(last?.lastHash ?? ZERO_HASH)
  const firstTs = Buffer.alloc(24)
  const lastTs = Buffer.alloc(24)
  const endTsBytes = endTs === undefined ? undefined : Buffer.from(endTs, 'latin1')
  const totalReceipts = end - firstSeq
  const digest = new StreamDigest()
  const progress = (): void =>
    options.onProgress?.({ receipts: count, totalReceipts, bytes: digest.bytes })

  /**
   * The bundle's JSONL in chunks of about 1 MiB, refilling one buffer for
   * every chunk: a target copies what it keeps (see `ExportTarget.put`), and
   * gzip consumes a chunk before asking for the next.
   */
  async function* jsonl(): AsyncGenerator<Uint8Array> {
    let out = Buffer.allocUnsafe(CHUNK_BYTES)
    let at = 0
    let pending: StoredLine | undefined = first.value
    try {
      for (;;) {
        let line = pending
        pending = undefined
        if (line === undefined) {
          const r = await lines.next()
          if (r.done === true) break
          line = r.value
        }
        const bytes = Buffer.isBuffer(line.bytes)
          ? line.bytes
          : Buffer.from(line.bytes.buffer, line.bytes.byteOffset, line.bytes.byteLength)
        const t = tsOffset(bytes)
        if (t < 0) {
          throw new CorruptLedgerError(`receipt ${line.seq} has no ts`, { file: store.location })
        }
        if (endTsBytes !== undefined && bytes.compare(endTsBytes, 0, 24, t, t + 24) >= 0) break
        if (line.seq !== seq) {
          throw new CorruptLedgerError(`expected receipt ${seq}, read ${line.seq}`, {
            file: store.location,
          })
        }
        if (!hexEquals(bytes, prevOffset(bytes), prevLeaf)) {
          throw new CorruptLedgerError(
            `receipt ${seq}'s prev is not the hash of receipt ${seq - 1}: run baton verify; nothing was exported`,
            { file: store.location },
          )
        }
        const leaf = leafHashBytes(bytes)
        acc.append(leaf)
        prevLeaf = leaf
        if (count === 0) bytes.copy(firstTs, 0, t, t + 24)
        bytes.copy(lastTs, 0, t, t + 24)
        count++
        seq++
        if (at + bytes.length + 1 > out.length) {
          if (at > 0) yield out.subarray(0, at)
          if (bytes.length + 1 > out.length) out = Buffer.allocUnsafe(bytes.length + 1)
          at = 0
        }
        bytes.copy(out, at)
        out[at + bytes.length] = 10
        at += bytes.length + 1
        if ((count & 0xffff) === 0) {
          options.signal?.throwIfAborted()
          progress()
        }
      }
      if (at > 0) yield out.subarray(0, at)
    } finally {
      await lines.return?.()
    }
  }

  const stored = digest.pass(level === undefined ? jsonl() : gzipChunks(jsonl(), level))
  try {
    await target.put(bundleKey, stored)
  } finally {
    await lines.return?.()
  }
  options.signal?.throwIfAborted()
  progress()
  const lastSeq = firstSeq + count - 1

  const unsigned: UnsignedManifestEntry = {
    v: 1,
    index: last === undefined ? 0 : last.index + 1,
    key: bundleKey,
    encoding,
    bytes: digest.bytes,
    sha256: digest.hex(),
    firstSeq,
    lastSeq,
    firstTs: firstTs.toString('latin1'),
    lastTs: lastTs.toString('latin1'),
    lastHash: bytesToHex(prevLeaf),
    date: entryDate,
    range: acc.hexHashes(),
    prevEntry: last === undefined ? ZERO_HASH : sha256Hex(encodeManifestEntry(last)),
  }
  const checkpoint = signCheckpoint(
    {
      origin: options.origin ?? prevCheckpoint?.origin ?? signers[0]!.name,
      size: lastSeq + 1,
      root: acc.root(),
      extensions: [`${MANIFEST_ENTRY_EXTENSION} ${manifestEntryDigest(unsigned)}`],
    },
    signers,
  )
  const entry: ManifestEntry = { ...unsigned, checkpoint }
  const entryKey = manifestEntryKey(entry.index)
  try {
    await target.put(entryKey, Buffer.from(encodeManifestEntry(entry)))
  } catch (error) {
    await target.delete(bundleKey).catch(() => undefined)
    if (isBatonError(error, 'CONFLICT')) {
      throw new ExportTargetError(
        'CONFLICT',
        entryKey,
        `another export wrote manifest entry ${entry.index} first; this run kept nothing, run it again`,
        { cause: error },
      )
    }
    throw error
  }

  // Bundles of interrupted runs for the same receipts can never be referenced now.
  const leftovers: string[] = []
  for await (const key of target.list(`${BUNDLE_PREFIX}${String(firstSeq).padStart(20, '0')}-`)) {
    if (key !== bundleKey) leftovers.push(key)
  }
  for (const key of leftovers) await target.delete(key)

  return finish(
    'exported',
    `exported receipts ${firstSeq}–${lastSeq} (${count}) to ${bundleKey}, manifest entry ${entry.index}`,
    entry,
    count,
    leftovers,
  )
}
