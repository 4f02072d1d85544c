/**
 * SomaAgent's drills: the runbook's P1/P2/P3 assessment, scenario 1
 * (us-west-2 down: everything to eu-west-1), scenario 2 (eu-west-1 down:
 * EU users never leave the EU — read-only mode instead) and the gradual
 * restoration 10 % → 50 % → normal with 15 minutes of watching per stage.
 *
 * The world has one weighted Route 53 name (`api.somaagent.io`) in front of
 * both regions; the serving region takes its whole weight.
 *
 * @module
 */
import type { ScenarioInput } from '@baton/core'
import { FAILOVER_NODES, TARGETS } from './plan.ts'

const US = { id: 'us-west-2', jurisdiction: 'US', capacity: 4 } as const
const EU = { id: 'eu-west-1', jurisdiction: 'EU', capacity: 4 } as const

/** What every SomaAgent drill shares. */
const common = {
  probeIntervalMs: '10s',
  targets: { rtoMs: TARGETS.rtoMs, rpoMs: TARGETS.rpoMs },
  // Capacity check: the surviving region must run at least 2 nodes before
  // it is chosen; then its node group goes to 10 (ready in ~4 min).
  guards: { rpoMs: TARGETS.rpoMs, minReady: 2 },
  failover: { minReady: 2, scaleTo: FAILOVER_NODES, maxLagMs: '5m' },
  world: { scalerReadyMs: '4m', trafficSyncMs: '60s' },
  database: { initialLagMs: '10s', promoteMs: '3m' },
} as const

/** P1: us-west-2 completely down — all US traffic to eu-west-1 (scenario 1). */
export const usWest2Failure: ScenarioInput = {
  ...common,
  name: 'us-west-2-failure',
  description:
    'us-west-2 goes down (Route 53 health check, EKS and RDS unreachable). P1: baton checks eu-west-1 capacity, scales its node group to 10 and the deployments (orchestrator 6, gateway-api 8, slm-service 10) side by side, promotes the database there, moves the Route 53 weights (us-west-2 0, eu-west-1 100) and verifies the endpoint (runbook 003: RTO < 15 min, RPO < 5 min).',
  regions: [US, EU],
  home: 'us-west-2',
  durationMs: '40m',
  workload: { intervalMs: '2s', users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
  faults: [{ kind: 'outage', at: '5m', jitterMs: '2m', region: 'us-west-2' }],
  expect: {
    failovers: 1,
    severity: 'P1',
    finalState: 'failed-over',
    serving: 'eu-west-1',
    rtoMet: true,
    rpoMet: true,
  },
}

/** P2: partial degradation — a gradual traffic shift (RTO < 1 h). */
export const usWest2Degraded: ScenarioInput = {
  ...common,
  name: 'us-west-2-degraded',
  description:
    'us-west-2 answers, but 5xx errors run at 12–16 % (above 10 % over 5 minutes). P2: a gradual traffic shift to eu-west-1 of the application layer only; the database stays (runbook 003: RTO < 1 hour). At these rates three failed probes in a row sometimes come first (about 1 seed in 25): the region is then down, and baton treats it as P1 — a full failover with the database.',
  regions: [US, EU],
  home: 'us-west-2',
  durationMs: '1h',
  targets: { rtoMs: TARGETS.p2RtoMs, rpoMs: TARGETS.rpoMs },
  workload: { intervalMs: '2s', users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
  faults: [{ kind: 'degrade', at: '5m', region: 'us-west-2', errorRate: [0.12, 0.16] }],
  // Severity and the primary depend on which detector trips first (see
  // above); the tests pin P2 on their seeds and P1 on one that draws it.
  expect: { failovers: 1, finalState: 'failed-over', serving: 'eu-west-1', rtoMet: true },
}

/** P3: a non-critical component (the standby region) down — monitor and fix, no failover. */
export const standbyDown: ScenarioInput = {
  ...common,
  name: 'standby-down',
  description:
    'eu-west-1 goes down while us-west-2 serves everyone. P3: nothing to move — baton keeps serving from us-west-2 and monitors; no failover, no data lost.',
  regions: [US, EU],
  home: 'us-west-2',
  durationMs: '30m',
  workload: { intervalMs: '2s', users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
  faults: [{ kind: 'outage', at: '5m', region: 'eu-west-1', durationMs: '15m' }],
  expect: {
    failovers: 0,
    finalState: 'active',
    serving: 'us-west-2',
    primary: 'us-west-2',
    lostWrites: 0,
  },
}

/** Scenario 2: eu-west-1 down — EU users stay in the EU: read-only mode, never routed to us-west-2. */
export const euWest1Failure: ScenarioInput = {
  ...common,
  name: 'eu-west-1-failure',
  description:
    'eu-west-1 (EU users pinned to the EU) goes down. us-west-2 is healthy, but routing EU users there would break data residency: the policy decides a read-only fallback for them and the residency guard refuses the move, with its values recorded. The service switches EU users to read-only mode until eu-west-1 is back. No EU request ever reaches us-west-2.',
  regions: [{ ...EU, pinned: true, fallback: 'read-only' }, US],
  home: 'eu-west-1',
  durationMs: '45m',
  workload: {
    intervalMs: '2s',
    users: [
      { jurisdiction: 'EU', share: 3 },
      { jurisdiction: 'US', share: 1, pinned: false },
    ],
  },
  faults: [{ kind: 'outage', at: '5m', jitterMs: '2m', region: 'eu-west-1', durationMs: '20m' }],
  expect: { failovers: 0, blockedBy: ['residency'], serving: 'eu-west-1', primary: 'eu-west-1' },
}

/** Recovery: after scenario 1, restore us-west-2 gradually — 10 %, 50 %, normal, 15 minutes of watching each. */
export const restoration: ScenarioInput = {
  ...common,
  name: 'restoration',
  description:
    'us-west-2 fails and eu-west-1 takes over; us-west-2 comes back, its database is re-seeded and the platform team asks for a failback: 10 % of traffic, 15 minutes watching error rates, 50 %, 15 minutes, then normal (runbook 003: 45–60 minutes).',
  regions: [US, EU],
  home: 'us-west-2',
  instances: 2,
  durationMs: '2h',
  workload: { intervalMs: '5s', users: [{ jurisdiction: 'US', share: 1, pinned: false }] },
  failback: {
    stages: [10, 50, 100],
    gate: { windowMs: '15m', intervalMs: '1m', maxErrorRate: 0.02 },
  },
  faults: [
    { kind: 'outage', at: '5m', region: 'us-west-2', durationMs: '20m' },
    { kind: 'failback', at: '40m', by: 'platform-team' },
  ],
  expect: {
    failovers: 1,
    failbacks: 1,
    finalState: 'active',
    serving: 'us-west-2',
    rtoMet: true,
    rpoMet: true,
  },
}

/** Every drill of the example. */
export const SCENARIOS: readonly ScenarioInput[] = [
  usWest2Failure,
  usWest2Degraded,
  standbyDown,
  euWest1Failure,
  restoration,
]
