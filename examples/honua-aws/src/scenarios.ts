/**
 * The runbook's scenario table as drills, plus the two ways a failover must
 * not happen: the RDS promotion aborted above 60 s of replication lag.
 *
 * Timings on the virtual clock follow the runbook: Route 53 health checks
 * every 30 s, three failures (90 s) mark a region down; DNS records have a
 * 60 s TTL; an RDS replica promotion takes 5–10 minutes; DR tasks are ready
 * 2–3 minutes after a scale-up.
 *
 * @module
 */
import type { ScenarioInput } from '@baton/core'
import { SCENARIO_TABLE } from './plan.ts'

const REGIONS = [
  { id: 'us-east-1', jurisdiction: 'US', capacity: 3 },
  // The DR region runs one task until a failover scales it up.
  { id: 'us-west-2', jurisdiction: 'US', capacity: 1 },
] as const

/** What every HonuaIO drill shares. */
const common = {
  regions: REGIONS,
  home: 'us-east-1',
  probeIntervalMs: '30s',
  // Route 53 health checks alone decide: 3 consecutive failures (90 s) mark a
  // region down. No error-rate or availability trigger in this runbook.
  health: {
    detectors: { consecutiveFailures: { threshold: 3 }, errorRate: false, availability: false },
  },
  // The promotion script's abort: replication lag above 60 s (the rpo guard
  // at the decision, the preflight step again just before promoting).
  guards: { rpoMs: 60_000 },
  failover: { minReady: 1, scaleTo: 3, maxLagMs: '60s' },
  world: { scalerReadyMs: '2m30s', trafficSyncMs: '60s' },
  workload: { intervalMs: '2s' },
} as const

/**
 * In an outage the replica's lag is the age of its oldest unapplied write,
 * so it keeps growing while the dead primary is being detected (90 s): the
 * automated path allows the 60 s abort limit plus the detection time. What
 * is actually lost is measured separately, against the scenario's RPO.
 */
const automated = {
  guards: { rpoMs: 150_000 },
  failover: { ...common.failover, maxLagMs: '150s' },
} as const

const targets = (name: keyof typeof SCENARIO_TABLE) => ({
  rtoMs: SCENARIO_TABLE[name].rtoMs,
  rpoMs: SCENARIO_TABLE[name].rpoMs,
})

/** Health check failure: automated, RTO ~5 min, RPO ~10 s. */
export const healthCheckFailure: ScenarioInput = {
  ...common,
  ...automated,
  name: 'health-check-failure',
  description:
    'The API in us-east-1 stops answering its Route 53 health checks. Three failures (90 s) mark it down; us-west-2 runs warm (3 tasks: the automated path has no scale-up), so baton moves traffic there at once, then promotes the replica (lag ~5 s, a quick promotion) and verifies writes (runbook 001: RTO ~5 min, RPO ~10 s).',
  // Warm standby: the DR region already runs the full fleet.
  regions: [REGIONS[0], { ...REGIONS[1], capacity: 3 }],
  database: { initialLagMs: '5s', promoteMs: '1m' },
  durationMs: '20m',
  targets: targets('health-check-failure'),
  faults: [
    {
      kind: 'outage',
      at: '4m',
      jitterMs: '1m',
      region: 'us-east-1',
      note: 'API health checks fail',
    },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    rtoMet: true,
    rpoMet: true,
  },
}

/** Region outage: automated, RTO ~10 min, RPO ~30 s. */
export const regionOutage: ScenarioInput = {
  ...common,
  ...automated,
  name: 'region-outage',
  description:
    'All of us-east-1 goes down, its database with it. baton promotes the RDS read replica in us-west-2 (lag ~20 s, promotion ~5 min), scales the DR tasks up to 3, cuts Route 53 over and verifies the endpoint (runbook 001: RTO ~10 min, RPO ~30 s).',
  database: { initialLagMs: '20s', promoteMs: '5m' },
  durationMs: '30m',
  targets: targets('region-outage'),
  faults: [{ kind: 'outage', at: '5m', jitterMs: '2m', region: 'us-east-1' }],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    rtoMet: true,
    rpoMet: true,
  },
}

