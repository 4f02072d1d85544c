/**
 * Aurum's own ports, beyond the ones @baton/core defines: the Kafka cluster
 * checked before services move, the PostgreSQL backups in MinIO/S3, and
 * row counts for the data consistency check.
 *
 * @module
 */
import type { CallContext, RegionId } from '@baton/core'

/** A region's Kafka cluster. */
export interface Kafka {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** `kafka-topics --list` against the cluster in `region`. */
  topics(region: RegionId, ctx: CallContext): Promise<readonly string[]>
}

/** A PostgreSQL backup object in a region's bucket. */
export interface Backup {
  /** Object key in the bucket. */
  readonly key: string
  /** When it was taken (clock ms). */
  readonly takenAt: number
  /** Row counts at backup time, by table (from the backup's metadata). */
  readonly rows: Readonly<Record<string, number>>
  /** The object's checksum matches its metadata (`mc stat`). */
  readonly intact: boolean
}

/** The backup buckets (MinIO in Kubernetes, or S3). */
export interface Backups {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** The newest PostgreSQL backup in `region`'s bucket, if any. */
  latest(region: RegionId, ctx: CallContext): Promise<Backup | undefined>
}

/** `SELECT COUNT(*) FROM <table> WHERE created_at <= $asOf` on the PostgreSQL node of a region. */
export interface RowCounts {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** Rows of `table` created up to `asOf` (clock ms; default now). */
  count(region: RegionId, table: string, ctx: CallContext, asOf?: number): Promise<number>
}
