/**
 * Internal: the time-windowed faults of the simulated world (region health,
 * replication, traffic sync) as pure functions of time, so the world can
 * replay any span exactly.
 *
 * @module
 */
import type { RegionId } from '../ports/context.js'
import type { RegionHealth } from './world-types.js'

/** A fault active on `[from, to)` of the clock. */
export interface Window {
  readonly id: number
  readonly from: number
  to: number
}

/** A fault on a region's health. */
export type HealthFault = Window &
  (
    | { readonly kind: 'outage'; readonly region: RegionId; readonly error: string }
    | {
        readonly kind: 'degraded'
        readonly region: RegionId
        readonly errorRate: number
        readonly extraLatencyMs: number
        readonly error: string
      }
    | {
        readonly kind: 'flapping'
        readonly region: RegionId
        readonly periodMs: number
        readonly downMs: number
        readonly error: string
      }
  )

/** A fault on replication (`region` undefined: every replica) or on traffic sync. */
export type FlowFault = Window &
  (
    | { readonly kind: 'lag-spike'; readonly region: RegionId | undefined; readonly lagMs: number }
    | { readonly kind: 'stall'; readonly region: RegionId | undefined }
    | { readonly kind: 'slow-sync'; readonly delayMs: number }
  )

const active = (w: Window, t: number): boolean => w.from <= t && t < w.to

/** Whether `fault` holds its region down at `t`. */
function downAt(fault: HealthFault, t: number): boolean {
  if (!active(fault, t)) return false
  if (fault.kind === 'outage') return true
  if (fault.kind === 'flapping') return (t - fault.from) % fault.periodMs < fault.downMs
  return false
}

/** The windowed faults and what they mean at any time. */
export class Timeline {
  readonly health: HealthFault[] = []
  readonly flow: FlowFault[] = []

  /** Health of `region` at `t`. */
  regionHealth(region: RegionId, t: number): RegionHealth {
    let up = true
    let error: string | undefined
    let ok = 1
    let extraLatencyMs = 0
    for (const f of this.health) {
      if (f.region !== region || !active(f, t)) continue
      if (downAt(f, t)) {
        if (up) error = f.error
        up = false
      } else if (f.kind === 'degraded') {
        ok *= 1 - f.errorRate
        extraLatencyMs += f.extraLatencyMs
      }
    }
    const health: RegionHealth = { up, errorRate: 1 - ok, extraLatencyMs }
    return error === undefined ? health : { ...health, error }
  }

  /** The error of a request failed by degradation of `region` at `t`. */
  degradedError(region: RegionId, t: number): string {
    for (const f of this.health) {
      if (f.kind === 'degraded' && f.region === region && active(f, t)) return f.error
    }
    return 'INTERNAL'
  }

  /** Whether `region` is up at `t`. */
  up(region: RegionId, t: number): boolean {
    for (const f of this.health) if (f.region === region && downAt(f, t)) return false
    return true
  }

  /** Replication delay of the replica in `region` at `t`. */
  replicationDelay(region: RegionId, base: number, t: number): number {
    let delay: number | undefined
    for (const f of this.flow) {
      if (f.kind !== 'lag-spike' || !active(f, t)) continue
      if (f.region !== undefined && f.region !== region) continue
      delay = Math.max(delay ?? 0, f.lagMs)
    }
    return delay ?? base
  }

  /** Whether replication to `region` is stalled at `t`. */
  stalled(region: RegionId, t: number): boolean {
    return this.flow.some(
      (f) => f.kind === 'stall' && active(f, t) && (f.region === undefined || f.region === region),
    )
  }

  /** Sync delay of a routing change submitted at `t`. */
  syncDelay(base: number, t: number): number {
    let delay = base
    for (const f of this.flow) {
      if (f.kind === 'slow-sync' && active(f, t)) delay = Math.max(delay, f.delayMs)
    }
    return delay
  }

  /** Every time in `(after, until]` at which some fault starts, ends or flips (flapping). */
  boundaries(after: number, until: number, out: number[]): void {
    const add = (t: number): void => {
      if (t > after && t <= until) out.push(t)
    }
    for (const f of [...this.health, ...this.flow]) {
      add(f.from)
      add(f.to)
      if (f.kind !== 'flapping' || f.from > until || f.to <= after) continue
      const first = Math.max(0, Math.floor((after - f.from) / f.periodMs))
      for (let k = first; ; k++) {
        const start = f.from + k * f.periodMs
        if (start > until || start >= f.to) break
        add(start)
        add(Math.min(start + f.downMs, f.to))
      }
    }
  }
}
