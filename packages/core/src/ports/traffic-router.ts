/**
 * The `TrafficRouter` port: how much traffic each region receives.
 *
 * @module
 */
import type { CallContext, RegionId } from './context.js'

/** Traffic weights per region; a region absent from the map receives none. */
export type Weights = Readonly<Record<RegionId, number>>

/** A submitted routing change. */
export interface RoutingChange {
  /** The provider's change id (e.g. a Route 53 change id), for `waitInSync` and receipts. */
  readonly id: string
  /** The weights the change sets. */
  readonly weights: Weights
  /** When it was submitted (epoch ms). */
  readonly submittedAt: number
}

/**
 * Moves traffic between regions: weighted DNS records, a load balancer's
 * backend weights, a failover record pair (weights 0/100).
 */
export interface TrafficRouter {
  /** What this router controls, e.g. `route53:Z123/api.example.com`. */
  readonly name: string
  /** The weights in effect now. */
  getWeights(ctx: CallContext): Promise<Weights>
  /**
   * Submits new weights (as one atomic change where the provider allows it).
   * Does not wait for propagation: see {@link waitInSync}.
   */
  setWeights(weights: Weights, ctx: CallContext): Promise<RoutingChange>
  /** Resolves once the change has propagated (e.g. Route 53 `INSYNC`). Honors `ctx.signal`. */
  waitInSync(change: RoutingChange, ctx: CallContext): Promise<void>
  /** What `setWeights(weights)` would do, in words, for dry runs. Makes no call that changes anything. */
  describe(weights: Weights): Promise<readonly string[]>
}
