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
 * **After retention.** Retention deletes old bundles but keeps their
 * manifest entries, so a restore takes the **newest contiguous run of
 * bundles that are still present** (up to `upTo`) and rebuilds an
 * **anchored** ledger that begins where that run begins: its anchor is the
 * end of the manifest entry just before the run (`lastSeq + 1`, `lastHash`,
 * `range`), which that entry's signed checkpoint covers (the range folds to
 * its root; the entry's digest is in its extension line) and the manifest's
 * hash chain links to every later entry. Only trusted entries are used, and
 * the run's first bundle must still link to the anchor and extend its range
 * to the next signed root, as every bundle is checked. The receipts before
 * the anchor are **retired** (`retired`: the restored ledger does not hold
 * them, its anchor commits to them), reported apart from receipts **lost**
 * to damage. {@link planRestore} works out the anchor without writing
 * anything; {@link restore} needs a store that begins at it, or a function
 * that creates one.
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
import { type Anchor, anchorAfterManifestEntry, anchorHead, sameAnchor } from './anchor.js'
import { CorruptLedgerError, InvalidInputError, LedgerError } from './errors.js'
import { readLastManifestEntry } from './export.js'
import type { ExportTarget } from './export-target.js'
import { leafHash } from './hash.js'
import type { NoteVerifier } from './keys.js'
import { type Clock, createLedger } from './ledger.js'
import { type ManifestEntry, manifestEntryKey } from './manifest.js'
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

/**
 * The receipts a restore leaves retired: those before the anchor the
 * restored ledger begins at (their bundles are gone, typically deleted by
 * retention; the anchor commits to them). Times are from the manifest.
 */
export interface RestoreRetired {
  /** Receipts retired; 0 when the restored ledger begins at receipt 0 (the other fields are then `null`). */
  readonly count: number
  /** First retired `seq` (0). */
  readonly fromSeq: number | null
  /** Last retired `seq` (the anchor's `seq - 1`). */
  readonly toSeq: number | null
  /** `ts` of receipt 0, from manifest entry 0. */
  readonly fromTs: string | null
  /** `ts` of the last retired receipt, from the manifest entry the anchor ends. */
  readonly toTs: string | null
}

/** What {@link planRestore} found: where a restore of the export would begin. */
export interface RestorePlan {
  /**
   * The anchor the restored ledger must begin at, or `undefined` when every
   * bundle from receipt 0 (up to `upTo`) is present. Its `source` names the
   * manifest entry it was taken from.
   */
  readonly anchor: Anchor | undefined
  /** Index of the first manifest entry whose bundle the restore reads. */
  readonly firstEntry: number
  /** Receipts the export held (the newest manifest entry's `lastSeq + 1`). */
  readonly exportSize: number
  /** The receipts before the anchor. */
  readonly retired: RestoreRetired
}

/** Options for {@link planRestore}. */
export interface PlanRestoreOptions {
  /** Verifier keys trusted to sign the manifest's checkpoints. */
  readonly keys: readonly NoteVerifier[]
  /** Plan a restore of receipts `0..upTo` only (inclusive). */
  readonly upTo?: number
  /** Where the restore comes from, for the anchor's `source`; default the target's location. */
  readonly source?: string
  /** Aborts the planning. */
  readonly signal?: AbortSignal
}

/**
 * Where a restore goes: an empty store that begins at the plan's anchor, or
 * a function that creates one for the anchor (or for none) when the restore
 * first writes. The caller owns (and closes) the store either way.
 */
export type RestoreInto =
  | LedgerStore
  | ((anchor: Anchor | undefined) => LedgerStore | Promise<LedgerStore>)

/** Progress of a running restore. */
export interface RestoreProgress {
  /** Receipts appended to the store so far. */
  readonly receipts: number
  /** Bundle bytes read (as stored). */
  readonly bytes: number
  /** Receipts the restore aims for (`upTo + 1`, or the export's size, minus the anchor's `seq`). */
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
  /** The last restored `seq` (the anchor's `seq - 1` when no receipt was restored after it). */
  readonly restoredThrough: number
  /** Leaf hash of receipt `restoredThrough`. */
  readonly restoredHash: string
  /** Receipts the export held (the newest manifest entry's `lastSeq + 1`). */
  readonly exportSize: number
  /** The `upTo` asked for, or `null`. */
  readonly upTo: number | null
  /** The receipts before the anchor the restored ledger begins at (retired, not lost). */
  readonly retired: RestoreRetired
  /** What was lost. */
  readonly lost: RestoreLoss
  /** Why receipts were lost, or `null`. */
  readonly reason: string | null
}

