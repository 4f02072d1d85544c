/**
 * Random scenarios for property tests and fuzzing: a topology, a handful of
 * instances and a schedule of faults and operator actions, all drawn from
 * a seed. The same seed always gives the same scenario.
 *
 * The expectations are left empty: what a random drill must show is the
 * invariants every drill checks (no split brain, no residency violation,
 * the cooldown respected, a ledger that verifies and replays).
 *
 * @module
 */
import { createRandom, type Random } from '../memory/random.js'
import type { FaultInput, ScenarioInput, ScenarioRegion } from './scenario.js'

/** Options of {@link randomScenario}. */
export interface RandomScenarioOptions {
  /** Virtual length of the drill, ms. Default 15 min. */
  readonly durationMs?: number
  /** Most faults and actions in the schedule. Default 5. */
  readonly maxFaults?: number
  /** Most controller instances. Default 3. */
  readonly maxInstances?: number
}

const TOPOLOGIES: readonly (readonly ScenarioRegion[])[] = [
  [
    { id: 'us-east-1', jurisdiction: 'US' },
    { id: 'us-west-2', jurisdiction: 'US' },
  ],
  [
    { id: 'us-east-1', jurisdiction: 'US' },
    { id: 'us-west-2', jurisdiction: 'US' },
    { id: 'eu-west-1', jurisdiction: 'EU' },
  ],
  [
    { id: 'eu-west-1', jurisdiction: 'EU', pinned: true },
    { id: 'eu-central-1', jurisdiction: 'EU' },
    { id: 'us-east-1', jurisdiction: 'US', priority: -1 },
  ],
  [
    { id: 'eu-west-1', jurisdiction: 'EU', pinned: true },
    { id: 'us-east-1', jurisdiction: 'US' },
  ],
]

const s = (ms: number): number => Math.round(ms)
const between = (r: Random, lo: number, hi: number): number => lo + r.int(hi - lo + 1)

/**
 * A scenario drawn from `seed`: 2–3 regions (some with pinned EU users),
 * 1–`maxInstances` instances sharing the lease, a short cooldown so several
 * failovers can happen, automatic failback or not, and up to `maxFaults`
 * of: outages, degradations, flapping, recoveries, lag spikes, stalled
 * replication, slow traffic sync, failing and hanging calls, partitions
 * (from the lease, the router, the endpoint), lost leases, manual
 * failovers with approvals, and failbacks.
 *
 * @example
 * ```ts
 * for (let seed = 0; seed < 1000; seed++) {
 *   const result = await drill(randomScenario(seed), { seed })
 *   if (!result.passed) console.log(seed, result.checks.filter((c) => !c.passed))
 * }
 * ```
 */
