/**
 * The failover engine's speed: the pure machine, the decision path of a
 * real controller, and seeded drills on the virtual clock.
 *
 * - `transition()` over a failover/failback cycle, against an empty loop
 *   and a plain object spread (what one state change must at least cost);
 * - decision overhead: from the probe sample that crosses the detection
 *   threshold to the first plan step starting, with a real controller on
 *   in-memory adapters (health change, state change, policy, guards with
 *   capacity and lag reads, three receipts hashed into a memory ledger),
 *   against one bare `ledger.append`;
 * - drills per minute of a representative short scenario (two instances,
 *   ten virtual minutes, an outage, light traffic), against the same
 *   scenario with no fault.
 *
 * Uses the built packages (`pnpm build` first). Scale with BENCH_TRANSITIONS
 * (default 5,000,000), BENCH_DECISIONS (trials, default 2,000) and
 * BENCH_DRILLS (default 1,000).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { createLedger, createMemoryStore } from '@baton/ledger'
import {
  type Controller,
  createController,
  createMemoryLease,
  createSimulatedWorld,
  createVirtualClock,
  drill,
  initialState,
  type MachineEvent,
  type MachineState,
  type Probe,
  type ScenarioInput,
  transition,
} from '../packages/core/dist/index.js'
import { fmt, median, percentile, type Row } from './_harness.ts'

/** V8's `gc()`, exposed at run time (no command-line flag needed). */
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as (options?: { type?: 'minor' | 'major' }) => void

const A = 'us-east-1'
const B = 'us-west-2'

/** One failover and failback, plus an event the state ignores. */
const CYCLE: readonly MachineEvent[] = [
  { type: 'health.degraded', at: 1, region: A, status: 'down' },
  {
    type: 'failover.decided',
    at: 2,
    operation: 'f',
    from: A,
    to: B,
    severity: 'P1',
    mode: 'automatic',
  },
  { type: 'plan.succeeded', at: 3, operation: 'f' },
  { type: 'failback.decided', at: 4, operation: 'b' },
  { type: 'plan.succeeded', at: 5, operation: 'b' },
  { type: 'health.recovered', at: 6, region: A },
]

/** Runs `body` over `n` events of the cycle; returns operations per second (best of 3). */
function rate(n: number, body: (state: MachineState, event: MachineEvent) => MachineState): number {
  let best = 0
  for (let round = 0; round < 3; round++) {
    let state = initialState(A)
    const t = performance.now()
    for (let i = 0; i < n; i++) state = body(state, CYCLE[i % CYCLE.length]!)
    const s = (performance.now() - t) / 1_000
    if (state.version < 0) throw new Error('unreachable') // keep `state` alive
    best = Math.max(best, n / s)
  }
  return best
}

function benchTransition(n: number): Row[] {
  rate(200_000, (s, e) => transition(s, e)[0]) // warm up
  const machine = rate(n, (s, e) => transition(s, e)[0])
  const empty = rate(n, (s, e) => (e.at < 0 ? { ...s } : s))
  const spread = rate(n, (s, e) => ({ ...s, version: s.version + e.at }))
  return [
    {
      group: 'engine',
      name: `transition() (pure machine), failover/failback cycle, ${fmt(n)} events`,
      value: `${fmt(machine)} transitions/s`,
      baseline: `${fmt(spread)}/s (one object spread per event)`,
      ratio: (machine / spread).toFixed(2),
      target: '≥ 1,000,000/s',
      ok: machine >= 1_000_000,
    },
    {
      group: 'engine',
      name: 'empty loop over the same events (for scale)',
      value: `${fmt(empty)}/s`,
      baseline: `${fmt(machine)}/s (transition)`,
      ratio: (empty / machine).toFixed(1),
    },
  ]
}

interface Trial {
  readonly controller: Controller
  readonly arm: () => void
  /** Resolves with the time from the threshold-crossing sample to the first plan step. */
  readonly elapsed: Promise<number>
  readonly outage: () => void
}

/** A controller on in-memory adapters whose probe of A marks the threshold-crossing sample. */
function trial(): Trial {
  const clock = createVirtualClock(Date.UTC(2026, 0, 1))
  const regions = [
    { id: A, jurisdiction: 'US' },
    { id: B, jurisdiction: 'US' },
  ]
  const world = createSimulatedWorld({
    clock,
    home: A,
    regions: regions.map((r) => ({ ...r, latencyMs: 0 })),
    workload: false,
  })
  const ports = world.connect('i1')
  let armed = false
  let t0: number | undefined
  let t1: number | undefined
  const inner = ports.probe(A)
  const probeA: Probe = {
    name: inner.name,
    region: A,
    async check(ctx) {
      const sample = await inner.check(ctx)
      if (armed && t0 === undefined) t0 = performance.now()
      return sample
    },
  }
  const controller = createController({
    instance: 'i1',
    topology: { home: A, regions, databasePrimary: A },
    ports: {
      probes: [probeA, ports.probe(B)],
      globalProbe: ports.endpointProbe(),
      router: ports.router,
      database: ports.database,
      scaler: ports.scaler,
      lease: createMemoryLease({ clock }).view('i1'),
    },
    ledger: createLedger({ store: createMemoryStore(), clock }),
    clock,
  })
  const elapsed = new Promise<number>((resolve) => {
    controller.on('plan.step.started', () => {
      if (t0 !== undefined && t1 === undefined) {
        t1 = performance.now()
        resolve(t1 - t0)
      }
    })
  })
  return {
    controller,
    arm: () => {
      armed = true
    },
    elapsed,
    outage: () => {
      world.faults.outage(A)
    },
  }
}

