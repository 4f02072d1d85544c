/**
 * The built-in drill scenarios, drawn from the runbooks baton grew from:
 * region outage, partial degradation, planned maintenance, flapping health,
 * a replication lag spike, a lost lease, a partition between instances, EU
 * data residency, gated failback, slow DNS and a failing step.
 *
 * Each is a plain {@link ScenarioInput} (the same shape as a scenario file)
 * with the expectations it must meet for every seed.
 *
 * @module
 */
import { ConfigError } from '../errors.js'
import { defineScenario, type Scenario, type ScenarioInput } from './scenario.js'

const US = [
  { id: 'us-east-1', jurisdiction: 'US' },
  { id: 'us-west-2', jurisdiction: 'US' },
] as const

/** Runbook 001, "Region Outage": automated, RTO ~10 min, RPO ~30 s; the replica promoted in the failover. */
const regionOutage: ScenarioInput = {
  name: 'region-outage',
  description:
    'us-east-1 goes down (start jittered by the seed). Two instances share the lease; the holder detects three failed checks, decides a P1 automatic failover, promotes the replica in us-west-2, shifts traffic and verifies the endpoint (runbook 001: RTO ~10 min, RPO ~30 s).',
  regions: US,
  home: 'us-east-1',
  database: { initialLagMs: '2s' },
  instances: 2,
  durationMs: '20m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '10m', rpoMs: '30s' },
  workload: { intervalMs: '1s' },
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

/** Runbook 003, P2: partial degradation → gradual traffic shift (application layer; the database stays). */
const partialDegradation: ScenarioInput = {
  name: 'partial-degradation',
  description:
    'us-east-1 starts failing a share of requests (drawn between 20 % and 35 %). The error-rate detector (5xx > 10 % over 5 min, runbook 003) marks it degraded: a P2 decision shifts traffic gracefully to us-west-2; the database is not affected and stays where it is.',
  regions: US,
  home: 'us-east-1',
  durationMs: '30m',
  probeIntervalMs: '10s',
  health: {
    detectors: { consecutiveFailures: { threshold: 6 }, availability: { threshold: 0.5 } },
  },
  workload: { intervalMs: '2s' },
  faults: [
    { kind: 'degrade', at: '5m', jitterMs: '1m', region: 'us-east-1', errorRate: [0.2, 0.35] },
  ],
  expect: {
    failovers: 1,
    severity: 'P2',
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-east-1',
    rtoMet: true,
  },
}

/** Runbook 001, "Planned Maintenance": manual, approved, RTO ~15 min, RPO 0. */
const plannedMaintenance: ScenarioInput = {
  name: 'planned-maintenance',
  description:
    'An operator asks for a planned-maintenance switchover to us-west-2; it waits for approval, then runs gracefully: final snapshot, fence, wait for replication lag 0, promote, shift traffic. Zero data loss (runbook 001: RTO ~15 min, RPO 0).',
  regions: US,
  home: 'us-east-1',
  database: { initialLagMs: '3s' },
  instances: 2,
  durationMs: '20m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '15m', rpoMs: 0 },
  workload: { intervalMs: '1s' },
  faults: [
    {
      kind: 'manual-failover',
      at: '4m',
      trigger: 'planned-maintenance',
      target: 'us-west-2',
      by: 'alice',
      reason: 'kernel upgrade',
    },
    { kind: 'approve', at: '6m', jitterMs: '2m', by: 'bob' },
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

/** Flapping health: hysteresis and the cooldown keep traffic from bouncing. */
const flapping: ScenarioInput = {
  name: 'flapping',
  description:
    'us-east-1 flaps (down for part of every period; period and down time drawn with the seed) for 30 minutes. Detection holds the worse status until three good checks in a row; automatic failback is on, and the 15-minute cooldown keeps automatic failovers at most one per window: no flapping of traffic.',
  regions: US,
  home: 'us-east-1',
  instances: 2,
  durationMs: '45m',
  probeIntervalMs: '10s',
  failback: { automatic: true, gate: { windowMs: '2m', intervalMs: '20s' } },
  workload: { intervalMs: '5s' },
  faults: [
    {
      kind: 'flap',
      at: '5m',
      region: 'us-east-1',
      periodMs: ['40s', '2m'],
      downMs: ['20s', '35s'],
      durationMs: '30m',
    },
  ],
  expect: { failovers: { min: 1, max: 2 } },
}

/** A lag spike: the RPO guard refuses, an operator overrides with `allowDataLoss` (audited). */
const lagSpike: ScenarioInput = {
  name: 'lag-spike',
  description:
    'Replication to us-west-2 falls minutes behind, then us-east-1 goes down. The automatic failover is blocked by the RPO guard (lag above 60 s, recorded with its value). An operator asks for the failover with allowDataLoss, a second person approves, and the override is recorded; the completed failover records the RPO it missed.',
  regions: US,
  home: 'us-east-1',
  durationMs: '25m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '15m', rpoMs: '60s' },
  workload: { intervalMs: '1s' },
  faults: [
    { kind: 'lag-spike', at: '3m', region: 'us-west-2', lagMs: ['3m', '6m'] },
    { kind: 'outage', at: '10m', jitterMs: '1m', region: 'us-east-1' },
    {
      kind: 'manual-failover',
      at: '13m',
      trigger: 'operator',
      target: 'us-west-2',
      allowDataLoss: true,
      by: 'alice',
      reason: 'us-east-1 is down; accept the lag',
    },
    { kind: 'approve', at: '14m', by: 'bob' },
  ],
  expect: {
    blockedBy: ['rpo'],
    overrides: ['rpo'],
    failovers: 1,
    finalState: 'failed-over',
    primary: 'us-west-2',
    rtoMet: true,
    rpoMet: false,
  },
}

/** The lease holder loses the lease mid-plan; a standby takes over and finishes the job. */
const lostLease: ScenarioInput = {
  name: 'lost-lease',
  description:
    'us-east-1 goes down and the lease holder starts the failover; new capacity in us-west-2 takes minutes to be ready. Mid-plan, the holder is cut off from the lease store: its plan stops safely when the lease runs out, a standby takes over with a higher epoch, replays the ledger, halts the interrupted operation, resumes from where traffic really is, and completes the failover.',
  regions: US,
  home: 'us-east-1',
  instances: 3,
  durationMs: '25m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '15m', rpoMs: '60s' },
  world: { scalerReadyMs: '3m' },
  failover: { scaleTo: 2 },
  workload: { intervalMs: '2s' },
  faults: [
    { kind: 'outage', at: '5m', jitterMs: '20s', region: 'us-east-1' },
    { kind: 'lose-lease', at: '6m30s', instance: 'leader', durationMs: '10m' },
  ],
  expect: {
    takeovers: { min: 1 },
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    primary: 'us-west-2',
    rtoMet: true,
  },
}

/** A partition between instances (and from a region): only the lease holder acts. */
const partition: ScenarioInput = {
  name: 'partition',
  description:
    'Three instances. The lease holder is cut off from the others (the lease store) for ten minutes, and a standby is cut off from us-west-2. The holder stops acting when its lease runs out, a connected standby takes over; when us-east-1 goes down it fails over alone. When the partition heals the old holder rejoins as a standby.',
  regions: US,
  home: 'us-east-1',
  instances: 3,
  durationMs: '25m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '10m', rpoMs: '60s' },
  workload: { intervalMs: '2s' },
  faults: [
    {
      kind: 'partition',
      at: '3m',
      instance: 'leader',
      from: ['lease'],
      mode: 'timeout',
      durationMs: '10m',
    },
    { kind: 'partition', at: '3m', instance: 'i3', from: ['us-west-2'], durationMs: '15m' },
    { kind: 'outage', at: '6m', jitterMs: '1m', region: 'us-east-1' },
  ],
  expect: {
    takeovers: 1,
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    rtoMet: true,
  },
}

/** Runbook 003: EU users are never routed out of the EU, whatever an operator asks. */
const euResidency: ScenarioInput = {
  name: 'eu-residency',
  description:
    'eu-west-1 (home, EU users pinned) goes down. us-east-1 is the preferred target by priority, but residency excludes it: the failover goes to eu-central-1. Later an operator asks to move to us-east-1 (cost): the residency guard refuses, with its values recorded. No pinned EU request ever reaches a non-EU region.',
  regions: [
    { id: 'eu-west-1', jurisdiction: 'EU', pinned: true },
    { id: 'eu-central-1', jurisdiction: 'EU' },
    { id: 'us-east-1', jurisdiction: 'US', priority: -1 },
  ],
  home: 'eu-west-1',
  durationMs: '25m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '15m', rpoMs: '5m' },
  workload: {
    intervalMs: '2s',
    users: [
      { jurisdiction: 'EU', share: 3 },
      { jurisdiction: 'US', share: 1, pinned: false },
    ],
  },
  faults: [
    { kind: 'outage', at: '5m', jitterMs: '1m', region: 'eu-west-1' },
    { kind: 'manual-failover', at: '15m', trigger: 'cost', target: 'us-east-1', by: 'carol' },
  ],
  expect: {
    failovers: 1,
    finalState: 'failed-over',
    serving: 'eu-central-1',
    primary: 'eu-central-1',
    blockedBy: ['residency'],
    rtoMet: true,
  },
}

/** Runbook 003: gradual restoration 10 % → 50 % → 100 % with a health gate; a failed gate first. */
const failback: ScenarioInput = {
  name: 'failback',
  description:
    'After a failover, us-east-1 recovers and the operator re-seeds its database and asks for a failback: 10 % of traffic, watched for two minutes. us-east-1 degrades during the watch, the gate fails and traffic returns to us-west-2 (the reason recorded). Later a second failback passes every gate: 10 %, 50 %, 100 %.',
  regions: US,
  home: 'us-east-1',
  instances: 2,
  durationMs: '45m',
  probeIntervalMs: '10s',
  failback: { stages: [10, 50, 100], gate: { windowMs: '2m', intervalMs: '20s' } },
  workload: { intervalMs: '2s' },
  faults: [
    { kind: 'outage', at: '3m', region: 'us-east-1', durationMs: '7m' },
    { kind: 'failback', at: '15m', by: 'alice' },
    { kind: 'degrade', at: '15m30s', region: 'us-east-1', errorRate: 0.6, durationMs: '3m' },
    { kind: 'failback', at: '25m', by: 'alice' },
  ],
  expect: {
    failovers: 1,
    failbacks: 1,
    rollbacks: 1,
    failedSteps: { min: 1 },
    finalState: 'active',
    serving: 'us-east-1',
  },
}

/** Slow DNS: routing changes take minutes to be in sync (runbook 001: DNS propagation). */
const slowDns: ScenarioInput = {
  name: 'slow-dns',
  description:
    'Routing changes take minutes to be in sync (drawn between 2 and 5 min). us-east-1 goes down: the plan promotes the replica at once but waits for the traffic shift to be in sync before verifying the endpoint. The RTO grows by the DNS delay and still meets its 10-minute target.',
  regions: US,
  home: 'us-east-1',
  durationMs: '25m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '10m', rpoMs: '60s' },
  workload: { intervalMs: '2s' },
  faults: [
    { kind: 'slow-sync', at: '1m', delayMs: ['2m', '5m'] },
    { kind: 'outage', at: '5m', jitterMs: '1m', region: 'us-east-1' },
  ],
  expect: { failovers: 1, finalState: 'failed-over', serving: 'us-west-2', rtoMet: true },
}

/** A step fails after its retries: the plan rolls back; a second attempt succeeds. */
const failingStep: ScenarioInput = {
  name: 'failing-step',
  description:
    "A planned switchover to us-west-2 is approved, but the router's API rejects the traffic shift three times: shift-traffic fails after its retries, the completed steps are compensated and the plan rolls back, leaving traffic on us-east-1 (the failure and the rollback recorded). The operator asks again once the API is back, and the second switchover completes with no data lost.",
  regions: US,
  home: 'us-east-1',
  database: { initialLagMs: '1s' },
  durationMs: '30m',
  probeIntervalMs: '10s',
  targets: { rtoMs: '15m', rpoMs: 0 },
  workload: { intervalMs: '2s' },
  faults: [
    {
      kind: 'fail-calls',
      at: '4m',
      port: 'traffic',
      method: 'setWeights',
      times: 3,
      error: 'THROTTLED',
    },
    { kind: 'manual-failover', at: '5m', target: 'us-west-2', by: 'alice' },
    { kind: 'approve', at: '6m', jitterMs: '1m', by: 'bob' },
    { kind: 'manual-failover', at: '15m', target: 'us-west-2', by: 'alice', reason: 'second try' },
    { kind: 'approve', at: '16m', jitterMs: '1m', by: 'bob' },
  ],
  expect: {
    failedSteps: { min: 1 },
    rollbacks: 1,
    failovers: 1,
    finalState: 'failed-over',
    serving: 'us-west-2',
    lostWrites: 0,
  },
}

const ALL: readonly ScenarioInput[] = [
  regionOutage,
  partialDegradation,
  plannedMaintenance,
  flapping,
  lagSpike,
  lostLease,
  partition,
  euResidency,
  failback,
  slowDns,
  failingStep,
]

/** The names of the built-in scenarios, in a stable order. */
export const BUILTIN_SCENARIOS: readonly string[] = ALL.map((s) => s.name)

/**
 * A built-in scenario by name (resolved; see {@link BUILTIN_SCENARIOS}).
 *
 * @throws ConfigError (`scenario`) for an unknown name, listing the known ones.
 */
export function builtinScenario(name: string): Scenario {
  const input = ALL.find((s) => s.name === name)
  if (input === undefined) {
    throw new ConfigError(
      'scenario',
      `unknown scenario "${name}" (known: ${BUILTIN_SCENARIOS.join(', ')})`,
    )
  }
  return defineScenario(input)
}

/** Every built-in scenario as written (the same shape as a scenario file), e.g. to save as JSON. */
export function builtinScenarioInputs(): readonly ScenarioInput[] {
  return ALL
}
