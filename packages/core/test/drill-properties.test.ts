/**
 * Property tests of the failover engine, run as drills: for every seed, a
 * random scenario (2–3 regions, 1–3 controller instances sharing the lease,
 * up to five faults and operator actions: outages, degradations, flapping,
 * lag spikes, stalled replication, slow DNS, failing and hanging calls,
 * partitions from the lease / router / endpoint / a region, lost leases,
 * manual failovers with approvals, failbacks) must keep the invariants:
 *
 * - never two regions accepting writes (the world's split-brain ground truth);
 * - no pinned user routed out of their jurisdiction;
 * - at most one automatic failover per cooldown window;
 * - a ledger that verifies and replays through the pure machine;
 * - the lease holder's state agrees with the ledger's.
 */
import { describe, expect, it } from 'vitest'
import { type DrillResult, drill, randomScenario } from '../src/index.js'

const SEEDS = 1_000

interface Failure {
  readonly seed: number
  readonly checks: readonly string[]
}

interface Totals {
  instances: number
  multiInstance: number
  faults: number
  failovers: number
  takeovers: number
  refusals: number
}

/** Runs `seeds` random drills; returns the invariant failures and what was exercised. */
async function run(
  seeds: number,
  options: Parameters<typeof randomScenario>[1],
): Promise<{ failures: Failure[]; totals: Totals; seconds: number }> {
  const started = performance.now()
  const failures: Failure[] = []
  const totals: Totals = {
    instances: 0,
    multiInstance: 0,
    faults: 0,
    failovers: 0,
    takeovers: 0,
    refusals: 0,
  }
  for (let seed = 0; seed < seeds; seed++) {
    const result: DrillResult = await drill(randomScenario(seed, options), { seed })
    totals.instances += result.instances
    if (result.instances > 1) totals.multiInstance++
    totals.faults += result.resolved.faults.length
    totals.failovers += result.failovers.length
    totals.takeovers += result.takeovers
    totals.refusals += result.refusals.length
    const broken = result.checks.filter((c) => c.invariant && !c.passed)
    if (broken.length > 0) {
      failures.push({ seed, checks: broken.map((c) => `${c.name}: ${JSON.stringify(c.actual)}`) })
    }
  }
  return { failures, totals, seconds: (performance.now() - started) / 1_000 }
}

function describeRun(label: string, r: { totals: Totals; seconds: number }): string {
  const t = r.totals
  return `${label}: ${SEEDS} drills in ${r.seconds.toFixed(1)} s: ${t.instances} instances (${t.multiInstance} drills with several), ${t.faults} faults and actions, ${t.failovers} failovers, ${t.takeovers} takeovers, ${t.refusals} guard refusals`
}

describe('drill properties', () => {
  it(`hold for ${SEEDS} random scenarios with several instances`, async () => {
    const r = await run(SEEDS, {})
    console.log(describeRun('random scenarios', r))
    expect(r.failures).toEqual([])
    // The random scenarios really exercise the engine.
    expect(r.totals.multiInstance).toBeGreaterThan(SEEDS / 2)
    expect(r.totals.failovers).toBeGreaterThan(SEEDS / 4)
    expect(r.totals.takeovers).toBeGreaterThan(SEEDS / 20)
    expect(r.totals.refusals).toBeGreaterThan(SEEDS / 20)
  })

  it(`hold for ${SEEDS} harsher ones (up to 9 faults, 4 instances, 25 minutes)`, async () => {
    const r = await run(SEEDS, { maxFaults: 9, maxInstances: 4, durationMs: 25 * 60_000 })
    console.log(describeRun('harsher scenarios', r))
    expect(r.failures).toEqual([])
    expect(r.totals.failovers).toBeGreaterThan(SEEDS / 4)
    expect(r.totals.takeovers).toBeGreaterThan(SEEDS / 10)
  })

  it('draws the same random scenario for the same seed, and different ones for others', () => {
    expect(randomScenario(42)).toEqual(randomScenario(42))
    expect(JSON.stringify(randomScenario(42))).not.toBe(JSON.stringify(randomScenario(43)))
  })
})
