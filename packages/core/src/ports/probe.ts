/**
 * The `Probe` port: one health check of one region.
 *
 * @module
 */
import type { CallContext, RegionId } from './context.js'

/** The result of one health check. */
export interface ProbeSample {
  /** Region checked. */
  readonly region: RegionId
  /** Whether the check passed. */
  readonly ok: boolean
  /** When the check completed (epoch ms, from the engine's clock). */
  readonly at: number
  /** How long it took. */
  readonly latencyMs: number
  /** Error class or message when it failed, e.g. `DEADLINE_EXCEEDED`. */
  readonly error?: string
  /** Replication lag observed by the check, when it measures one. */
  readonly lagMs?: number
  /**
   * For a probe of a global endpoint: the region that answered (from a
   * response header or body), so a plan can check traffic really moved.
   */
  readonly servedBy?: RegionId
  /** Requests and errors seen since the previous sample, for error-rate detection. */
  readonly requests?: { readonly total: number; readonly errors: number }
}

/**
 * A health check of a region: an HTTP health endpoint, a write + read of a
 * health document, a cloud health check's status. A probe never throws for
 * an unhealthy region: it returns `ok: false` with the error; it throws only
 * when it cannot run at all (bad configuration).
 */
export interface Probe {
  /** What this probe checks, for receipts and events, e.g. `http:https://api.eu.example.com/health`. */
  readonly name: string
  /** The region it checks. */
  readonly region: RegionId
  /** Runs one check. Honors `ctx.signal` and the probe's own timeout. */
  check(ctx: CallContext): Promise<ProbeSample>
}