/** The result of {@link restore}. */
export interface RestoreResult {
  /** `restored` when nothing was lost. */
  readonly status: 'restored' | 'restored-with-loss'
  /** The last `seq` restored from the export (the anchor's `seq - 1` when none after it). */
  readonly restoredThrough: number
  /** Receipts restored from the export (`restoredThrough + 1`, minus the anchor's `seq`). */
  readonly restored: number
  /** Receipts the export held. */
  readonly exportSize: number
  /** The anchor the restored ledger begins at, or `undefined` when it begins at receipt 0. */
  readonly anchor: Anchor | undefined
  /** The receipts before the anchor: retired, not lost. */
  readonly retired: RestoreRetired
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
const NONE_RETIRED: RestoreRetired = NO_LOSS
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

function checkKeys(options: { readonly keys?: unknown }): void {
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new InvalidInputError(
      'keys',
      'at least one verifier key is needed (see parseVerifierKey)',
    )
  }
}

function checkUpTo(upTo: unknown): void {
  if (upTo !== undefined && (!Number.isSafeInteger(upTo) || (upTo as number) < 0)) {
    throw new InvalidInputError('upTo', `must be a non-negative integer, got ${String(upTo)}`)
  }
}

/**
 * Works out where a restore of `target` (up to `upTo`) would begin, reading
 * only the manifest and checking which bundles are present: the newest
 * contiguous run of present bundles among the trusted manifest entries, and
 * the anchor at the end of the entry before it (see the module
 * documentation). Writes nothing. Use it to create the store a restore
 * needs: `createMemoryStore({ anchor })`, `openFileStore(dir, { create:
 * true, anchor })`.
 *
 * @throws {@link InvalidInputError} for bad options (`keys`, `upTo` past the export).
 * @throws {@link LedgerError} `NOT_FOUND` when the target has no manifest.
 *
 * @example
 * ```ts
 * const plan = await planRestore(target, { keys })
 * const store = await openFileStore('./restored', { create: true, anchor: plan.anchor })
 * await restore(target, store, { keys })
 * ```
 */
export async function planRestore(
  target: ExportTarget,
  options: PlanRestoreOptions,
): Promise<RestorePlan> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  checkKeys(options)
  checkUpTo(options.upTo)
  const newest = await readLastManifestEntry(target)
  if (newest === undefined) {
    throw new LedgerError('NOT_FOUND', `no export manifest in ${target.location}`)
  }
  const upTo = options.upTo
  if (upTo !== undefined && upTo > newest.lastSeq) {
    throw new InvalidInputError(
      'upTo',
      `${upTo} is past the export, which holds receipts 0–${newest.lastSeq}`,
    )
  }
  const wanted = upTo ?? newest.lastSeq
  let first: ManifestEntry | undefined
  let previous: ManifestEntry | undefined
  /** The newest trusted entry (up to `wanted`) whose bundle is gone, and the one before it. */
  let missing: { entry: ManifestEntry; before: ManifestEntry | undefined } | undefined
  for await (const walked of walkManifest(target, {
    keys: options.keys,
    signal: options.signal,
  })) {
    const entry = walked.entry
    // A restore stops at the first entry that cannot be trusted; later ones do not count.
    if (!walked.trusted || entry === undefined || entry.firstSeq > wanted) break
    if (entry.index === 0) first = entry
    if ((await target.head(entry.key)) === undefined) missing = { entry, before: previous }
    previous = entry
  }
  // The anchor ends the newest missing bundle, unless `wanted` is inside it:
  // then the one before (and the restore will report the rest as missing).
  const ends =
    missing === undefined
      ? undefined
      : missing.entry.lastSeq <= wanted
        ? missing.entry
        : missing.before
  const source = options.source ?? target.location
  const anchor =
    ends === undefined
      ? undefined
      : anchorAfterManifestEntry(ends, `${source} ${manifestEntryKey(ends.index)}`)
  return {
    anchor,
    firstEntry: ends === undefined ? 0 : ends.index + 1,
    exportSize: newest.lastSeq + 1,
    retired:
      ends === undefined
        ? NONE_RETIRED
        : {
            count: ends.lastSeq + 1,
            fromSeq: 0,
            toSeq: ends.lastSeq,
            fromTs: first?.firstTs ?? null,
            toTs: ends.lastTs,
          },
  }
}

