/**
 * EU data residency, the runbook's "EU users MUST stay in EU region":
 * baton's residency guard never moves pinned users out of their
 * jurisdiction, and when no region of theirs can take over its policy
 * decides a `fallback` (read-only or maintenance) that the guard records as
 * refused. {@link followResidency} is the service's side: it listens to the
 * controller and switches the pinned users' mode — read-only when such a
 * fallback is decided, normal again once their region has recovered.
 *
 * @module
 */
import type { Controller, FallbackMode, RegionId } from '@baton/core'
import type { ResidencyFallback } from './ports.ts'

/**
 * Subscribes `fallback` to `controller`'s decisions. Returns a function
 * that unsubscribes.
 */
export function followResidency(
  controller: Controller,
  regions: readonly { readonly id: RegionId; readonly jurisdiction?: string }[],
  fallback: ResidencyFallback,
): () => void {
  const modeOf = new Map<RegionId, string>()
  const offBlocked = controller.on('failover.blocked', (e) => {
    const d = e.decision as {
      action?: string
      fallback?: FallbackMode
      from?: RegionId
      reason?: string
    }
    if (d.action !== 'fallback' || d.fallback === undefined || d.from === undefined) return
    const jurisdiction = regions.find((r) => r.id === d.from)?.jurisdiction
    if (jurisdiction === undefined || modeOf.get(d.from) === d.fallback) return
    modeOf.set(d.from, d.fallback)
    void fallback.set(
      jurisdiction,
      d.fallback,
      d.reason ?? 'no region of the jurisdiction can take over',
    )
  })
  const offRecovered = controller.on('health.recovered', (e) => {
    if (!modeOf.has(e.region)) return
    modeOf.delete(e.region)
    const jurisdiction = regions.find((r) => r.id === e.region)?.jurisdiction
    if (jurisdiction !== undefined)
      void fallback.set(jurisdiction, 'normal', `${e.region} recovered`)
  })
  return () => {
    offBlocked()
    offRecovered()
  }
}
