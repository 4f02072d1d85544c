/**
 * `baton restore <target> --into <dir> [--up-to N] --key VKEY… [--json]`:
 * restore the newest state an export proves (or receipts `0..N`) into a new
 * or empty file ledger, and record what was restored and lost as a
 * `ledger.restored` receipt.
 *
 * Exit codes: 0 restored, nothing lost; 1 corruption found (restored with
 * loss, or nothing could be proven); 2 usage or I/O error, a non-empty
 * `--into`, or bundles gone (retention).
 *
 * @module
 */
import { rm, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { isBatonError, openFileStore, restore } from '@baton/ledger'
import { restoreSummary } from '../_export-format.js'
import { readVerifierKeys } from '../_key-args.js'
import { resolveTarget } from '../_target.js'
import { describeError, EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton restore`. */
export interface RestoreCommandOptions {
  /** The ledger directory to restore into: missing, empty, or an empty ledger. */
  readonly into: string
  /** Restore receipts `0..upTo` only. */
  readonly upTo?: number
  /** Verifier keys (text, or files of one key per line). */
  readonly key?: readonly string[]
  /** Print JSON instead of the summary. */
  readonly json: boolean
  /** Problems listed in the readable summary. */
  readonly show: number
}

/** Runs `baton restore`. */
export async function restoreCommand(
  io: CliIo,
  spec: string,
  options: RestoreCommandOptions,
): Promise<number> {
  const keys = await readVerifierKeys(io, options.key)
  const target = await resolveTarget(io, spec, { name: '<target>', mustExist: true })
  const dir = resolve(io.cwd, options.into)
  const existed = await stat(dir).then(
    () => true,
    () => false,
  )
  const store = await openFileStore(dir, { create: true })
  const progress = createProgress(io, 'Restoring', options.json, 'receipts')
  let result: Awaited<ReturnType<typeof restore>>
  let failed = true
  try {
    result = await restore(target, store, {
      keys,
      ...(options.upTo === undefined ? {} : { upTo: options.upTo }),
      onProgress: (p) => progress.update(p.receipts, p.totalReceipts, p.receipts),
    })
    failed = false
  } catch (error) {
    if (!isBatonError(error, 'CORRUPT')) throw error
    io.stderr.write(`${describeError(error)}\n`)
    return EXIT_INTEGRITY
  } finally {
    progress.stop()
    const size = failed ? (await store.head().catch(() => ({ size: -1 }))).size : -1
    await store.close()
    // A ledger this command created and wrote nothing to is removed again.
    if (failed && !existed && size === 0) await rm(dir, { recursive: true, force: true })
  }
  if (options.json) {
    println(
      io.stdout,
      JSON.stringify({ target: target.location, into: store.location, ...result }, null, 2),
    )
  } else {
    for (const line of restoreSummary(result, target.location, store.location, options.show)) {
      println(io.stdout, line)
    }
  }
  return result.lost.count === 0 ? EXIT_OK : EXIT_INTEGRITY
}
