import { isReceiptId, verify } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  BUILTIN_SCENARIOS,
  builtinScenario,
  builtinScenarioInputs,
  createRandom,
  createSeededIds,
  type DrillResult,
  drill,
  drillReportJson,
  drillReportMarkdown,
  type ScenarioInput,
} from '../src/index.js'

const SEEDS_PER_SCENARIO = 5

function failing(r: DrillResult): string[] {
  return r.checks
    .filter((c) => !c.passed)
    .map(
      (c) => `${c.name}: expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(c.actual)}`,
    )
}

const input = (name: string): ScenarioInput => builtinScenarioInputs().find((s) => s.name === name)!

describe('the built-in scenarios', () => {
  it('are the runbooks’ scenarios', () => {
    expect(BUILTIN_SCENARIOS).toEqual([
      'region-outage',
      'partial-degradation',
      'planned-maintenance',
      'flapping',
      'lag-spike',
      'lost-lease',
      'partition',
      'eu-residency',
      'failback',
      'slow-dns',
      'failing-step',
    ])
    for (const name of BUILTIN_SCENARIOS) {
      const s = builtinScenario(name)
      expect(s.description.length).toBeGreaterThan(40)
      expect(Object.keys(s.expect).length).toBeGreaterThan(0)
    }
    expect(() => builtinScenario('nope')).toThrow(/unknown scenario "nope" \(known: region-outage,/)
  })

  for (const name of BUILTIN_SCENARIOS) {
    it(`${name} meets its expectations for seeds 0–${SEEDS_PER_SCENARIO - 1}`, async () => {
      for (let seed = 0; seed < SEEDS_PER_SCENARIO; seed++) {
        const result = await drill(builtinScenario(name), { seed })
        expect({ seed, failing: failing(result) }).toEqual({ seed, failing: [] })
        expect(result.passed).toBe(true)
        expect(result.ledger.verify.status).toBe('VERIFIED')
        expect(result.ledger.replay.status).toBe('REPLAYED')
      }
    })
  }
})

describe('what the built-in scenarios show', () => {
  it('region-outage: P1 automatic failover with promotion, measured RTO/RPO', async () => {
    const r = await drill(builtinScenario('region-outage'), { seed: 11 })
    expect(r.failovers).toHaveLength(1)
    const f = r.failovers[0]!
    expect(f).toMatchObject({
      from: 'us-east-1',
      to: 'us-west-2',
      mode: 'automatic',
      severity: 'P1',
    })
    expect(f.detectedAt).not.toBeNull()
    expect(f.detectedAt!).toBeLessThanOrEqual(f.decidedAt)
    expect(f.rto.measuredMs).toBe(f.completedAt - f.detectedAt!)
    expect(f.rto.targetMs).toBe(600_000)
    expect(r.truth.promotions).toMatchObject([{ region: 'us-west-2', graceful: false }])
    // The receipts’ RPO is the world’s measured data loss of the promotion.
    expect(f.rpo.measuredMs).toBe(r.truth.dataLossMs)
    expect(r.truth.writes).toBeGreaterThan(500)
  })

  it('planned-maintenance: approval, graceful switchover, zero data loss', async () => {
    const r = await drill(builtinScenario('planned-maintenance'), { seed: 2 })
    expect(r.failovers[0]).toMatchObject({ mode: 'manual', detectedAt: null })
    expect(r.failovers[0]!.rpo).toMatchObject({ measuredMs: 0, met: true })
    expect(r.truth.promotions[0]).toMatchObject({ graceful: true, lostWrites: 0 })
    expect(r.timeline.filter((e) => e.kind === 'approval').map((e) => e.text)).toEqual([
      'request:1 approved by bob',
    ])
    expect(r.refusals.flatMap((x) => x.guards.map((g) => g.name))).toEqual(['approval'])
  })

  it('lag-spike: the RPO guard refuses with its value; the override is audited', async () => {
    const r = await drill(builtinScenario('lag-spike'), { seed: 4 })
    const rpo = r.refusals.flatMap((x) => x.guards).find((g) => g.name === 'rpo')!
    expect(rpo.ok).toBe(false)
    expect(rpo.limit).toBe(60_000)
    expect(Number(rpo.value)).toBeGreaterThan(60_000)
    expect(r.overrides).toMatchObject([{ guard: 'rpo', by: 'alice' }])
    expect(r.failovers[0]!.rpo.met).toBe(false)
    expect(r.failovers[0]!.rpo.measuredMs).toBeGreaterThan(60_000)
    // A manual failover during an incident is measured from the incident.
    expect(r.failovers[0]!.rto.measuredMs).toBeGreaterThan(
      r.failovers[0]!.completedAt - r.failovers[0]!.decidedAt,
    )
  })

  it('lost-lease: the standby takes over mid-plan with a higher epoch', async () => {
    const r = await drill(builtinScenario('lost-lease'), { seed: 0 })
    expect(r.takeovers).toBeGreaterThanOrEqual(1)
    expect(r.final.epoch).toBeGreaterThan(1)
    expect(r.timeline.some((e) => e.kind === 'lease' && /lost the lease/.test(e.text))).toBe(true)
    expect(
      r.timeline.some((e) => e.kind === 'state' && e.text === 'failing-over → halted (halt)'),
    ).toBe(true)
  })

  it('eu-residency: pinned EU users stay in the EU; the operator’s request to leave is refused', async () => {
    const r = await drill(builtinScenario('eu-residency'), { seed: 1 })
    expect(r.failovers[0]!.to).toBe('eu-central-1')
    expect(r.truth.residency).toBe(0)
    const residency = r.refusals.flatMap((x) => x.guards).find((g) => g.name === 'residency')!
    expect(residency).toMatchObject({ ok: false, value: 'US', limit: 'EU' })
  })

  it('failback: a failed gate rolls back, the second failback passes 10/50/100', async () => {
    const r = await drill(builtinScenario('failback'), { seed: 0 })
    expect(r.failedSteps[0]!.step).toBe('stage-10')
    expect(r.failedSteps[0]!.error).toMatch(/health gate failed at 10 %/)
    expect(r.failbacks[0]!.stages).toEqual([
      { percent: 10, ok: true },
      { percent: 50, ok: true },
      { percent: 100, ok: true },
    ])
  })

  it('failing-step: the failure, the compensation and the rollback are recorded', async () => {
    const r = await drill(builtinScenario('failing-step'), { seed: 0 })
    expect(r.failedSteps[0]).toMatchObject({ step: 'shift-traffic' })
    expect(r.failedSteps[0]!.error).toMatch(/THROTTLED/)
    expect(
      r.timeline.some(
        (e) => e.kind === 'state' && e.text.startsWith('failing-over → rolling-back'),
      ),
    ).toBe(true)
    expect(r.truth.lostWrites).toBe(0)
  })
})

describe('drill()', () => {
  it('is deterministic by seed: the same scenario and seed give a byte-identical result', async () => {
    for (const name of ['region-outage', 'lost-lease', 'flapping']) {
      const a = drillReportJson(await drill(builtinScenario(name), { seed: 9 }))
      const b = drillReportJson(await drill(builtinScenario(name), { seed: 9 }))
      expect(a).toBe(b)
      expect(drillReportMarkdown(JSON.parse(a))).toBe(drillReportMarkdown(JSON.parse(b)))
    }
  })

  it('gives different seeds different runs (jitter, ranges, receipt ids)', async () => {
    const a = await drill(builtinScenario('region-outage'), { seed: 1 })
    const b = await drill(builtinScenario('region-outage'), { seed: 2 })
    expect(a.ledger.head).not.toBe(b.ledger.head)
    const outage = (r: DrillResult) => r.timeline.find((e) => e.kind === 'fault')!.at
    expect(outage(a)).not.toBe(outage(b))
    expect(outage(a)).toBeGreaterThanOrEqual(300_000)
    expect(outage(a)).toBeLessThanOrEqual(420_000)
  })

  it('writes a verified ledger with seeded UUIDv7 receipt ids, and hands over the rig', async () => {
    let checked = false
    const r = await drill(builtinScenario('partition'), {
      seed: 5,
      inspect: async (rig) => {
        expect(rig.controllers.map((c) => c.instance)).toEqual(['i1', 'i2', 'i3'])
        expect((await verify(rig.ledger.store)).status).toBe('VERIFIED')
        const ids = rig.receipts.map((x) => x.id)
        expect(ids.every(isReceiptId)).toBe(true)
        expect([...ids].sort()).toEqual(ids)
        expect(rig.receipts[0]!.ts).toBe('2026-01-01T00:00:00.000Z')
        checked = true
      },
    })
    expect(checked).toBe(true)
    expect(r.ledger.receipts).toBeGreaterThan(10)
  })

  it('reports the timeline in time order with faults, decisions, steps and completion', async () => {
    const r = await drill(builtinScenario('slow-dns'), { seed: 3 })
    const ats = r.timeline.map((e) => e.at)
    expect([...ats].sort((x, y) => x - y)).toEqual(ats)
    const kinds = new Set(r.timeline.map((e) => e.kind))
    for (const k of ['fault', 'health', 'decision', 'state', 'step', 'world', 'completed', 'lease'])
      expect(kinds).toContain(k)
    const shift = r.timeline.find((e) => e.kind === 'step' && e.text.startsWith('shift-traffic'))!
    expect(shift.durationMs).toBeGreaterThanOrEqual(120_000)
    expect(shift.ok).toBe(true)
  })

  it('fails an expectation that does not hold, and keeps every invariant', async () => {
    const r = await drill({
      ...input('region-outage'),
      expect: { failovers: 2, finalState: 'active' },
    })
    expect(r.passed).toBe(false)
    expect(r.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([
      'failovers',
      'finalState',
    ])
    expect(r.checks.filter((c) => c.invariant).every((c) => c.passed)).toBe(true)
  })

  it('catches a stale writer: a revoked lease lets two holders act, and the replay says so', async () => {
    const r = await drill({
      name: 'revoked',
      regions: [
        { id: 'a', jurisdiction: 'US' },
        { id: 'b', jurisdiction: 'US' },
      ],
      home: 'a',
      instances: 2,
      durationMs: '10m',
      probeIntervalMs: '10s',
      world: { scalerReadyMs: '20s' },
      failover: { scaleTo: 2 },
      faults: [
        { kind: 'outage', at: '1m', region: 'a' },
        // Mid-plan: the store forgets i1's grant; i2 takes over before i1 notices.
        { kind: 'lose-lease', at: '1m25s', revoke: true },
      ],
    })
    expect(r.ledger.replay.status).toBe('FAILED')
    expect(r.ledger.replay.problems.some((p) => p.kind === 'stale-epoch')).toBe(true)
    expect(r.checks.find((c) => c.name === 'ledger replays')!.passed).toBe(false)
    // Fencing still kept the world safe: the stale holder's calls were refused.
    expect(r.truth.fencedCalls).toBeGreaterThan(0)
    expect(r.truth.splitBrain).toBe(0)
    expect(r.failovers).toHaveLength(1)
  })

  it('runs a scenario without a database or traffic (application layer only)', async () => {
    const r = await drill({
      name: 'stateless',
      regions: [{ id: 'a' }, { id: 'b' }],
      home: 'a',
      database: false,
      workload: false,
      durationMs: 600_000,
      probeIntervalMs: 10_000,
      faults: [{ kind: 'outage', at: 60_000, region: 'a' }],
      expect: { failovers: 1, serving: 'b', rpoMet: false },
    })
    expect(failing(r)).toEqual([])
    expect(r.failovers[0]!.rpo.measuredMs).toBeNull()
    expect(r.truth.requests).toBe(0)
  })
})

describe('createSeededIds', () => {
  it('makes deterministic, increasing UUIDv7s from a seed and the clock', () => {
    const a = createSeededIds(createRandom(1))
    const b = createSeededIds(createRandom(1))
    const t = Date.UTC(2026, 0, 1)
    const ids = [a(t), a(t), a(t + 1), a(t - 5)]
    expect(ids).toEqual([b(t), b(t), b(t + 1), b(t - 5)])
    expect(ids.every(isReceiptId)).toBe(true)
    expect([...ids].sort()).toEqual(ids)
    expect(ids[0]!.slice(0, 13)).toBe(
      `${t.toString(16).padStart(12, '0').slice(0, 8)}-${t.toString(16).padStart(12, '0').slice(8)}`,
    )
    expect(createSeededIds(createRandom(2))(t)).not.toBe(ids[0])
  })
})
