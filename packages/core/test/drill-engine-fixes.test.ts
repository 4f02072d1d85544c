/**
 * Regression tests for what the drills found in the engine (each was a
 * failing drill or property first): see the module docs of `plans.ts`,
 * `failback.ts`, `_executor-run.ts`, `controller.ts` and the world's
 * `Database.replicationLag`.
 */
import { createLedger, createMemoryStore } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  createController,
  createMemoryLease,
  createPlan,
  createSimulatedWorld,
  createVirtualClock,
  type DrillResult,
  drill,
  type Operation,
  runPlan,
  type ScenarioInput,
  type StepSpec,
} from '../src/index.js'

const A = 'us-east-1'
const B = 'us-west-2'
const REGIONS = [
  { id: A, jurisdiction: 'US' },
  { id: B, jurisdiction: 'US' },
]

const scenario = (over: Partial<ScenarioInput>): ScenarioInput => ({
  name: 'fix',
  regions: REGIONS,
  home: A,
  durationMs: '20m',
  probeIntervalMs: '10s',
  workload: { intervalMs: '1s' },
  ...over,
})

const stepStart = (r: DrillResult, step: string): number =>
  r.timeline.find((e) => e.kind === 'step' && e.text.startsWith(`${step} (`))!.at

describe('executor: a skipped step still orders what depends on it', () => {
  it('runs a dependent of a skipped step only after the skipped step’s own dependencies', async () => {
    const T0 = Date.UTC(2026, 0, 1)
    const clock = createVirtualClock(T0)
    const log: string[] = []
    const step = (id: string, deps: string[], extra: Partial<StepSpec> = {}): StepSpec => ({
      id,
      title: id,
      dependsOn: deps,
      async run(ctx) {
        log.push(`${id} start ${ctx.clock.now() - T0}`)
        if (id === 'slow') await ctx.clock.sleep(1_000, ctx.signal)
        return {}
      },
      ...extra,
    })
    const plan = createPlan({
      id: 'p',
      title: 'p',
      steps: [
        step('slow', []),
        step('graceful-only', ['slow'], { when: 'graceful' }),
        step('after', ['graceful-only']),
      ],
    })
    const op: Operation = { kind: 'failover', id: 'o', from: A, to: B, startedAt: T0 }
    const run = runPlan(plan, { clock, operation: op, epoch: 1, mode: 'ungraceful' })
    await clock.advance(5_000)
    expect((await run.result).outcome).toBe('succeeded')
    expect(log).toEqual(['slow start 0', 'after start 1000'])
  })
})

describe('ungraceful failover: traffic leaves the unfenced old primary before the promotion', () => {
  it('keeps a flapping old primary from taking writes while DNS is slow (no split brain)', async () => {
    const r = await drill(
      scenario({
        faults: [
          { kind: 'slow-sync', at: '4m', delayMs: '1m' },
          // Down when detected, up again during the slow traffic shift.
          { kind: 'flap', at: '5m', region: A, periodMs: '90s', downMs: '40s', durationMs: '10m' },
        ],
      }),
    )
    expect(r.truth.splitBrain).toBe(0)
    expect(r.failovers).toHaveLength(1)
    expect(stepStart(r, 'promote')).toBeGreaterThanOrEqual(stepStart(r, 'shift-traffic') + 60_000)
  })

  it('does not send traffic back when a step fails after the promotion: it halts (no split brain)', async () => {
    const r = await drill(
      scenario({
        faults: [
          { kind: 'fail-calls', at: '1m', port: 'database', method: 'verifyWrites', times: 10 },
          { kind: 'outage', at: '5m', region: A, durationMs: '4m' },
        ],
      }),
    )
    expect(r.truth.splitBrain).toBe(0)
    expect(r.final.state).toBe('halted')
    expect(r.truth.weights).toEqual({ [A]: 0, [B]: 100 })
    expect(r.timeline.some((e) => /not undone: traffic stays on us-west-2/.test(e.text))).toBe(true)
    expect(r.failedSteps.map((s) => s.step)).toEqual(['verify-writes', 'check-old-primary'])
  })
})

describe('failback: the home region’s database must be a replica of the current primary', () => {
  const failback = (rebuild: boolean): ScenarioInput =>
    scenario({
      durationMs: '30m',
      failback: { gate: { windowMs: '1m', intervalMs: '10s' } },
      faults: [
        { kind: 'outage', at: '2m', region: A, durationMs: '5m' },
        { kind: 'failback', at: '12m', rebuild },
      ],
    })

  it('refuses to fail back onto a stale old primary that was never fenced', async () => {
    const r = await drill(failback(false))
    expect(r.failbacks).toHaveLength(0)
    expect(r.failedSteps[0]!.step).toBe('preflight')
    expect(r.failedSteps[0]!.error).toMatch(/us-east-1 holds no replica of the current primary/)
    expect(r.final).toMatchObject({ state: 'failed-over', serving: B })
    expect(r.truth.splitBrain).toBe(0)
  })

  it('fails back once the old primary is re-seeded, sampling the gate at its interval', async () => {
    const r = await drill(failback(true), {
      inspect: (rig) => {
        const stages = rig.receipts.filter(
          (x) => x.type === 'step.succeeded' && String(x.data.step).startsWith('stage-'),
        )
        // 1 min window, one sample every 10 s (the controller's `gate.intervalMs`).
        for (const s of stages) {
          expect(
            (s.data as { result: { gate: { metrics: { samples: number } } } }).result.gate.metrics
              .samples,
          ).toBe(6)
        }
      },
    })
    expect(r.failbacks).toHaveLength(1)
    expect(r.final).toMatchObject({ state: 'active', serving: A })
    expect(r.truth.splitBrain).toBe(0)
  })
})

describe('controller: stopping', () => {
  it('does not decide on a probe round still in flight when stop() is called', async () => {
    const clock = createVirtualClock(Date.UTC(2026, 0, 1))
    const world = createSimulatedWorld({
      clock,
      home: A,
      regions: REGIONS.map((r) => ({ ...r, latencyMs: 0 })),
      workload: false,
    })
    const store = createMemoryStore()
    const ports = world.connect('i1')
    const c = createController({
      instance: 'i1',
      topology: { home: A, regions: REGIONS, databasePrimary: A },
      ports: {
        probes: REGIONS.map((r) => ports.probe(r.id)),
        router: ports.router,
        database: ports.database,
        lease: createMemoryLease({ clock }).view('i1'),
      },
      ledger: createLedger({ store, clock }),
      clock,
      probeIntervalMs: 10_000,
    })
    await c.start()
    // Probes of A now take the full 5 s timeout to fail; rounds start at 10 s, 25 s and
    // 40 s: the third failing one is in flight at 41 s.
    world.faults.outage(A, { error: 'DEADLINE_EXCEEDED' })
    await clock.advance(41_000)
    const stopping = c.stop()
    await clock.advance(10_000)
    await stopping
    const types: string[] = []
    for await (const r of createLedger({ store }).read()) types.push(r.type)
    expect(types).not.toContain('failover.decided')
    expect(c.state.name).toBe('active')
  })
})
