/**
 * ggen's failover drills (runbook 004, scenarios 1 and 2): us-central1
 * primary, europe-west1 secondary, Firestore multi-region (synchronous:
 * nothing is ever behind, RPO 0).
 *
 * @module
 */
import type { ScenarioInput } from '@baton/core'

const REGIONS = [
  { id: 'us-central1', jurisdiction: 'US', capacity: 3 },
  // Cloud Run governors on standby (cold start) in the secondary.
  { id: 'europe-west1', jurisdiction: 'EU', capacity: 1 },
] as const

/** The runbook's overall targets: RTO < 30 min, RPO 0. */
export const TARGETS = { rtoMs: 30 * 60_000, rpoMs: 0 } as const

/** Scenario 1's own: RTO < 5 min, RPO 0. */
export const FIRESTORE_TARGETS = { rtoMs: 5 * 60_000, rpoMs: 0 } as const

const common = {
  regions: REGIONS,
  home: 'us-central1',
  // Firestore multi-region replication: continuous and synchronous.
  database: { initialLagMs: 0, promoteMs: '30s' },
  // The governors' Firestore health check (a write and a read) every ~13 s;
  // three failures in a row (~40 s) is a failure.
  probeIntervalMs: '13s',
  health: {
    detectors: { consecutiveFailures: { threshold: 3 }, errorRate: false, availability: false },
  },
  failover: { minReady: 1, scaleTo: 3 },
  workload: { intervalMs: '2s', users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
} as const

/** Scenario 1: Firestore in us-central1 times out; automatic failover to europe-west1. */
export const firestoreFailure: ScenarioInput = {
  ...common,
  name: 'firestore-failure',
  description:
    'Firestore in us-central1 stops answering (DEADLINE_EXCEEDED). Three failed write+read health checks (~40 s) and baton fails over to europe-west1 automatically; ggen appends its firestore_failover_executed receipt (runbook 004, scenario 1: RTO < 5 min, RPO 0).',
  durationMs: '20m',
  targets: FIRESTORE_TARGETS,
  world: { timeoutMs: '5s', trafficSyncMs: '100ms', scalerReadyMs: '1m' },
  faults: [
    { kind: 'outage', at: '5m', jitterMs: '2m', region: 'us-central1', error: 'DEADLINE_EXCEEDED' },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'europe-west1',
    primary: 'europe-west1',
    lostWrites: 0,
    rtoMet: true,
    rpoMet: true,
  },
}

/** Scenario 2: us-central1 is down; the operator confirms and commands the failover. */
export const regionalOutage: ScenarioInput = {
  ...common,
  name: 'regional-outage',
  description:
    'All of us-central1 is unavailable. baton detects it and pages instead of acting (operator-confirmed policy); after confirming for 5 minutes the on-call runs failover-region --to-region europe-west1 and the incident lead confirms. Governors warm up in europe-west1 (~3 min), DNS moves (TTL 60 s, ~2 min to propagate); ggen appends its regional_failover_completed receipt (runbook 004, scenario 2: RTO 15–30 min, RPO 0–5 min).',
  durationMs: '45m',
  targets: { rtoMs: TARGETS.rtoMs, rpoMs: '5m' },
  world: { timeoutMs: '5s', trafficSyncMs: '2m', scalerReadyMs: '3m' },
  faults: [
    { kind: 'outage', at: '5m', region: 'us-central1' },
    {
      kind: 'manual-failover',
      at: '13m',
      trigger: 'operator',
      target: 'europe-west1',
      by: 'oncall',
      reason: 'us-central1 regional outage confirmed for 5 minutes',
    },
    { kind: 'approve', at: '14m', by: 'incident-lead' },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'europe-west1',
    primary: 'europe-west1',
    rtoMet: true,
    rpoMet: true,
  },
}

/** The failover drills. */
export const FAILOVER_SCENARIOS: readonly ScenarioInput[] = [firestoreFailure, regionalOutage]
