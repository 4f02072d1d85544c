/**
 * Restores a ledger from an export target into an empty store, bundle by
 * bundle, keeping only what the signed manifest proves authentic, and
 * records on the restored ledger itself what was restored and what was lost.
 *
 * Each bundle is read once: checked (size, SHA-256, receipts, continuity,
 * Merkle root against its signed checkpoint) while its JSONL is spooled to a
 * private temporary file; then the checked receipts are appended from the
 * spool. Nothing unproven is ever written, and memory stays constant.
 *
 * When a bundle is damaged, the restore keeps the receipts before the damage
 * if they can be proven (see `_bundle-scan.ts`: one damaged receipt whose
 * line is in place), else none of that bundle, and stops there: a ledger
 * cannot have holes. The loss (count, `seq` range, time span) is reported in
 * the result and in a final `ledger.restored` receipt, appended through a
 * normal ledger so it links to the last restored receipt. A clean restore
 * appends one too (with `lost.count: 0`): every restore is on the record.
 *
 * A restore needs every bundle from receipt 0: once retention has deleted
 * the first bundles, the target alone cannot rebuild the ledger (`NOT_FOUND`).
 *
 * @module
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tsOf } from './_bundle-codec.js'
import { scanBundle } from './_bundle-scan.js'
import type { VerifyProblem } from './_chain-check.js'
import { readAt } from './_file-io.js'
import { walkManifest } from './_manifest-walk.js'
import { CorruptLedgerError, InvalidInputError, LedgerError } from './errors.js'
import { readLastManifestEntry } from './export.js'
import type { ExportTarget } from './export-target.js'
import { leafHash } from './hash.js'
import type { NoteVerifier } from './keys.js'
import { type Clock, createLedger } from './ledger.js'
import type { ManifestEntry } from './manifest.js'
import type { StoredReceipt } from './receipt.js'
import type { EncodedReceipt, LedgerStore } from './store.js'

/** The type of the receipt every restore appends. */
export const RESTORED_RECEIPT_TYPE = 'ledger.restored'

/** What a restore lost: receipts the export held (or was asked for) that could not be proven. */
export interface RestoreLoss {
  /** Receipts lost; 0 for a clean restore (the other fields are then `null`). */
  readonly count: number
  /** First lost `seq`. */
  readonly fromSeq: number | null
  /** Last lost `seq` (the export's last, or `upTo`). */
  readonly toSeq: number | null
  /**
   * `ts` of the first lost receipt: read from its line when it still shows
   * one, from the manifest when the loss starts a bundle.
   */
  readonly fromTs: string | null
  /** `ts` of the last lost receipt per the manifest (an upper bound when `toSeq` is inside a bundle). */
  readonly toTs: string | null
}

/** Progress of a running restore. */
export interface RestoreProgress {
  /** Receipts appended to the store so far. */
  readonly receipts: number
  /** Bundle bytes read (as stored). */
  readonly bytes: number
  /** Receipts the restore aims for (`upTo + 1`, or the export's size). */
  readonly totalReceipts: number
}

/** Options for {@link restore}. */
export interface RestoreOptions {
  /** Verifier keys trusted to sign the manifest's checkpoints. */
  readonly keys: readonly NoteVerifier[]
  /** Restore receipts `0..upTo` only (inclusive); default everything the export holds. */
  readonly upTo?: number
  /** Time source for the `ledger.restored` receipt; default the system clock. */
  readonly clock?: Clock
  /** Where the restore came from, recorded in the receipt; default the target's location. */
  readonly source?: string
  /** Directory for the temporary spool file; default `os.tmpdir()`. */
  readonly tmpDir?: string
  /** Called about every 64 Ki receipts and after each bundle. */
  readonly onProgress?: (progress: RestoreProgress) => void
  /** Aborts the restore (what was appended stays; the store is then incomplete and has no `ledger.restored` receipt). */
  readonly signal?: AbortSignal
}

/** The `data` of a `ledger.restored` receipt. */
export interface RestoredReceiptData {
  /** The target restored from. */
  readonly source: string
  /** The last restored `seq`. */
  readonly restoredThrough: number
  /** Leaf hash of receipt `restoredThrough`. */
  readonly restoredHash: string
  /** Receipts the export held (the newest manifest entry's `lastSeq + 1`). */
  readonly exportSize: number
  /** The `upTo` asked for, or `null`. */
  readonly upTo: number | null
  /** What was lost. */
  readonly lost: RestoreLoss
  /** Why receipts were lost, or `null`. */
  readonly reason: string | null
}

