/**
 * `baton export <dir> --to <target> [--date D] [--key FILE]… [--gzip]
 * [--retain-days N] [--origin O] [--json]`: export the receipts the target
 * does not hold yet as one bundle and one signed manifest entry, then apply
 * retention.
 *
 * Exit codes: 0 exported, already exported or nothing to export; 1 the
 * ledger is broken or disagrees with the export; 2 usage or I/O error.
 *
 * @module
 */
import { exportLedger, isBatonError } from '@baton/ledger'
import { exportSummary } from '../_export-format.js'
import { readSignerKeys } from '../_key-args.js'
import { openLedger } from '../_ledger-dir.js'
import { resolveTarget } from '../_target.js'
import { describeError, EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton export`. */
export interface ExportCommandOptions {
  /** The target: a directory or a `file:` URL. */
  readonly to: string
  /** The UTC day to export, `YYYY-MM-DD`. */
  readonly date?: string
  /** Signer key files (`-` for standard input); default `BATON_SIGNER_KEY`. */
  readonly key?: readonly string[]
  /** Gzip the bundle. */
  readonly gzip: boolean
  /** Delete bundles older than this many days (default 90). */
  readonly retainDays?: number
  /** The checkpoints' origin line. */
  readonly origin?: string
  /** Print JSON instead of the summary. */
  readonly json: boolean
}

/** Runs `baton export`. */
export async function exportCommand(
  io: CliIo,
  dir: string,
  options: ExportCommandOptions,
): Promise<number> {
  const signers = await readSignerKeys(io, options.key)
  const target = await resolveTarget(io, options.to, { name: '--to' })
  const store = await openLedger(io, dir, { readOnly: true })
  const progress = createProgress(io, 'Exporting', options.json, 'receipts')
  let result: Awaited<ReturnType<typeof exportLedger>>
  try {
    result = await exportLedger(store, target, {
      signers,
      gzip: options.gzip,
      ...(options.date === undefined ? {} : { date: options.date }),
      ...(options.retainDays === undefined ? {} : { retainDays: options.retainDays }),
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      onProgress: (p) => progress.update(p.receipts, p.totalReceipts, p.receipts),
    })
  } catch (error) {
    if (!isBatonError(error, 'CORRUPT')) throw error
    io.stderr.write(`${describeError(error)}\n`)
    return EXIT_INTEGRITY
  } finally {
    progress.stop()
    await store.close()
  }
  if (options.json) {
    println(io.stdout, JSON.stringify({ target: target.location, ...result }, null, 2))
  } else {
    for (const line of exportSummary(result, target.location)) println(io.stdout, line)
  }
  return EXIT_OK
}
