/**
 * Aurum's drills: the runbook's automatic triggers (availability below
 * 95 % over 15 minutes; replication lag above 1 hour) and a manual one
 * (planned maintenance, approved). us-east-1 is primary, us-west-2
 * secondary; the secondary runs a minimal deployment until a failover
 * scales it (api 5 + worker 10 = 15 pods, ready in ~5 min).
 *
 * @module
 */
import type { ScenarioInput } from '@baton/core'
import { TARGETS } from './plan.ts'

const REGIONS = [
  { id: 'us-east-1', jurisdiction: 'US', capacity: 15 },
  { id: 'us-west-2', jurisdiction: 'US', capacity: 2 },
] as const

/** What every Aurum drill shares. */
export const AURUM_COMMON = {
  regions: REGIONS,
  home: 'us-east-1',
  probeIntervalMs: '1m',
  targets: TARGETS,
  // The runbook's automatic triggers: availability < 95 % over 15 min, and
  // replication lag > 1 h. No consecutive-failure or error-rate trigger.
  health: {
    detectors: {
      consecutiveFailures: false,
      errorRate: false,
      availability: { threshold: 0.95 },
      replicationLag: { threshold: 3_600_000 },
    },
  },
  guards: { rpoMs: TARGETS.rpoMs, minReady: 1 },
  failover: { minReady: 1, scaleTo: 15, maxLagMs: '1h' },
  world: { scalerReadyMs: '5m', trafficSyncMs: '5m' },
  database: { initialLagMs: '2m', promoteMs: '10m' },
  workload: { intervalMs: '30s' },
} as const

/** Automatic trigger 1: us-east-1 is down; availability drops below 95 % over 15 minutes. */
export const regionOutage: ScenarioInput = {
  ...AURUM_COMMON,
  name: 'region-outage',
  description:
    'us-east-1 goes down. Availability over 15 minutes drops below 95 %: baton notifies stakeholders (initiated), checks Kafka and the newest PostgreSQL backup in us-west-2, scales it to 15 pods, moves DNS, promotes the replica, sends a progress update, compares row counts against the backup and sends the completion notice with the data loss bound (runbook 002: downtime < 4 h, data loss < 1 h).',
  durationMs: '2h',
  faults: [{ kind: 'outage', at: '20m', jitterMs: '10m', region: 'us-east-1' }],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    rtoMet: true,
    rpoMet: true,
  },
}

/** Manual trigger: planned maintenance, approved; graceful, zero data loss, row counts equal. */
export const plannedMaintenance: ScenarioInput = {
  ...AURUM_COMMON,
  name: 'planned-maintenance',
  description:
    'The platform team asks to move to us-west-2 for maintenance; engineering leadership approves. Final PostgreSQL backup, writes stopped (fence), replica caught up and promoted, services and DNS moved; the row counts of tenants and scenarios match up to the moment us-east-1 stopped taking writes. No data lost.',
  durationMs: '2h',
  faults: [
    {
      kind: 'manual-failover',
      at: '10m',
      trigger: 'planned-maintenance',
      target: 'us-west-2',
      by: 'platform-team',
      reason: 'Kubernetes upgrade',
    },
    { kind: 'approve', at: '20m', by: 'engineering-leadership' },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    lostWrites: 0,
    rtoMet: true,
    rpoMet: true,
  },
}

/**
 * Automatic trigger 2: replication lag above 1 hour. baton's detector marks
 * the lagging replica's region degraded (P3: us-east-1 still serves, people
 * are told). When us-east-1 then fails, a failover would land on a replica
 * missing over an hour of data: the rpo and target guards refuse it, with
 * the lag against the 1 h limit recorded, and people decide (restore from
 * the backup, or accept the loss).
 */
export const replicationLag: ScenarioInput = {
  ...AURUM_COMMON,
  name: 'replication-lag',
  description:
    'Replication to us-west-2 stalls; its lag passes 1 hour and the detector marks us-west-2 degraded (monitor: the primary is fine). us-east-1 then goes down: the automatic failover is refused — the replica is over an hour behind (rpo guard, lag against the 1 h RPO recorded) and degraded (target guard) — and the refusal is sent to people instead of losing more than the RPO allows.',
  durationMs: '2h30m',
  faults: [
    { kind: 'stall-replication', at: '10m', region: 'us-west-2' },
    { kind: 'outage', at: '1h30m', region: 'us-east-1' },
  ],
  expect: {
    failovers: 0,
    blockedBy: ['rpo', 'target'],
    finalState: 'suspect',
    serving: 'us-east-1',
    primary: 'us-east-1',
  },
}

/** Every drill of the example. */
export const SCENARIOS: readonly ScenarioInput[] = [
  regionOutage,
  plannedMaintenance,
  replicationLag,
]
