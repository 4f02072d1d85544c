/**
 * `baton inspect <dir> [--from N] [--to M] [--json]`: print receipts.
 *
 * @module
 */
import { createLedger } from '@baton/ledger'
import { openLedger } from '../_ledger-dir.js'
import { EXIT_OK, UsageError } from '../errors.js'
import { receiptLine } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton inspect`. */
export interface InspectOptions {
  /** First seq (default 0). */
  readonly from?: number
  /** Last seq, inclusive (default: the last receipt). */
  readonly to?: number
  readonly json: boolean
}

/** Runs `baton inspect`. */
export async function inspectCommand(
  io: CliIo,
  dir: string,
  options: InspectOptions,
): Promise<number> {
  const from = options.from ?? 0
  if (options.to !== undefined && options.to < from) {
    throw new UsageError(`--to ${options.to} is before --from ${from}`)
  }
  const store = await openLedger(io, dir, { readOnly: true })
  const ledger = createLedger({ store })
  try {
    const to = options.to === undefined ? undefined : options.to + 1
    for await (const r of ledger.read(to === undefined ? { from } : { from, to })) {
      println(io.stdout, options.json ? JSON.stringify(r) : receiptLine(r))
    }
  } finally {
    await ledger.close()
  }
  return EXIT_OK
}
