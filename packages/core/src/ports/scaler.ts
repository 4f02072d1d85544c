/**
 * The `Scaler` port: capacity in a region.
 *
 * @module
 */
import type { CallContext, RegionId } from './context.js'

/** Capacity of a region's fleet. */
export interface Capacity {
  /** Instances (or replicas) asked for. */
  readonly desired: number
  /** Instances ready to serve. */
  readonly ready: number
}

/** Scales the fleet serving a region: an Auto Scaling group, a Kubernetes deployment. */
export interface Scaler {
  /** What this scales, e.g. `asg:api-eu-west-1`. */
  readonly name: string
  /** Current capacity in `region`. */
  capacity(region: RegionId, ctx: CallContext): Promise<Capacity>
  /** Sets the desired capacity in `region`. */
  scale(region: RegionId, desired: number, ctx: CallContext): Promise<void>
  /** Resolves once at least `ready` instances are ready in `region`. Honors `ctx.signal`. */
  waitReady(region: RegionId, ready: number, ctx: CallContext): Promise<Capacity>
}
