/**
 * In-memory EKS deployments and residency fallback on the drill's
 * simulated world: a rollout takes `rolloutMs` on the virtual clock and
 * fails while the region is down; fallback changes are recorded with their
 * time.
 *
 * @module
 */
import type { RegionId, SimulatedWorld } from '@baton/core'
import type { Deployments, Replicas, ResidencyFallback, ResidencyMode } from './ports.ts'

/** Options of {@link createMemorySoma}. */
export interface MemorySomaOptions {
  /** The drill's simulated world: its clock, region health and ground truth. */
  readonly world: SimulatedWorld
  /** Replicas each region runs at the start. Default orchestrator 3, gateway-api 4, slm-service 5. */
  readonly initial?: Replicas
  /** Time until scaled pods are ready. Default 3 min. */
  readonly rolloutMs?: number
}

/** A recorded residency mode change. */
export interface ModeChange {
  /** When (clock ms). */
  readonly at: number
  /** Whose users. */
  readonly jurisdiction: string
  /** What they get now. */
  readonly mode: ResidencyMode
  /** Why. */
  readonly reason: string
}

/** The in-memory deployments and fallback, and what they saw. */
export interface MemorySoma {
  /** The EKS deployments. */
  readonly deployments: Deployments
  /** The residency fallback switch. */
  readonly fallback: ResidencyFallback
  /** Every mode change, in order. */
  readonly modes: () => readonly ModeChange[]
}

/** Creates the in-memory deployments and residency fallback over `options.world`. */
export function createMemorySoma(options: MemorySomaOptions): MemorySoma {
  const { world } = options
  const initial = options.initial ?? { orchestrator: 3, 'gateway-api': 4, 'slm-service': 5 }
  const rolloutMs = options.rolloutMs ?? 3 * 60_000
  const state = new Map<RegionId, Replicas>()
  const modes: ModeChange[] = []
  const down = (region: RegionId): boolean => !world.truth.regionHealth(region).up
  const deployments: Deployments = {
    name: 'memory:eks',
    async replicas(region) {
      if (down(region)) throw new Error(`UNAVAILABLE: the EKS API in ${region} does not answer`)
      return state.get(region) ?? initial
    },
    async scale(region, replicas, ctx) {
      if (down(region)) throw new Error(`UNAVAILABLE: the EKS API in ${region} does not answer`)
      await world.clock.sleep(rolloutMs, ctx.signal)
      if (down(region)) throw new Error(`rollout in ${region} lost: the region went down`)
      state.set(region, { ...(state.get(region) ?? initial), ...replicas })
      return state.get(region)!
    },
  }
  const fallback: ResidencyFallback = {
    name: 'memory:residency-mode',
    async set(jurisdiction, mode, reason) {
      modes.push({ at: world.clock.now(), jurisdiction, mode, reason })
    },
  }
  return { deployments, fallback, modes: () => modes }
}
