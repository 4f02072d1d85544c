/**
 * `baton verify <dir> [--json]`: stream the ledger once and check it.
 *
 * Exit codes: 0 VERIFIED, 1 integrity problem, 2 usage or I/O error.
 *
 * @module
 */
import { verify } from '@baton/ledger'
import { openLedgerDir } from '../_ledger-dir.js'
import { EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { verifySummary } from '../format.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton verify`. */
export interface VerifyCommandOptions {
  readonly json: boolean
  /** Problems listed in the readable summary (the JSON report lists up to 1,000). */
  readonly show: number
}

/** Runs `baton verify`. */
export async function verifyCommand(
  io: CliIo,
  dir: string,
  options: VerifyCommandOptions,
): Promise<number> {
  const store = await openLedgerDir(io, dir, { readOnly: true })
  const progress = createProgress(io, 'Verifying', options.json)
  let report: Awaited<ReturnType<typeof verify>>
  try {
    report = await verify(store, {
      progressEvery: 16_384,
      onProgress: (p) => progress.update(p.bytes, p.totalBytes, p.checked),
    })
  } finally {
    progress.stop()
    await store.close()
  }
  if (options.json)
    println(io.stdout, JSON.stringify({ ledger: store.location, ...report }, null, 2))
  else
    for (const line of verifySummary(report, store.location, options.show)) println(io.stdout, line)
  return report.status === 'VERIFIED' ? EXIT_OK : EXIT_INTEGRITY
}