/** Planned maintenance: manual, approved, graceful, RTO ~15 min, RPO 0. */
export const plannedMaintenance: ScenarioInput = {
  ...common,
  name: 'planned-maintenance',
  description:
    'The operations team asks for a switchover to us-west-2 for maintenance; a second person approves. The plan runs gracefully: final RDS snapshot, fence the old primary, wait for replication lag 0, promote, scale DR, smoke-test it through test.api.honua.io, move Route 53 (runbook 001: RTO ~15 min, RPO 0).',
  database: { initialLagMs: '3s', promoteMs: '5m' },
  durationMs: '40m',
  targets: targets('planned-maintenance'),
  faults: [
    {
      kind: 'manual-failover',
      at: '5m',
      trigger: 'planned-maintenance',
      target: 'us-west-2',
      by: 'ops-oncall',
      reason: 'RDS engine upgrade',
    },
    { kind: 'approve', at: '7m', jitterMs: '2m', by: 'eng-manager' },
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
 * Maintenance mode: the runbook's step 3 — the primary answers 503 to
 * everything, its health checks fail and the automated failover takes over.
 * No write is accepted in us-east-1 once it is on, so nothing is lost.
 */
export const maintenanceMode: ScenarioInput = {
  ...common,
  ...automated,
  name: 'maintenance-mode',
  description:
    'An operator turns on maintenance mode in us-east-1: every request gets HTTP 503, writes stop there, the health checks fail and the automated failover runs. The replica catches up before it is promoted: no write lost (runbook 001, manual failover step 3).',
  database: { initialLagMs: '3s', promoteMs: '5m' },
  durationMs: '30m',
  targets: { rtoMs: SCENARIO_TABLE['planned-maintenance'].rtoMs, rpoMs: '10s' },
  faults: [
    {
      kind: 'degrade',
      at: '5m',
      region: 'us-east-1',
      errorRate: 1,
      note: 'maintenance mode on: HTTP 503',
    },
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

/** Database failure: manual (the DBA team), RTO ~20 min, RPO ~60 s. */
export const databaseFailure: ScenarioInput = {
  ...common,
  name: 'database-failure',
  description:
    'The RDS primary in us-east-1 is failing; replication lag is ~45 s. The DBA team asks for a failover to us-west-2 and an approver agrees. The lag is under the 60 s abort limit, so the promotion (~10 min, a large instance) proceeds and the application follows (runbook 001: RTO ~20 min, RPO ~60 s).',
  database: { initialLagMs: '45s', promoteMs: '10m' },
  durationMs: '45m',
  targets: targets('database-failure'),
  faults: [
    {
      kind: 'manual-failover',
      at: '5m',
      trigger: 'operator',
      target: 'us-west-2',
      by: 'dba-oncall',
      reason: 'RDS primary storage failure',
    },
    { kind: 'approve', at: '8m', by: 'eng-manager' },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    rtoMet: true,
    rpoMet: true,
  },
}

/** The promotion script's abort: replication lag above 60 s refuses the failover. */
export const lagAbort: ScenarioInput = {
  ...common,
  name: 'lag-abort',
  description:
    'The same request with the replica 90 s behind: the rpo guard refuses it (the script\'s "Replication lag too high. Aborting."), with the lag and the limit recorded. Nothing moves.',
  database: { initialLagMs: '90s', promoteMs: '10m' },
  durationMs: '30m',
  targets: targets('database-failure'),
  faults: [
    {
      kind: 'manual-failover',
      at: '5m',
      trigger: 'operator',
      target: 'us-west-2',
      by: 'dba-oncall',
      reason: 'RDS primary storage failure',
    },
    { kind: 'approve', at: '8m', by: 'eng-manager' },
  ],
  expect: {
    failovers: 0,
    blockedBy: ['rpo'],
    finalState: 'active',
    serving: 'us-east-1',
    primary: 'us-east-1',
    lostWrites: 0,
  },
}

/** The quarterly DR test: a graceful switchover to DR and back (the rollback script), RTO ~30 min, RPO 0. */
export const drTest: ScenarioInput = {
  ...common,
  name: 'dr-test',
  description:
    'The quarterly DR drill: switch to us-west-2 gracefully (test.api.honua.io smoke-tested first), run there, then the rollback script — re-seed us-east-1, check its health, move traffic back 10 % → 50 % → 100 % with a health gate, scale DR down. No write lost in either direction (runbook 001: RTO ~30 min, RPO 0).',
  instances: 2,
  database: { initialLagMs: '3s', promoteMs: '5m' },
  durationMs: '1h30m',
  targets: targets('dr-test'),
  failback: { stages: [10, 50, 100], gate: { windowMs: '2m', intervalMs: '20s' } },
  faults: [
    {
      kind: 'manual-failover',
      at: '5m',
      trigger: 'planned-maintenance',
      target: 'us-west-2',
      by: 'dr-lead',
      reason: 'quarterly DR drill',
    },
    { kind: 'approve', at: '6m', by: 'eng-manager' },
    { kind: 'failback', at: '45m', by: 'dr-lead' },
  ],
  // The rollback script moves traffic back; the database primary stays in
  // us-west-2 (us-east-1 is its replica again) until a planned switchover.
  expect: {
    failovers: 1,
    failbacks: 1,
    finalState: 'active',
    serving: 'us-east-1',
    primary: 'us-west-2',
    lostWrites: 0,
    rtoMet: true,
    rpoMet: true,
  },
}

/** The scenario table, in its order, then the abort. */
export const SCENARIOS: readonly ScenarioInput[] = [
  healthCheckFailure,
  regionOutage,
  plannedMaintenance,
  maintenanceMode,
  databaseFailure,
  lagAbort,
  drTest,
]
