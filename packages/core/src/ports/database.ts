/**
 * The `Database` port: the replicated database a failover must move.
 *
 * @module
 */
import type { CallContext, RegionId } from './context.js'

/** Replication lag of a replica behind its primary. */
export interface ReplicationLag {
  /** The replica's region. */
  readonly region: RegionId
  /** Lag in milliseconds (time since the last replayed transaction). */
  readonly lagMs: number
  /** Lag in bytes of WAL/binlog, when known. */
  readonly lagBytes?: number
  /** When it was measured (epoch ms). */
  readonly measuredAt: number
}

/** Options for a promotion. */
export interface PromoteOptions {
  /**
   * Graceful: wait until the replica has everything the primary committed
   * (switchover, zero data loss; needs a reachable primary). Ungraceful:
   * promote now (failover), losing what had not replicated.
   */
  readonly graceful: boolean
}

/** The outcome of a promotion. */
export interface Promotion {
  /** The region whose replica is now the primary. */
  readonly region: RegionId
  /** When the promotion completed (epoch ms). */
  readonly promotedAt: number
  /** Data known to be lost, when the database can tell (ms of commits, or transactions). */
  readonly lost?: { readonly ms?: number; readonly transactions?: number }
}

/** A replicated database with a primary in one region and replicas in others. */
export interface Database {
  /** What this is, e.g. `rds:orders-db`, `postgres:127.0.0.1:5432`. */
  readonly name: string
  /** The region holding the primary now. */
  primaryRegion(ctx: CallContext): Promise<RegionId>
  /** Replication lag of the replica in `region`. */
  replicationLag(region: RegionId, ctx: CallContext): Promise<ReplicationLag>
  /** Takes a snapshot/backup of the database in `region` (the old primary, when reachable). Returns its id. */
  snapshot(region: RegionId, ctx: CallContext): Promise<{ readonly id: string }>
  /** Promotes the replica in `region` to primary. */
  promote(region: RegionId, options: PromoteOptions, ctx: CallContext): Promise<Promotion>
  /** Writes and reads back a probe row in `region`'s primary; `ok: false` if it cannot. */
  verifyWrites(
    region: RegionId,
    ctx: CallContext,
  ): Promise<{ readonly ok: boolean; readonly latencyMs: number; readonly error?: string }>
  /**
   * Stops the old primary in `region` from accepting writes (read-only or
   * stopped), when it is reachable. `reachable: false` is not an error: a
   * down region cannot be fenced, and the fencing epoch protects writes.
   */
  fence(
    region: RegionId,
    ctx: CallContext,
  ): Promise<{ readonly fenced: boolean; readonly reachable: boolean }>
}
