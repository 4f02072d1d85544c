/**
 * HonuaIO's own ports, beyond the ones @baton/core defines: the test DNS
 * name the quarterly DR drill points at the DR region (`test.api.honua.io`)
 * and the smoke test the runbook runs against an endpoint before production
 * traffic moves.
 *
 * @module
 */
import type { CallContext, RegionId } from '@baton/core'

/** A DNS name outside production traffic (a Route 53 record in the same hosted zone). */
export interface TestDns {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** Points `record` at the endpoint of `region`. */
  point(record: string, region: RegionId, ctx: CallContext): Promise<void>
  /** Deletes `record`. */
  remove(record: string, ctx: CallContext): Promise<void>
}

/** What a smoke test found. */
export interface SmokeResult {
  /** The name tested through. */
  readonly endpoint: string
  /** The region it resolved to or checked. */
  readonly region: RegionId
  /** Checks that passed. */
  readonly passed: number
  /** Checks that failed. */
  readonly failed: number
}

/** The runbook's `smoke-test.sh`: health, database connectivity and storage access through an endpoint. */
export interface SmokeTest {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  run(endpoint: string, ctx: CallContext): Promise<SmokeResult>
}