/** How to make a store that a restore can write to, for messages. */
const ANCHOR_ADVICE =
  'create it with that anchor (planRestore(target, { keys }).anchor): createMemoryStore({ anchor }) or openFileStore(dir, { create: true, anchor }), or pass a function (anchor) => store to restore()'

/** Checks that `store` begins at `anchor`. */
function checkInto(store: LedgerStore, anchor: Anchor | undefined): void {
  if (typeof store !== 'object' || store === null || typeof store.head !== 'function') {
    throw new InvalidInputError('store', 'must be a LedgerStore or a function returning one')
  }
  if (sameAnchor(store.anchor, anchor)) return
  if (anchor === undefined) {
    throw new InvalidInputError(
      'store',
      `${store.location} begins at an anchor (seq ${store.anchor!.seq}), but the export holds every bundle from receipt 0: restore into a store without an anchor`,
    )
  }
  throw new InvalidInputError(
    'store',
    `the export's bundles before receipt ${anchor.seq} are gone (deleted by retention?), so the restored ledger must begin at the anchor {seq: ${anchor.seq}, prev: ${anchor.prev.slice(0, 12)}…} from ${anchor.source ?? 'the manifest'}, but ${store.location} ${store.anchor === undefined ? 'begins at receipt 0' : `begins at another anchor (seq ${store.anchor.seq})`}; ${ANCHOR_ADVICE}`,
  )
}

/** Refuses a store that holds receipts. */
async function checkEmpty(store: LedgerStore): Promise<void> {
  const head = await store.head()
  const base = store.anchor?.seq ?? 0
  if (head.size !== base) {
    throw new InvalidInputError(
      'store',
      `must be empty: ${store.location} holds ${head.size - base} receipts, and a restore never writes over a ledger`,
    )
  }
}

/**
 * Restores the newest state an export proves (or receipts `0..upTo`) into an
 * empty store (see the module documentation). After retention the restored
 * ledger begins at an anchor ({@link planRestore}): pass a store created
 * with it, or a function that creates the store for the anchor it is given
 * (called once, when the restore first writes; never when nothing can be
 * restored).
 *
 * @throws {@link InvalidInputError} for bad options, a store that is not
 *   empty, or one that does not begin at the anchor the export needs
 *   (`store`; the message says how to create one).
 * @throws {@link LedgerError} `NOT_FOUND` when the target has no manifest or
 *   the bundles needed are gone; {@link CorruptLedgerError} when not even the
 *   first receipts after the anchor can be proven. Nothing is written in
 *   these cases.
 *
 * @example
 * ```ts
 * const r = await restore(createDirectoryTarget('/backups/baton'),
 *   (anchor) => openFileStore('./restored', { create: true, anchor }),
 *   { keys: [parseVerifierKey(verifierKeyText)] })
 * if (r.retired.count > 0) console.log(`begins at receipt ${r.anchor!.seq}`)
 * if (r.lost.count > 0) console.warn(`lost receipts ${r.lost.fromSeq}–${r.lost.toSeq}: ${r.reason}`)
 * ```
 */
