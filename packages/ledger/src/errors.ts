/**
 * Errors thrown by `@baton/ledger`.
 *
 * Every error is a {@link BatonError} with a readonly `code` taken from a
 * string-literal union, an optional `cause`, and a brand that
 * {@link isBatonError} checks, so the check works across duplicate copies of
 * the package in one process. Subclasses exist only where callers branch on
 * extra fields.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for('baton.error') as never

/** Every code a `@baton/ledger` error can carry. */
export type LedgerErrorCode =
  /** A value handed to the API cannot be stored faithfully; `path` names it. */
  | 'INVALID_INPUT'
  /** A create-only write found its `seq` already taken (another writer won). */
  | 'CONFLICT'
  /** Appends kept conflicting after every retry. */
  | 'RETRIES_EXHAUSTED'
  /** Stored bytes are not a readable ledger (bad line, wrong layout). */
  | 'CORRUPT'
  /** The writer lock could not be taken in time. */
  | 'LOCKED'
  /** A filesystem or network operation failed. */
  | 'IO'
  /** No ledger exists where one was expected. */
  | 'NOT_FOUND'
  /** A ledger already exists where a new one was to be created. */
  | 'ALREADY_EXISTS'
  /** The ledger or store was used after `close()`. */
  | 'CLOSED'
  /** A checkpoint, key or signature is malformed or does not verify. */
  | 'BAD_SIGNATURE'
  /** A command-line argument is missing or malformed. */
  | 'USAGE'
  /**
   * A receipt before an anchored ledger's anchor was asked for: the ledger
   * does not hold it (its anchor commits to it). See {@link RetiredReceiptError}.
   */
  | 'RETIRED'

/** Options accepted by every baton error constructor. */
export interface BatonErrorOptions {
  /** The underlying error, if any. */
  readonly cause?: unknown
}

/**
 * Base class of every error baton throws.
 *
 * @typeParam C - the string-literal union of codes this error may carry.
 */
export class BatonError<C extends string = string> extends Error {
  /** Machine-readable reason; stable across releases. */
  readonly code: C
  /** @internal brand checked by {@link isBatonError}. */
  readonly [BRAND] = true

  constructor(code: C, message: string, options?: BatonErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }
}

/**
 * True when `value` is a baton error (from any copy of any baton package),
 * optionally with one of the given codes.
 *
 * @example
 * ```ts
 * try { await ledger.append(input) }
 * catch (e) { if (isBatonError(e, 'INVALID_INPUT')) console.error(e.message) }
 * ```
 */
export function isBatonError<C extends string = string>(
  value: unknown,
  ...codes: readonly C[]
): value is BatonError<C> {
  if (typeof value !== 'object' || value === null) return false
  if ((value as { [BRAND]?: unknown })[BRAND] !== true) return false
  return codes.length === 0 || codes.includes((value as BatonError).code as C)
}

/** A ledger error: a {@link BatonError} with one of the {@link LedgerErrorCode}s. */
export class LedgerError extends BatonError<LedgerErrorCode> {}

/**
 * A value cannot be represented faithfully as a receipt (RFC 8785 / I-JSON
 * rules, envelope rules or API preconditions). Nothing was written.
 */
export class InvalidInputError extends LedgerError {
  /** Path of the offending field, e.g. `data.probes[2].ms`. */
  readonly path: string
  /** What is wrong with it, without the path, e.g. `NaN is not allowed`. */
  readonly reason: string

  constructor(path: string, reason: string, options?: BatonErrorOptions) {
    super('INVALID_INPUT', path === '' ? reason : `${path}: ${reason}`, options)
    this.path = path
    this.reason = reason
  }
}

/**
 * A create-only write lost a race: the `seq` it wanted is taken.
 * Entries before `seq` in the same batch were written (`committed` of them).
 */
export class ConflictError extends LedgerError {
  /** The first `seq` that could not be written. */
  readonly seq: number
  /** How many leading entries of the batch were durably written before the conflict. */
  readonly committed: number

  constructor(seq: number, committed: number, message?: string, options?: BatonErrorOptions) {
    super('CONFLICT', message ?? `seq ${seq} is already taken`, options)
    this.seq = seq
    this.committed = committed
  }
}

/** Stored bytes are not a readable ledger. `file` and `line` locate the problem when known. */
export class CorruptLedgerError extends LedgerError {
  /** File (or object key) holding the bad bytes, when the store has files. */
  readonly file: string | undefined
  /** 1-based line number within `file`, when known. */
  readonly line: number | undefined

  constructor(
    message: string,
    where: { readonly file?: string | undefined; readonly line?: number | undefined } = {},
    options?: BatonErrorOptions,
  ) {
    const loc = [where.file, where.line === undefined ? undefined : `line ${where.line}`]
      .filter((x) => x !== undefined)
      .join(':')
    super('CORRUPT', loc === '' ? message : `${loc}: ${message}`, options)
    this.file = where.file
    this.line = where.line
  }
}

/**
 * The receipt (or the tree of receipts) asked for lies before the anchor an
 * anchored ledger begins at: the ledger does not hold it, only a commitment
 * to it (the anchor's compact range). Proofs that need a retired receipt's
 * own hash cannot be made from this ledger; use the export or a ledger that
 * still holds it.
 */
export class RetiredReceiptError extends LedgerError {
  /** The retired receipt that was needed. */
  readonly seq: number
  /** The first `seq` the ledger holds: its anchor. */
  readonly anchorSeq: number

  constructor(seq: number, anchorSeq: number, options?: BatonErrorOptions) {
    super(
      'RETIRED',
      `seq ${seq} is retired: the ledger begins at its anchor (seq ${anchorSeq}); receipts 0–${anchorSeq - 1} are not held`,
      options,
    )
    this.seq = seq
    this.anchorSeq = anchorSeq
  }
}
