/**
 * What every adapter call carries.
 *
 * @module
 */

/**
 * The context of an adapter call. `epoch` is the caller's lease fencing
 * epoch: an adapter that can check it (a lease-aware store, a database that
 * records the epoch of the last promotion) refuses calls with an older one.
 */
export interface CallContext {
  /** The fencing epoch of the lease the caller holds. */
  readonly epoch: number
  /** Aborts a long call (a plan was cancelled, the lease was lost, a step timed out). */
  readonly signal?: AbortSignal
}

/** A region identifier, e.g. `us-east-1`, `europe-west1`. */
export type RegionId = string
