/**
 * Errors thrown by `@baton/adapters-postgres`. Every one is a `BatonError`
 * (from `@baton/ledger`); check them with `isBatonError(error, 'INVALID_CONFIG')`.
 * Ledger-store errors use the ledger's own codes (`CONFLICT`, `CLOSED`,
 * `NOT_FOUND`, `IO`), port errors the core's (`FENCED`, `ABORTED`, `ADAPTER`).
 *
 * @module
 */
import { BatonError, type BatonErrorOptions } from '@baton/ledger'

/** Every code a `@baton/adapters-postgres` error of its own can carry. */
export type PostgresErrorCode =
  /** An option is invalid; `path` names it. */
  | 'INVALID_CONFIG'
  /** PostgreSQL refused or failed a call (the driver's error is the `cause`). */
  | 'ADAPTER'
  /** A local cluster (tests, the drill) could not be created, started or stopped. */
  | 'CLUSTER'

/** An error from the PostgreSQL adapters. */
export class PostgresError extends BatonError<PostgresErrorCode> {}

/** An option is invalid. `path` names the bad field, e.g. `table` or `regions.eu.connectionString`. */
export class PostgresConfigError extends PostgresError {
  /** Path of the offending option. */
  readonly path: string
  /** What is wrong with it. */
  readonly reason: string

  constructor(path: string, reason: string, options?: BatonErrorOptions) {
    super('INVALID_CONFIG', `${path}: ${reason}`, options)
    this.path = path
    this.reason = reason
  }
}
