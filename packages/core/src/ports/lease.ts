/**
 * The `Lease` port: who may act, with a monotonic fencing epoch.
 *
 * @module
 */

/** A held lease. */
export interface LeaseGrant {
  /** Who holds it (an instance id). */
  readonly holder: string
  /**
   * The fencing epoch: strictly greater than every epoch granted before (to
   * anyone). Every adapter call and receipt carries it; stale epochs are refused.
   */
  readonly epoch: number
  /** When it expires unless renewed (epoch ms). */
  readonly expiresAt: number
}

/**
 * A lease that at most one holder has at a time. Implementations: in memory
 * (drills), a PostgreSQL row, an S3 object with conditional writes, a
 * Firestore document.
 */
export interface Lease {
  /** What backs it, e.g. `s3://bucket/leases/orders`. */
  readonly name: string
  /**
   * Takes the lease for `holder` for `ttlMs` if it is free or expired, with
   * a new, higher epoch. Returns `undefined` if another holder has it.
   * Re-acquiring a lease the same holder still holds renews it (same epoch).
   */
  acquire(holder: string, ttlMs: number): Promise<LeaseGrant | undefined>
  /**
   * Extends a held lease. Returns the new grant, or `undefined` if it was
   * lost (expired and taken, or released): the holder must stop acting.
   */
  renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined>
  /** Gives the lease up (no-op if it was already lost). */
  release(grant: LeaseGrant): Promise<void>
  /** The current grant, if any holder has an unexpired one. */
  current(): Promise<LeaseGrant | undefined>
}
