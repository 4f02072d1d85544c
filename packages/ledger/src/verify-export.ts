/**
 * Verifies an export target the way `verify` verifies a ledger: the
 * manifest chain (index continuity, `prevEntry` links), every checkpoint's
 * signature and its binding to its entry, every present bundle's size,
 * SHA-256 and receipts (anchored at the previous bundle's last receipt, so
 * continuity between bundles is checked), and the Merkle consistency from
 * each entry to the next (the previous compact range extended by a bundle's
 * leaves must reach the next signed root). Bundles deleted by retention are
 * fine; one missing inside the retention window is a `gap`.
 *
 * Memory is constant: one bundle is streamed at a time through `verify`,
 * and one previous manifest entry is kept.
 *
 * @module
 */
import { scanBundle } from './_bundle-scan.js'
import { PROBLEM_KINDS, type ProblemKind, type VerifyProblem } from './_chain-check.js'
import { walkManifest } from './_manifest-walk.js'
import { InvalidInputError, LedgerError } from './errors.js'
import { DEFAULT_RETAIN_DAYS, retentionCutoff } from './export.js'
import type { ExportTarget } from './export-target.js'
import { readExportObject } from './export-target.js'
import { ZERO_HASH } from './hash.js'
import type { NoteVerifier } from './keys.js'
import {
  BUNDLE_PREFIX,
  MANIFEST_PREFIX,
  manifestKeyIndex,
  parseDay,
  parseManifestEntry,
} from './manifest.js'

/** Progress of a running {@link verifyExport}. */
export interface VerifyExportProgress {
  /** Manifest entries checked. */
  readonly entries: number
  /** Receipts checked. */
  readonly receipts: number
  /** Bundle bytes read (as stored). */
  readonly bytes: number
  /** Bundle bytes to read (present bundles, per the manifest), when a progress callback asked for it. */
  readonly totalBytes: number | undefined
}

/** Options for {@link verifyExport}. */
export interface VerifyExportOptions {
  /** Verifier keys trusted to sign the manifest's checkpoints (unknown signers are ignored). */
  readonly keys: readonly NoteVerifier[]
  /** The retention the exports ran with: older missing bundles are retired, not missing; default 90. */
  readonly retainDays?: number
  /** The current time, for retention; default now. */
  readonly now?: Date | number
  /** Most problems listed (counts stay exact); default 1000. */
  readonly maxProblems?: number
  /**
   * Called after each bundle and about every 64 Ki receipts. With it, the
   * manifest is read once more up front to know the total size.
   */
  readonly onProgress?: (progress: VerifyExportProgress) => void
  /** Aborts the verification (rejects with the signal's reason). */
  readonly signal?: AbortSignal
}

/** Bundles by what became of them. */
export interface VerifyExportBundles {
  /** Present and intact. */
  readonly verified: number
  /** Deleted by retention (older than the window): fine. */
  readonly retired: number
  /** Missing inside the retention window: a problem. */
  readonly missing: number
  /** Present but with a problem. */
  readonly damaged: number
}

/** The result of {@link verifyExport}. */
export interface VerifyExportReport {
  /** `VERIFIED` only when no problem of any kind was found. */
  readonly status: 'VERIFIED' | 'FAILED'
  /** The target's location. */
  readonly target: string
  /** Manifest entries checked. */
  readonly entries: number
  /** What became of each entry's bundle. */
  readonly bundles: VerifyExportBundles
  /** Receipt lines checked (in present bundles). */
  readonly checked: number
  /** Receipt lines with no problem. */
  readonly valid: number
  /** Receipts the manifest accounts for: the newest entry's `lastSeq + 1`. */
  readonly size: number
  /** Leaf hash of receipt `size - 1` per the newest entry (`ZERO_HASH` when empty). */
  readonly head: string
  /** The newest entry's signed checkpoint note, if any. */
  readonly checkpoint: string | undefined
  /** Bundle bytes read. */
  readonly bytes: number
  /** Problems per kind (exact). */
  readonly counts: Readonly<Record<ProblemKind, number>>
  /** The problems, in the order found, at most `maxProblems`. */
  readonly problems: readonly VerifyProblem[]
  /** Problems found but not listed. */
  readonly problemsOmitted: number
  /** Bundle keys no entry references (left by interrupted exports; the next export deletes them). */
  readonly unreferenced: readonly string[]
}

function checkOptions(options: VerifyExportOptions): {
  retainDays: number
  nowMs: number
  maxProblems: number
} {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  if (!Array.isArray(options.keys) || options.keys.length === 0) {
    throw new InvalidInputError(
      'keys',
      'at least one verifier key is needed (see parseVerifierKey)',
    )
  }
  options.keys.forEach((k, i) => {
    if (typeof k?.verify !== 'function') {
      throw new InvalidInputError(`keys[${i}]`, 'must be a NoteVerifier (see parseVerifierKey)')
    }
  })
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
  const nowMs = options.now === undefined ? Date.now() : Number(options.now)
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new InvalidInputError('now', 'must be a valid Date or epoch milliseconds')
  }
  const maxProblems = options.maxProblems ?? 1000
  if (!Number.isSafeInteger(maxProblems) || maxProblems < 0) {
    throw new InvalidInputError('maxProblems', 'must be a non-negative integer')
  }
  return { retainDays, nowMs, maxProblems }
}

