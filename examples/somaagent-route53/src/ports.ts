/**
 * SomaAgent's own ports, beyond the ones @baton/core defines: the EKS
 * deployments scaled with the node group, and the residency fallback that
 * serves users pinned to a jurisdiction read-only (or a maintenance page)
 * when no region of theirs can take over.
 *
 * @module
 */
import type { CallContext, FallbackMode, RegionId } from '@baton/core'

/** Replicas per deployment, e.g. `{ orchestrator: 6, 'gateway-api': 8, 'slm-service': 10 }`. */
export type Replicas = Readonly<Record<string, number>>

/** The EKS deployments of a region. */
export interface Deployments {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  /** Scales the deployments in `region` and waits until their pods are ready. */
  scale(region: RegionId, replicas: Replicas, ctx: CallContext): Promise<Replicas>
  /** Current replicas in `region`. */
  replicas(region: RegionId, ctx: CallContext): Promise<Replicas>
}

/** What users of a jurisdiction get. */
export type ResidencyMode = 'normal' | FallbackMode

/** Switches a jurisdiction's users between normal service and a fallback (read-only mode, maintenance page). */
export interface ResidencyFallback {
  /** Shown in logs and reports, e.g. `memory:…`. */
  readonly name: string
  set(jurisdiction: string, mode: ResidencyMode, reason: string): Promise<void>
}