export function randomScenario(
  seed: number | string,
  options: RandomScenarioOptions = {},
): ScenarioInput {
  const r = createRandom(seed).fork('random-scenario')
  const durationMs = options.durationMs ?? 15 * 60_000
  const maxFaults = options.maxFaults ?? 5
  const regions = r.pick(TOPOLOGIES)
  const home = regions[0]!.id
  const ids = regions.map((x) => x.id)
  const others = ids.slice(1)
  const instances = 1 + r.int(options.maxInstances ?? 3)
  const instance = (): string => (r.chance(0.5) ? 'leader' : `i${1 + r.int(instances)}`)
  const when = (): number => s(r.int(Math.floor(durationMs * 0.9)))
  const length = (lo: number, hi: number): { durationMs?: number } =>
    r.chance(0.25) ? {} : { durationMs: between(r, lo, hi) }

  const faults: FaultInput[] = []
  const count = 1 + r.int(maxFaults)
  for (let k = 0; k < count; k++) {
    const at = when()
    const kind = r.weighted({
      outage: 6,
      degrade: 3,
      flap: 2,
      recover: 2,
      'lag-spike': 2,
      'stall-replication': 1,
      'slow-sync': 2,
      'fail-calls': 3,
      'hang-calls': 1,
      partition: 3,
      'lose-lease': 2,
      'manual-failover': 2,
      failback: 2,
    })!
    const region = r.chance(0.6) ? home : r.pick(ids)
    switch (kind) {
      case 'outage':
        faults.push({ kind, at, region, ...length(30_000, 8 * 60_000) })
        break
      case 'degrade':
        faults.push({
          kind,
          at,
          region,
          errorRate: between(r, 5, 60) / 100,
          ...length(60_000, 8 * 60_000),
        })
        break
      case 'flap':
        faults.push({
          kind,
          at,
          region,
          periodMs: between(r, 30_000, 150_000),
          ...length(2 * 60_000, 10 * 60_000),
        })
        break
      case 'recover':
        faults.push({ kind, at, region })
        break
      case 'lag-spike':
        faults.push({
          kind,
          at,
          region: r.pick(others),
          lagMs: between(r, 5_000, 5 * 60_000),
          ...length(60_000, 6 * 60_000),
        })
        break
      case 'stall-replication':
        faults.push({ kind, at, region: r.pick(others), ...length(30_000, 5 * 60_000) })
        break
      case 'slow-sync':
        faults.push({
          kind,
          at,
          delayMs: between(r, 5_000, 3 * 60_000),
          ...length(60_000, 8 * 60_000),
        })
        break
      case 'fail-calls':
      case 'hang-calls':
        faults.push({
          kind,
          at,
          port: r.pick(['traffic', 'database', 'scaler', 'probe', 'notifier'] as const),
          probability: between(r, 10, 100) / 100,
          ...(r.chance(0.3) ? { instance: instance() } : {}),
          ...(r.chance(0.5) ? { times: 1 + r.int(4) } : {}),
          durationMs: between(r, 20_000, 4 * 60_000),
        })
        break
      case 'partition':
        faults.push({
          kind,
          at,
          instance: instance(),
          from: r.pick([
            ['lease'],
            ['lease'],
            ['traffic'],
            ['endpoint'],
            ['lease', 'traffic'],
            [r.pick(ids)],
          ]),
          mode: r.pick(['fail', 'timeout'] as const),
          ...length(30_000, 8 * 60_000),
        })
        break
      case 'lose-lease':
        faults.push({ kind, at, ...length(30_000, 8 * 60_000) })
        break
      case 'manual-failover': {
        faults.push({
          kind,
          at,
          trigger: r.pick([
            'planned-maintenance',
            'security-isolation',
            'residency',
            'cost',
            'operator',
          ] as const),
          ...(r.chance(0.6) ? { target: r.pick(others) } : {}),
          ...(r.chance(0.3) ? { allowDataLoss: true } : {}),
          by: 'alice',
        })
        if (r.chance(0.8))
          faults.push({
            kind: 'approve',
            at: Math.min(durationMs, at + between(r, 0, 120_000)),
            by: 'bob',
          })
        break
      }
      case 'failback':
        faults.push({ kind, at, by: 'alice', rebuild: r.chance(0.8) })
        break
    }
  }

  return {
    name: `random-${String(seed).replace(/[^\w.-]/g, '_')}`,
    description: `A random scenario drawn from seed ${String(seed)}.`,
    regions,
    home,
    instances,
    durationMs,
    probeIntervalMs: r.pick([10_000, 15_000, 20_000]),
    lease: { ttlMs: 30_000, renewEveryMs: 10_000 },
    guards: { cooldownMs: between(r, 2, 6) * 60_000, rpoMs: r.pick([30_000, 60_000, 120_000]) },
    failback: {
      automatic: r.chance(0.4),
      stages: [10, 50, 100],
      gate: { windowMs: 60_000, intervalMs: 20_000 },
    },
    database: { initialLagMs: r.pick([0, 500, 2_000]) },
    workload: { intervalMs: r.pick([2_000, 5_000]) },
    faults,
  }
}
