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
  readonly name: string
  /** Points `record` at the endpoint of `region`. */
  point(record: string, region: RegionId, ctx: CallContext): Promise<void>
  /** Deletes `record`. */
  remove(record: string, ctx: CallContext): Promise<void>
}

/** What a smoke test found. */
export interface SmokeResult {
  readonly endpoint: string
  readonly region: RegionId
  readonly passed: number
  readonly failed: number
}

/** The runbook's `smoke-test.sh`: health, database connectivity and storage access through an endpoint. */
export interface SmokeTest {
  readonly name: string
  run(endpoint: string, ctx: CallContext): Promise<SmokeResult>
}
