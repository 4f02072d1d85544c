/**
 * Exit codes and the mapping from errors to them.
 *
 * @module
 */
import { BatonError, isBatonError } from '@baton/ledger'

/** Exit code: success (`verify`: the ledger is VERIFIED). */
export const EXIT_OK = 0
/** Exit code: an integrity problem was found. */
export const EXIT_INTEGRITY = 1
/** Exit code: bad usage, bad input, or an I/O error. */
export const EXIT_USAGE = 2

/** A command-line usage error (missing or malformed argument). Exit code 2. */
export class UsageError extends BatonError<'USAGE'> {
  constructor(message: string) {
    super('USAGE', message)
  }
}

/** One line saying what went wrong, for standard error. */
export function describeError(error: unknown): string {
  if (isBatonError(error)) return `baton: ${error.message}`
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return `baton: ${code === undefined ? '' : `${code}: `}${error.message}`
  }
  return `baton: ${String(error)}`
}