export async function restore(
  target: ExportTarget,
  into: RestoreInto,
  options: RestoreOptions,
): Promise<RestoreResult> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  checkKeys(options)
  const upTo = options.upTo
  checkUpTo(upTo)
  if (typeof into !== 'function') {
    if (typeof into !== 'object' || into === null || typeof into.head !== 'function') {
      throw new InvalidInputError('store', 'must be a LedgerStore or a function returning one')
    }
    await checkEmpty(into)
  }
  const plan = await planRestore(target, {
    keys: options.keys,
    ...(upTo === undefined ? {} : { upTo }),
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  const anchor = plan.anchor
  if (typeof into !== 'function') checkInto(into, anchor)
  let store: LedgerStore | undefined = typeof into === 'function' ? undefined : into
  /** The store to write to: made by the factory the first time. */
  const openStore = async (): Promise<LedgerStore> => {
    if (store !== undefined) return store
    const made = await (into as (anchor: Anchor | undefined) => LedgerStore | Promise<LedgerStore>)(
      anchor,
    )
    checkInto(made, anchor)
    await checkEmpty(made)
    store = made
    return made
  }
  const exportSize = plan.exportSize
  const wanted = upTo ?? exportSize - 1
  const source = options.source ?? target.location
  const base = anchorHead(anchor)

  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'baton-restore-'))
  const spool = join(spoolDir, 'bundle.jsonl')
  const problems: VerifyProblem[] = []
  const note = (ps: readonly VerifyProblem[]): void => {
    for (const p of ps) if (problems.length < 100) problems.push(p)
  }
  let restoredThrough = base.size - 1
  let restoredHash = anchor?.prev ?? ''
  let restoredTs = ''
  let stopped: { reason: string; fromTs: string | undefined; notFound: boolean } | undefined
  let bytes = 0
  let appended = 0
  /** The entry holding receipt `wanted`, for the time span of a loss. */
  let wantedEntry: ManifestEntry | undefined
  let newestEntry: ManifestEntry | undefined
  const progress = (): void =>
    options.onProgress?.({ receipts: appended, bytes, totalReceipts: wanted + 1 - base.size })

  try {
    for await (const walked of walkManifest(target, {
      keys: options.keys,
      signal: options.signal,
    })) {
      const entry = walked.entry
      if (entry !== undefined) newestEntry = entry
      if (entry !== undefined && entry.firstSeq <= wanted && wanted <= entry.lastSeq) {
        wantedEntry = entry
      }
      if (restoredThrough >= wanted) break
      if (stopped !== undefined) continue
      // Entries before the anchor: their receipts are retired.
      if (walked.index >= 0 && walked.index < plan.firstEntry && walked.trusted) continue
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
          reason: `the bundle ${entry.key} of receipts ${entry.firstSeq}–${entry.lastSeq} (${entry.date}) is missing`,
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
        const to = await openStore()
        await appendSpool(to, spool, entry.firstSeq, through, () => {
          if ((++appended & 0xffff) === 0) progress()
        })
        restoredThrough = through
        // The last restored receipt's hash and time, from the spool's line.
        for await (const line of to.read(through, through + 1)) {
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

  const restored = restoredThrough + 1 - base.size
  if (restored === 0 && restoredThrough < wanted) {
    const why = stopped?.reason ?? 'no bundle could be read'
    const from = anchor === undefined ? '' : ` after the anchor at receipt ${anchor.seq}`
    if (stopped?.notFound === true) {
      throw new LedgerError(
        'NOT_FOUND',
        `nothing can be restored from ${target.location}${from}: ${why}`,
      )
    }
    throw new CorruptLedgerError(`nothing can be restored from ${target.location}${from}: ${why}`)
  }

  const lost: RestoreLoss =
    restoredThrough >= wanted
      ? NO_LOSS
      : {
          count: wanted - restoredThrough,
          fromSeq: restoredThrough + 1,
          toSeq: wanted,
          fromTs: stopped?.fromTs ?? restoredTs,
          toTs: wantedEntry?.lastTs ?? newestEntry?.lastTs ?? null,
        }
  const reason = lost.count === 0 ? undefined : (stopped?.reason ?? 'unknown')
  const data: RestoredReceiptData = {
    source,
    restoredThrough,
    restoredHash,
    exportSize,
    upTo: upTo ?? null,
    retired: plan.retired,
    lost,
    reason: reason ?? null,
  }
  const to = await openStore()
  const ledger = createLedger(
    options.clock === undefined ? { store: to } : { store: to, clock: options.clock },
  )
  const receipt = await ledger.append({ type: RESTORED_RECEIPT_TYPE, data })
  progress()
  return {
    status: lost.count === 0 ? 'restored' : 'restored-with-loss',
    restoredThrough,
    restored,
    exportSize,
    anchor,
    retired: plan.retired,
    lost,
    reason,
    problems,
    receipt,
  }
}
