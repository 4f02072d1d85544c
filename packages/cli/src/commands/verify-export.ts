/**
 * `baton verify-export <target> --key VKEY… [--retain-days N] [--json]
 * [--show N]`: check an export's manifest chain, signatures, bundles and
 * receipts.
 *
 * Exit codes: 0 VERIFIED, 1 integrity problem, 2 usage or I/O error.
 *
 * @module
 */
import { verifyExport } from '@baton/ledger'
import { verifyExportSummary } from '../_export-format.js'
import { readVerifierKeys } from '../_key-args.js'
import { resolveTarget } from '../_target.js'
import { EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton verify-export`. */
export interface VerifyExportCommandOptions {
  /** Verifier keys (text, or files of one key per line). */
  readonly key?: readonly string[]
  /** The retention the exports ran with. */
  readonly retainDays?: number
  /** Print JSON instead of the summary. */
  readonly json: boolean
  /** Problems listed in the readable summary. */
  readonly show: number
}

/** Runs `baton verify-export`. */
export async function verifyExportCommand(
  io: CliIo,
  spec: string,
  options: VerifyExportCommandOptions,
): Promise<number> {
  const keys = await readVerifierKeys(io, options.key)
  const target = await resolveTarget(io, spec, { name: '<target>', mustExist: true })
  const progress = createProgress(io, 'Verifying export', options.json)
  let report: Awaited<ReturnType<typeof verifyExport>>
  try {
    report = await verifyExport(target, {
      keys,
      ...(options.retainDays === undefined ? {} : { retainDays: options.retainDays }),
      onProgress: (p) => progress.update(p.bytes, p.totalBytes, p.receipts),
    })
  } finally {
    progress.stop()
  }
  if (options.json) println(io.stdout, JSON.stringify(report, null, 2))
  else for (const line of verifyExportSummary(report, options.show)) println(io.stdout, line)
  return report.status === 'VERIFIED' ? EXIT_OK : EXIT_INTEGRITY
}