/** Sum of the sizes of the bundles retention keeps, per the manifest (entries parsed leniently). */
async function plannedBytes(target: ExportTarget, cutoff: number): Promise<number> {
  let total = 0
  for await (const key of target.list(MANIFEST_PREFIX)) {
    if (manifestKeyIndex(key) === undefined) continue
    try {
      const entry = parseManifestEntry(await readExportObject(target, key), key)
      if ((parseDay(entry.date) ?? 0) >= cutoff) total += entry.bytes
    } catch {
      // The real walk reports it.
    }
  }
  return total
}

/**
 * Verifies everything an export target holds (see the module documentation).
 *
 * @returns the report; `status` is `VERIFIED` only when every check passes.
 * @throws {@link InvalidInputError} for bad options.
 * @throws {@link LedgerError} `NOT_FOUND` when the target has no manifest;
 *   I/O errors of the target propagate (the CLI maps them to exit code 2).
 *
 * @example
 * ```ts
 * const report = await verifyExport(createDirectoryTarget('/backups/baton'), {
 *   keys: [parseVerifierKey(process.env.BATON_VERIFIER_KEY!)],
 * })
 * console.log(report.status)
 * ```
 */
export async function verifyExport(
  target: ExportTarget,
  options: VerifyExportOptions,
): Promise<VerifyExportReport> {
  const { retainDays, nowMs, maxProblems } = checkOptions(options)
  const cutoff = retentionCutoff(nowMs, retainDays)
  const counts = Object.fromEntries(PROBLEM_KINDS.map((k) => [k, 0])) as Record<ProblemKind, number>
  const problems: VerifyProblem[] = []
  let omitted = 0
  const report = (p: VerifyProblem, counted = false): void => {
    if (!counted) counts[p.kind]++
    if (problems.length < maxProblems) problems.push(p)
    else omitted++
  }
  const bundles = { verified: 0, retired: 0, missing: 0, damaged: 0 }
  const referenced = new Set<string>()
  let entries = 0
  let checked = 0
  let valid = 0
  let bytes = 0
  let size = 0
  let head = ZERO_HASH
  let checkpoint: string | undefined
  const totalBytes =
    options.onProgress === undefined ? undefined : await plannedBytes(target, cutoff)
  const progress = (receipts = checked): void =>
    options.onProgress?.({ entries, receipts, bytes, totalBytes })

  for await (const walked of walkManifest(target, { keys: options.keys, signal: options.signal })) {
    entries++
    for (const p of walked.problems) report(p)
    const entry = walked.entry
    if (entry === undefined) continue
    referenced.add(entry.key)
    if (entry.lastSeq + 1 >= size) {
      size = entry.lastSeq + 1
      head = entry.lastHash
      checkpoint = entry.checkpoint
    }
    const info = await target.head(entry.key)
    if (info === undefined) {
      if ((parseDay(entry.date) ?? 0) < cutoff) bundles.retired++
      else {
        bundles.missing++
        report({
          kind: 'gap',
          seq: entry.firstSeq,
          file: entry.key,
          message: `the bundle of receipts ${entry.firstSeq}–${entry.lastSeq} (${entry.date}) is missing, inside the ${retainDays}-day retention window`,
        })
      }
      continue
    }
    const before = bytes
    const scan = await scanBundle({
      target,
      entry,
      anchor: walked.anchor ?? ZERO_HASH,
      range: walked.range,
      root: walked.checkpoint?.root,
      maxProblems,
      salvage: false,
      onBytes: (n) => {
        bytes += n
      },
      onReceipts: (n) => progress(checked + n),
      signal: options.signal,
    })
    bytes = before + scan.bytes
    checked += scan.report.checked
    valid += scan.report.valid
    for (const kind of PROBLEM_KINDS) counts[kind] += scan.counts[kind] ?? 0
    for (const p of scan.problems) report(p, true)
    omitted += scan.report.problemsOmitted
    if (scan.ok) bundles.verified++
    else bundles.damaged++
    progress()
  }
  if (entries === 0) {
    throw new LedgerError(
      'NOT_FOUND',
      `no export manifest in ${target.location} (no ${MANIFEST_PREFIX} entries)`,
    )
  }
  const unreferenced: string[] = []
  for await (const key of target.list(BUNDLE_PREFIX)) {
    if (!referenced.has(key)) unreferenced.push(key)
  }
  progress()
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    status: total === 0 ? 'VERIFIED' : 'FAILED',
    target: target.location,
    entries,
    bundles,
    checked,
    valid,
    size,
    head,
    checkpoint,
    bytes,
    counts,
    problems,
    problemsOmitted: omitted,
    unreferenced,
  }
}