/** The result of {@link restore}. */
export interface RestoreResult {
  /** `restored` when nothing was lost. */
  readonly status: 'restored' | 'restored-with-loss'
  /** The last `seq` restored from the export. */
  readonly restoredThrough: number
  /** Receipts restored from the export (`restoredThrough + 1`). */
  readonly restored: number
  /** Receipts the export held. */
  readonly exportSize: number
  /** What was lost. */
  readonly lost: RestoreLoss
  /** Why receipts were lost, or `undefined`. */
  readonly reason: string | undefined
  /** The problems found on the way (at most 100). */
  readonly problems: readonly VerifyProblem[]
  /** The `ledger.restored` receipt appended last. */
  readonly receipt: StoredReceipt<typeof RESTORED_RECEIPT_TYPE, RestoredReceiptData>
}

const NO_LOSS: RestoreLoss = { count: 0, fromSeq: null, toSeq: null, fromTs: null, toTs: null }
/** Bytes read from the spool at a time. */
const SPOOL_CHUNK = 1024 * 1024

/** The most telling of `problems` (the first that names a receipt), as a phrase. */
function describeProblem(problems: readonly VerifyProblem[]): string {
  const p = problems.find((x) => x.seq !== undefined) ?? problems[0]
  if (p === undefined) return 'an earlier manifest entry failed'
  return `${p.kind}${p.seq === undefined ? '' : ` at receipt ${p.seq}`}: ${p.message}`
}

/**
 * Appends the receipts of a spooled JSONL file `[from, through]` to `store`.
 * One 1 MiB buffer is refilled from the position of the first line not yet
 * appended, and the complete lines in it (views, one contiguous run, which
 * the file store writes without a copy) are appended before the next read:
 * no garbage per receipt, about one store append per 1,900 receipts.
 */
async function appendSpool(
  store: LedgerStore,
  path: string,
  from: number,
  through: number,
  onReceipt: () => void,
): Promise<void> {
  let seq = from
  let buf = Buffer.allocUnsafeSlow(SPOOL_CHUNK)
  const fh = await open(path, 'r')
  try {
    for (let pos = 0; seq <= through; ) {
      const n = await readAt(fh, buf, pos)
      const view = buf.subarray(0, n)
      const batch: EncodedReceipt[] = []
      let at = 0
      for (let nl = view.indexOf(10); nl >= 0 && seq <= through; nl = view.indexOf(10, at)) {
        const bytes = view.subarray(at, nl)
        batch.push({ seq, bytes, hash: leafHash(bytes) })
        seq++
        at = nl + 1
      }
      if (batch.length === 0) {
        if (n < buf.length) break // the end, without a complete line
        buf = Buffer.allocUnsafeSlow(buf.length * 2) // a line longer than the buffer
        continue
      }
      await store.append(batch)
      for (let i = 0; i < batch.length; i++) onReceipt()
      pos += at
    }
  } finally {
    await fh.close()
  }
  if (seq <= through) {
    throw new LedgerError('IO', `the spool ${path} ended at receipt ${seq}, before ${through}`)
  }
}

/**
 * Restores the newest state an export proves (or receipts `0..upTo`) into an
 * empty store (see the module documentation).
 *
 * @throws {@link InvalidInputError} for bad options, or a store that is not empty (`store`).
 * @throws {@link LedgerError} `NOT_FOUND` when the target has no manifest or
 *   the first bundle is gone (retention); {@link CorruptLedgerError} when not
 *   even the first receipts can be proven. Nothing is written in these cases.
 *
 * @example
 * ```ts
 * const store = await openFileStore('./restored', { create: true })
 * const r = await restore(createDirectoryTarget('/backups/baton'), store, {
 *   keys: [parseVerifierKey(verifierKeyText)],
 * })
 * if (r.lost.count > 0) console.warn(`lost receipts ${r.lost.fromSeq}–${r.lost.toSeq}: ${r.reason}`)
 * ```
 */
