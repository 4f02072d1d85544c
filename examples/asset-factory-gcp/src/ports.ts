/**
 * The Asset Factory's own ports, beyond the ones @baton/core defines: the
 * asset buckets and the job API the runbook's verification steps use.
 *
 * @module
 */
import type { CallContext, RegionId } from '@baton/core'

/** What a bucket check found (runbook step 4). */
export interface StorageCheck {
  /** The region it resolved to or checked. */
  readonly region: RegionId
  /** The application and the workers in `region` can read the buckets. */
  readonly read: boolean
  /** …and write to them. */
  readonly write: boolean
  /** Existing asset URLs checked through the CDN. */
  readonly urlsChecked: number
  /** …and how many of them resolved. */
  readonly urlsOk: number
}

/** The geo-redundant asset buckets. */
export interface AssetStorage {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** Reads and writes a probe object from `region` and resolves a few asset URLs. */
  check(region: RegionId, ctx: CallContext): Promise<StorageCheck>
}

/** A job as the API reports it. */
export interface JobStatus {
  /** The job's id. */
  readonly id: string
  /** Where the job is. */
  readonly status: 'queued' | 'running' | 'complete' | 'failed'
  /** The region of the worker that picked it up. */
  readonly workerRegion?: RegionId
  /** The output manifest's URL once complete. */
  readonly manifestUrl?: string
  /** The generated asset's URL once complete. */
  readonly assetUrl?: string
  /** Why it failed, when it did. */
  readonly error?: string
}

/** The public job API (through the global load balancer). */
export interface JobApi {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** Creates a test job; returns its id. */
  createJob(ctx: CallContext): Promise<string>
  job(id: string, ctx: CallContext): Promise<JobStatus>
  /** Fetches a URL through the CDN; true when it resolves. */
  fetch(url: string, ctx: CallContext): Promise<boolean>
}
