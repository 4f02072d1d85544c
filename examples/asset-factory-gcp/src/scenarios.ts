/**
 * The Asset Factory's drills: a full outage of the primary region
 * (us-central1), failing over to us-east1. Durations on the virtual clock
 * follow the runbook: Firestore promotion ~20 min, the engine-worker fleet
 * ~25 min to deploy and become ready, the load balancer ~5 min to move.
 *
 * @module
 */
import type { ScenarioInput } from '@baton/core'
import { TARGETS } from './plan.ts'

const REGIONS = [
  { id: 'us-central1', jurisdiction: 'US', capacity: 10 },
  // No engine workers run in the secondary until a failover scales them up.
  { id: 'us-east1', jurisdiction: 'US', capacity: 0 },
] as const

/** Runbook 000: a region-wide outage of us-central1. */
export const regionOutage: ScenarioInput = {
  name: 'asset-factory-region-outage',
  description:
    'us-central1 goes down. baton detects it (3 failed checks a minute apart), promotes Firestore in us-east1, scales the engine-worker fleet there to 10, moves the global load balancer, checks the buckets and asset URLs, and runs an end-to-end job (runbook 000: RTO 4 h, RPO 1 h).',
  regions: REGIONS,
  home: 'us-central1',
  database: { initialLagMs: '30s', promoteMs: '20m' },
  durationMs: '4h',
  probeIntervalMs: '1m',
  // Uptime checks: three failed in a row is a region down (no error-rate trigger in this runbook).
  health: { detectors: { errorRate: false } },
  targets: TARGETS,
  // The runbook accepts up to an hour of data loss, and the secondary has no workers until scaled.
  guards: { rpoMs: 3_600_000, minReady: 0 },
  failover: { minReady: 0, scaleTo: 10, maxLagMs: '1h' },
  world: { scalerReadyMs: '25m', scalerWaitMs: '40m', trafficSyncMs: '5m' },
  workload: { intervalMs: '10s' },
  faults: [{ kind: 'outage', at: '10m', jitterMs: '5m', region: 'us-central1' }],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-east1',
    primary: 'us-east1',
    rtoMet: true,
    rpoMet: true,
  },
}

/** Every drill of the example. */
export const SCENARIOS: readonly ScenarioInput[] = [regionOutage]