export async function restore(
  target: ExportTarget,
  store: LedgerStore,
  options: RestoreOptions,
): Promise<RestoreResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new InvalidInputError(
      'keys',
      'at least one verifier key is needed (see parseVerifierKey)',
    )
  }
  const upTo = options.upTo
  if (upTo !== undefined && (!Number.isSafeInteger(upTo) || upTo < 0)) {
    throw new InvalidInputError('upTo', `must be a non-negative integer, got ${String(upTo)}`)
  }
  const head = await store.head()
  if (head.size !== 0) {
    throw new InvalidInputError(
      'store',
      `must be empty: ${store.location} holds ${head.size} receipts, and a restore never writes over a ledger`,
    )
  }
  const newest = await readLastManifestEntry(target)
  if (newest === undefined) {
    throw new LedgerError('NOT_FOUND', `no export manifest in ${target.location}`)
  }
  const exportSize = newest.lastSeq + 1
  if (upTo !== undefined && upTo > newest.lastSeq) {
    throw new InvalidInputError(
      'upTo',
      `${upTo} is past the export, which holds receipts 0–${newest.lastSeq}`,
    )
  }
  const wanted = upTo ?? newest.lastSeq
  const source = options.source ?? target.location

  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'baton-restore-'))
  const spool = join(spoolDir, 'bundle.jsonl')
  const problems: VerifyProblem[] = []
  const note = (ps: readonly VerifyProblem[]): void => {
    for (const p of ps) if (problems.length < 100) problems.push(p)
  }
  let restoredThrough = -1
  let restoredHash = ''
  let restoredTs = ''
  let stopped: { reason: string; fromTs: string | undefined; notFound: boolean } | undefined
  let bytes = 0
  let appended = 0
  /** The entry holding receipt `wanted`, for the time span of a loss. */
  let wantedEntry: ManifestEntry | undefined
  const progress = (): void =>
    options.onProgress?.({ receipts: appended, bytes, totalReceipts: wanted + 1 })

  try {
    for await (const walked of walkManifest(target, {
      keys: options.keys,
      signal: options.signal,
    })) {
      const entry = walked.entry
      if (entry !== undefined && entry.firstSeq <= wanted && wanted <= entry.lastSeq) {
        wantedEntry = entry
      }
      if (restoredThrough >= wanted) break
      if (stopped !== undefined) continue
      if (!walked.trusted || entry === undefined) {
        note(walked.problems)
        stopped = {
          reason: `manifest entry ${walked.key} cannot be trusted: ${describeProblem(walked.problems)}`,
          fromTs: entry?.firstTs,
          notFound: false,
        }
        continue
      }
      if ((await target.head(entry.key)) === undefined) {
        stopped = {
          reason: `the bundle ${entry.key} of receipts ${entry.firstSeq}–${entry.lastSeq} (${entry.date}) is missing${entry.firstSeq === 0 ? ' (deleted by retention?)' : ''}`,
          fromTs: entry.firstTs,
          notFound: true,
        }
        continue
      }
      const fh = await open(spool, 'w', 0o600)
      let scan: Awaited<ReturnType<typeof scanBundle>>
      try {
        scan = await scanBundle({
          target,
          entry,
          anchor: walked.anchor!,
          range: walked.range,
          root: walked.checkpoint!.root,
          maxProblems: 100,
          salvage: true,
          sink: async (chunk) => {
            await fh.write(chunk)
          },
          onBytes: (n) => {
            bytes += n
          },
          signal: options.signal,
        })
      } finally {
        await fh.close()
      }
      const through = Math.min(scan.goodThrough, wanted)
      if (through >= entry.firstSeq) {
        await appendSpool(store, spool, entry.firstSeq, through, () => {
          if ((++appended & 0xffff) === 0) progress()
        })
        restoredThrough = through
        // The last restored receipt's hash and time, from the spool's line.
        for await (const line of store.read(through, through + 1)) {
          restoredHash = leafHash(line.bytes)
          restoredTs = tsOf(Buffer.from(line.bytes)) ?? ''
        }
      }
      progress()
      if (scan.goodThrough < entry.lastSeq && scan.goodThrough < wanted) {
        note(scan.problems)
        stopped = {
          reason: `the bundle ${entry.key} is damaged: ${describeProblem(scan.problems)}`,
          fromTs: scan.firstLostTs,
          notFound: false,
        }
      }
    }
  } finally {
    await rm(spoolDir, { recursive: true, force: true })
  }

  if (restoredThrough < 0) {
    const why = stopped?.reason ?? 'no bundle could be read'
    if (stopped?.notFound === true) {
      throw new LedgerError(
        'NOT_FOUND',
        `nothing can be restored from ${target.location}: ${why}; a restore needs every bundle from receipt 0`,
      )
    }
    throw new CorruptLedgerError(`nothing can be restored from ${target.location}: ${why}`)
  }

  const lost: RestoreLoss =
    restoredThrough >= wanted
      ? NO_LOSS
      : {
          count: wanted - restoredThrough,
          fromSeq: restoredThrough + 1,
          toSeq: wanted,
          fromTs: stopped?.fromTs ?? restoredTs,
          toTs: wantedEntry?.lastTs ?? newest.lastTs,
        }
  const reason = lost.count === 0 ? undefined : (stopped?.reason ?? 'unknown')
  const data: RestoredReceiptData = {
    source,
    restoredThrough,
    restoredHash,
    exportSize,
    upTo: upTo ?? null,
    lost,
    reason: reason ?? null,
  }
  const ledger = createLedger(
    options.clock === undefined ? { store } : { store, clock: options.clock },
  )
  const receipt = await ledger.append({ type: RESTORED_RECEIPT_TYPE, data })
  progress()
  return {
    status: lost.count === 0 ? 'restored' : 'restored-with-loss',
    restoredThrough,
    restored: restoredThrough + 1,
    exportSize,
    lost,
    reason,
    problems,
    receipt,
  }
}
