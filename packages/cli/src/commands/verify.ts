/**
 * `baton verify <dir> [--json] [--checkpoint FILE --key VKEY...]`: stream
 * the ledger once and check it, and, with a signed checkpoint, that the
 * ledger holds at least its size and that its first `size` receipts have
 * its root.
 *
 * Exit codes: 0 VERIFIED, 1 integrity problem (a checkpoint that does not
 * verify is one), 2 usage or I/O error (including unreadable or malformed
 * key and checkpoint files).
 *
 * @module
 */
import { type VerifyCheckpoint, verify } from '@baton/ledger'
import { readArgFile, readVerifierKeys } from '../_key-args.js'
import { openLedger } from '../_ledger-dir.js'
import { EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { verifySummary } from '../format.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton verify`. */
export interface VerifyCommandOptions {
  readonly json: boolean
  /** Problems listed in the readable summary (the JSON report lists up to 1,000). */
  readonly show: number
  /** A signed checkpoint file to hold the ledger to. */
  readonly checkpoint?: string
  /** Verifier keys (text, or files of one key per line) trusted to sign it. */
  readonly key?: readonly string[]
}

/** The checkpoint and keys named by `--checkpoint` and `--key`, if any. */
async function checkpointArgs(
  io: CliIo,
  options: VerifyCommandOptions,
): Promise<VerifyCheckpoint | undefined> {
  const hasKeys = options.key !== undefined && options.key.length > 0
  if (options.checkpoint === undefined) {
    if (hasKeys) throw new UsageError('--key needs --checkpoint FILE')
    return undefined
  }
  if (!hasKeys) throw new UsageError('--checkpoint needs at least one --key VKEY')
  const keys = await readVerifierKeys(io, options.key)
  const note = await readArgFile(io, '--checkpoint', options.checkpoint)
  return { note, keys }
}

/** Runs `baton verify`. */
export async function verifyCommand(
  io: CliIo,
  dir: string,
  options: VerifyCommandOptions,
): Promise<number> {
  const checkpoint = await checkpointArgs(io, options)
  const store = await openLedger(io, dir, { readOnly: true })
  const progress = createProgress(io, 'Verifying', options.json)
  let report: Awaited<ReturnType<typeof verify>>
  try {
    report = await verify(store, {
      ...(checkpoint === undefined ? {} : { checkpoint }),
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
