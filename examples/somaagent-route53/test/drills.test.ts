import type { StoredReceipt } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { runDrill } from '../src/drills.ts'
import { FAILOVER_NODES, FAILOVER_REPLICAS, RUNBOOK_TIMELINE, TARGETS } from '../src/plan.ts'
import {
  euWest1Failure,
  restoration,
  standbyDown,
  usWest2Degraded,
  usWest2Failure,
} from '../src/scenarios.ts'

const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)

const types = (receipts: readonly StoredReceipt[]): string[] => receipts.map((r) => r.type)
const stepResult = (receipts: readonly StoredReceipt[], step: string) =>
  (
    receipts.find((r) => r.type === 'step.succeeded' && (r.data as { step: string }).step === step)
      ?.data as { result: Record<string, unknown> } | undefined
  )?.result

describe('somaagent: P1/P2/P3 (runbook 003)', () => {
  it.each([0, 1, 2])(
    'P1, us-west-2 down: all traffic to eu-west-1 within RTO 15 min, RPO 5 min (seed %i)',
    async (seed) => {
      let nodes = -1
      const { result, receipts } = await runDrill(usWest2Failure, {
        seed,
        inspect: ({ world }) => {
          nodes = world.truth.capacity('eu-west-1').ready
        },
      })
      expect(result.checks.filter((c) => !c.passed)).toEqual([])
      const [f] = result.failovers
      expect(f!.severity).toBe('P1')
      expect(f!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.rtoMs)
      expect(f!.rpo.measuredMs).toBeLessThanOrEqual(TARGETS.rpoMs)
      // Capacity in the surviving region: the node group and the deployments.
      expect(nodes).toBe(FAILOVER_NODES)
      expect(stepResult(receipts, 'scale-deployments')).toMatchObject({
        region: 'eu-west-1',
        ready: FAILOVER_REPLICAS,
      })
    },
  )

  it('P1 beats the sequential runbook: deployments scale beside the node group', async () => {
    const { result, report } = await runDrill(usWest2Failure, { seed: 0 })
    const steps = report.operations[0]!.steps
    const at = (id: string) => steps.find((s) => s.step === id)!
    expect(at('scale-deployments').startedAt).toBe(at('scale').startedAt)
    expect(at('shift-traffic').startedAt).toBeGreaterThanOrEqual(
      at('scale-deployments').finishedAt!,
    )
    expect(report.operations[0]!.timing!.savedMs).toBeGreaterThanOrEqual(3 * 60_000)
    expect(result.failovers[0]!.rto.measuredMs).toBeLessThan(runbookMs)
  })

  it('P1 capacity check: a surviving region with too few nodes is refused, with the count recorded', async () => {
    const { result, report } = await runDrill(
      {
        ...usWest2Failure,
        name: 'us-west-2-failure-no-capacity',
        regions: [
          { id: 'us-west-2', jurisdiction: 'US', capacity: 4 },
          { id: 'eu-west-1', jurisdiction: 'EU', capacity: 1 },
        ],
        expect: { failovers: 0, blockedBy: ['capacity'] },
      },
      { seed: 0 },
    )
    expect(result.passed).toBe(true)
    const capacity = report.refusals.flatMap((r) => r.guards).find((g) => g.name === 'capacity')!
    expect(capacity).toMatchObject({ ok: false, value: 1, limit: 2 })
  })

  it('P2, partial degradation: a gradual shift of the application layer, the database stays', async () => {
    const { result, report } = await runDrill(usWest2Degraded, { seed: 0 })
    expect(result.passed).toBe(true)
    expect(result.failovers[0]!.severity).toBe('P2')
    expect(result.failovers[0]!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.p2RtoMs)
    expect(report.operations[0]!.steps.map((s) => s.step)).not.toContain('promote')
    expect(report.operations[0]!.reason).toMatch(/gradual traffic shift.*application layer only/)
  })

  it('P2 turned P1: when three failed probes come first, a full failover that meets P1’s targets', async () => {
    // Seed 154 draws a run where the probes fail three times in a row before
    // the 5-minute error rate crosses 10 %.
    const { result, report } = await runDrill(usWest2Degraded, { seed: 154 })
    expect(result.passed).toBe(true)
    const [f] = result.failovers
    expect(f!.severity).toBe('P1')
    expect(f!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.rtoMs)
    expect(report.operations[0]!.steps.map((s) => s.step)).toContain('promote')
  })

  it('P3, the standby region down: monitor, nothing moves', async () => {
    const { result, receipts } = await runDrill(standbyDown, { seed: 0 })
    expect(result.passed).toBe(true)
    expect(types(receipts)).not.toContain('failover.decided')
    expect(types(receipts)).not.toContain('failover.blocked')
    expect(result.truth.lostWrites).toBe(0)
  })
})

describe('somaagent: EU data residency', () => {
  it.each([0, 1, 2])(
    'EU users are never routed out of the EU: read-only mode instead (seed %i)',
    async (seed) => {
      const { result, report, receipts, soma } = await runDrill(euWest1Failure, { seed })
      expect(result.checks.filter((c) => !c.passed)).toEqual([])
      expect(result.truth.residency).toBe(0)
      expect(types(receipts)).not.toContain('step.started')
      const residency = report.refusals
        .flatMap((r) => r.guards)
        .find((g) => g.name === 'residency')!
      expect(residency).toMatchObject({ ok: false, value: 'read-only', limit: 'EU' })
      // The service's side: EU users read-only while eu-west-1 is down, normal once it is back.
      const modes = soma.modes()
      expect(modes.map((m) => `${m.jurisdiction}:${m.mode}`)).toEqual(['EU:read-only', 'EU:normal'])
      const start = Date.parse('2026-01-01T00:00:00Z')
      expect(modes[0]!.at - start).toBeGreaterThanOrEqual(5 * 60_000)
      expect(modes[0]!.at - start).toBeLessThanOrEqual(9 * 60_000)
      expect(modes[1]!.at - start).toBeGreaterThanOrEqual(25 * 60_000)
    },
  )
})

describe('somaagent: gradual restoration', () => {
  it('10 % → 50 % → normal, 15 minutes watched per stage, within the runbook’s 45–60 minutes', async () => {
    const { result, report } = await runDrill(restoration, { seed: 0 })
    expect(result.checks.filter((c) => !c.passed)).toEqual([])
    const [back] = result.failbacks
    expect(back!.stages).toEqual([
      { percent: 10, ok: true },
      { percent: 50, ok: true },
      { percent: 100, ok: true },
    ])
    expect(back!.durationMs).toBeGreaterThanOrEqual(45 * 60_000)
    expect(back!.durationMs).toBeLessThanOrEqual(60 * 60_000)
    const stages = report.operations[1]!.steps.filter((s) => s.step.startsWith('stage-'))
    for (const s of stages) expect(s.durationMs!).toBeGreaterThanOrEqual(15 * 60_000)
  })

  it('a stage that sees errors sends traffic back to eu-west-1', async () => {
    const { result } = await runDrill(
      {
        ...restoration,
        name: 'restoration-errors',
        faults: [
          ...restoration.faults!,
          { kind: 'degrade', at: '45m', region: 'us-west-2', errorRate: 0.3, durationMs: '10m' },
        ],
        expect: {
          failovers: 1,
          failbacks: 0,
          rollbacks: 1,
          finalState: 'failed-over',
          serving: 'eu-west-1',
        },
      },
      { seed: 0 },
    )
    expect(result.checks.filter((c) => !c.passed)).toEqual([])
  })
})
