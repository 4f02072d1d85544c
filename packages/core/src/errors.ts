/**
 * Errors thrown by `@baton/core`. Every one is a `BatonError` (from
 * `@baton/ledger`) with a code from {@link CoreErrorCode}; check them with
 * `isBatonError(error, 'LEASE_LOST')`.
 *
 * @module
 */
import { BatonError, type BatonErrorOptions } from '@baton/ledger'

/** Every code a `@baton/core` error can carry. */
export type CoreErrorCode =
  /** A configuration, plan, scenario or argument is invalid; `path` names the field. */
  | 'INVALID_CONFIG'
  /** This instance does not hold the lease (or lost it): it must not act. */
  | 'LEASE_LOST'
  /** A call carried a fencing epoch older than the current one: refused. */
  | 'FENCED'
  /** A step or wait ran out of time. */
  | 'TIMEOUT'
  /** The operation was aborted (AbortSignal, plan cancelled). */
  | 'ABORTED'
  /** A plan step failed after its retries. */
  | 'STEP_FAILED'
  /** A decision was refused by its guards. */
  | 'BLOCKED'
  /** The requested action is not possible in the current state. */
  | 'INVALID_STATE'
  /** An adapter reported an error (its cause is attached). */
  | 'ADAPTER'

/** An error from the failover engine. */
export class CoreError extends BatonError<CoreErrorCode> {}

/** A configuration, plan or scenario is invalid. `path` names the bad field, e.g. `plan.steps[3].dependsOn[0]`. */
export class ConfigError extends CoreError {
  /** Path of the offending field. */
  readonly path: string
  /** What is wrong with it. */
  readonly reason: string

  constructor(path: string, reason: string, options?: BatonErrorOptions) {
    super('INVALID_CONFIG', path === '' ? reason : `${path}: ${reason}`, options)
    this.path = path
    this.reason = reason
  }
}

/** A call was refused because it carried a stale fencing epoch. */
export class FencedError extends CoreError {
  /** The epoch the call carried. */
  readonly epoch: number
  /** The current epoch it lost to. */
  readonly current: number

  constructor(epoch: number, current: number, what: string) {
    super('FENCED', `${what}: fencing epoch ${epoch} is older than the current ${current}`)
    this.epoch = epoch
    this.current = current
  }
}