/**
 * Decision latencies of `trials` fresh controllers (after 200 warm-up
 * trials). With `collect`, garbage is collected before each measured tick,
 * so the garbage of a trial's setup (a new world, lease, ledger and
 * controller each time, unlike a running service) is not charged to the
 * path; without, it is.
 */
async function decisionLatencies(trials: number, collect: boolean): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < trials + 200; i++) {
    const t = trial()
    await t.controller.tick() // acquires the lease, healthy round
    t.outage()
    await t.controller.tick() // 1 failure
    await t.controller.tick() // 2 failures
    if (collect) collectGarbage({ type: 'minor' })
    t.arm()
    await t.controller.tick() // the 3rd crosses the threshold: decide, run the plan
    const ms = await Promise.race([
      t.elapsed,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`trial ${i}: no plan step started`)), 5_000),
      ),
    ])
    if (i >= 200) samples.push(ms)
    t.controller.cancelPlan('bench')
    await t.controller.idle()
  }
  return samples
}

async function benchDecision(trials: number): Promise<Row[]> {
  const clean = await decisionLatencies(trials, true)
  const raw = await decisionLatencies(trials, false)
  // Baseline: one receipt appended to a memory ledger (the path writes three).
  const ledger = createLedger({ store: createMemoryStore() })
  const appends: number[] = []
  for (let i = 0; i < trials + 200; i++) {
    const t = performance.now()
    await ledger.append({
      type: 'health.changed',
      data: {
        region: A,
        from: 'healthy',
        to: 'down',
        reasons: [{ detector: 'consecutiveFailures', value: 3, threshold: 3 }],
        epoch: 1,
      },
    })
    if (i >= 200) appends.push(performance.now() - t)
  }
  const p = (xs: number[], q: number): string => fmt(percentile(xs, q), 3)
  const p99 = percentile(clean, 99)
  return [
    {
      group: 'engine',
      name: `decision overhead: threshold-crossing probe sample → first plan step started, real controller on in-memory adapters (health change, state changes, policy, guards reading capacity and lag, 3 receipts hashed into a memory ledger), ${fmt(trials)} trials, garbage collected before each`,
      value: `p50 ${p(clean, 50)} ms, p99 ${p(clean, 99)} ms (max ${p(clean, 100)} ms)`,
      baseline: `p50 ${p(appends, 50)} ms (one ledger.append)`,
      ratio: (median(clean) / median(appends)).toFixed(1),
      target: 'p99 < 1 ms',
      ok: p99 < 1,
    },
    {
      group: 'engine',
      name: `the same without collecting between trials (each trial's setup garbage charged to the path: GC pauses in the tail)`,
      value: `p50 ${p(raw, 50)} ms, p98 ${p(raw, 98)} ms, p99 ${p(raw, 99)} ms`,
      baseline: `p99 ${p(clean, 99)} ms (collected)`,
    },
  ]
}

/** The representative short drill: two instances, ten minutes, an outage at 2–3 min, light traffic. */
function benchScenario(faults: boolean): ScenarioInput {
  return {
    name: faults ? 'bench-outage' : 'bench-quiet',
    regions: [
      { id: A, jurisdiction: 'US' },
      { id: B, jurisdiction: 'US' },
    ],
    home: A,
    instances: 2,
    durationMs: '10m',
    probeIntervalMs: '10s',
    workload: { intervalMs: '5s' },
    faults: faults ? [{ kind: 'outage', at: '2m', jitterMs: '1m', region: A }] : [],
    expect: faults ? { failovers: 1, finalState: 'failed-over' } : { failovers: 0 },
  }
}

async function drillsPerMinute(n: number, faults: boolean): Promise<number> {
  const scenario = benchScenario(faults)
  for (let seed = 0; seed < 50; seed++) await drill(scenario, { seed }) // warm up
  const t = performance.now()
  for (let seed = 0; seed < n; seed++) {
    const r = await drill(scenario, { seed })
    if (!r.passed) throw new Error(`bench drill failed for seed ${seed}`)
  }
  return (n * 60_000) / (performance.now() - t)
}

async function benchDrills(n: number): Promise<Row[]> {
  const quiet = await drillsPerMinute(n, false)
  const outage = await drillsPerMinute(n, true)
  return [
    {
      group: 'engine',
      name: `seeded drills on the virtual clock: 2 instances, 10 min, outage + failover with promotion, traffic every 5 s, ledger verified and replayed (${fmt(n)} seeds)`,
      value: `${fmt(outage)} drills/min`,
      baseline: `${fmt(quiet)} drills/min (same, no fault)`,
      ratio: (outage / quiet).toFixed(2),
      target: '≥ 10,000/min',
      ok: outage >= 10_000,
    },
  ]
}

/** Every engine benchmark. */
export async function benchEngine(
  transitions: number,
  decisions: number,
  drills: number,
): Promise<Row[]> {
  return [
    ...benchTransition(transitions),
    ...(await benchDecision(decisions)),
    ...(await benchDrills(drills)),
  ]
}
