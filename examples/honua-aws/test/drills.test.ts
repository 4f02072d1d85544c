import type { StoredReceipt } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { runDrill } from '../src/drills.ts'
import { RUNBOOK_TIMELINE, SCENARIO_TABLE, TEST_RECORD } from '../src/plan.ts'
import {
  databaseFailure,
  drTest,
  healthCheckFailure,
  lagAbort,
  maintenanceMode,
  plannedMaintenance,
  regionOutage,
} from '../src/scenarios.ts'

const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)

const table = [
  [healthCheckFailure, SCENARIO_TABLE['health-check-failure']],
  [regionOutage, SCENARIO_TABLE['region-outage']],
  [plannedMaintenance, SCENARIO_TABLE['planned-maintenance']],
  [databaseFailure, SCENARIO_TABLE['database-failure']],
  [drTest, SCENARIO_TABLE['dr-test']],
] as const

const stepsOf = (receipts: readonly StoredReceipt[], type: string): string[] =>
  receipts.filter((r) => r.type === type).map((r) => (r.data as { step: string }).step)

describe('honua: the scenario table (runbook 001)', () => {
  for (const [scenario, row] of table) {
    it.each([0, 1, 2])(
      `${scenario.name}: meets RTO and RPO of the table (seed %i)`,
      async (seed) => {
        const { result } = await runDrill(scenario, { seed })
        expect(result.checks.filter((c) => !c.passed)).toEqual([])
        const [f] = result.failovers
        expect(f!.rto.measuredMs).toBeLessThanOrEqual(row.rtoMs)
        expect(f!.rpo.measuredMs).toBeLessThanOrEqual(row.rpoMs)
        expect(f!.mode).toBe(row.type === 'automated' ? 'automatic' : 'manual')
      },
    )
  }

  it('health-check failure: three failed checks 30 s apart (90 s) mark the region down', async () => {
    const { report } = await runDrill(healthCheckFailure, { seed: 4 })
    const op = report.operations[0]!
    expect(op.detection[0]!.reasons).toContainEqual(
      expect.objectContaining({ detector: 'consecutiveFailures', value: 3, threshold: 3 }),
    )
    expect(op.decidedAt! - op.detectedAt!).toBe(60_000)
    // Automated: traffic first, then the replica; no smoke test in front of Route 53.
    const steps = op.steps.map((s) => s.step)
    expect(steps.indexOf('shift-traffic')).toBeLessThan(steps.indexOf('promote'))
    expect(steps).not.toContain('smoke-dr')
  })

  it('maintenance mode (503 from the primary) triggers the automated failover and loses nothing', async () => {
    const { result } = await runDrill(maintenanceMode, { seed: 0 })
    expect(result.passed).toBe(true)
    expect(result.failovers[0]!.mode).toBe('automatic')
    expect(result.truth.lostWrites).toBe(0)
  })

  it('planned maintenance: final snapshot and fence before the promotion, DR smoke-tested first', async () => {
    const { receipts, honua } = await runDrill(plannedMaintenance, { seed: 0 })
    const done = stepsOf(receipts, 'step.succeeded')
    for (const [a, b] of [
      ['snapshot', 'promote'],
      ['fence', 'promote'],
      ['smoke-dr', 'shift-traffic'],
      ['shift-traffic', 'cleanup-test-dns'],
    ] as const) {
      expect(done.indexOf(a), `${a} before ${b}`).toBeLessThan(done.indexOf(b))
    }
    expect(honua.changes()).toEqual([`${TEST_RECORD} → us-west-2`, `${TEST_RECORD} deleted`])
    expect(honua.records().size).toBe(0)
  })

  it('aborts the promotion when replication lag is above 60 s, with the values recorded', async () => {
    const { result, report } = await runDrill(lagAbort, { seed: 0 })
    expect(result.passed).toBe(true)
    expect(result.failovers).toEqual([])
    const rpo = report.refusals.flatMap((r) => r.guards).find((g) => g.name === 'rpo' && !g.ok)!
    expect(rpo.limit).toBe(60_000)
    expect(Number(rpo.value)).toBeGreaterThan(60_000)
    expect(result.truth.lostWrites).toBe(0)
  })

  it('DR test: there and back (the rollback script) within ~30 min, 10 % → 50 % → 100 %', async () => {
    const { result } = await runDrill(drTest, { seed: 0 })
    expect(result.passed).toBe(true)
    const [back] = result.failbacks
    expect(back!.stages).toEqual([
      { percent: 10, ok: true },
      { percent: 50, ok: true },
      { percent: 100, ok: true },
    ])
    const [f] = result.failovers
    expect(f!.rto.measuredMs! + back!.durationMs).toBeLessThanOrEqual(
      SCENARIO_TABLE['dr-test'].rtoMs,
    )
    expect(result.truth.lostWrites).toBe(0)
  })

  it('a DR deployment that fails its smoke test is never given production traffic', async () => {
    const { result, report, honua } = await runDrill(plannedMaintenance, {
      seed: 0,
      memory: { broken: true },
    })
    expect(result.failovers).toEqual([])
    expect(result.rollbacks).toBe(1)
    const failed = report.operations[0]!.steps.find((s) => s.step === 'smoke-dr')!
    expect(failed.outcome).toBe('failed')
    expect(failed.error).toMatch(/5 of 5 checks failed/)
    expect(report.operations[0]!.steps.map((s) => s.step)).not.toContain('shift-traffic')
    // The test record was deleted by compensation.
    expect(honua.records().size).toBe(0)
  })

  it('beats the sequential runbook: scale-up, smoke test and promotion run side by side', async () => {
    const { result, report } = await runDrill(plannedMaintenance, { seed: 0 })
    const timing = report.operations[0]!.timing!
    expect(timing.savedMs).toBeGreaterThanOrEqual(3 * 60_000)
    expect(result.failovers[0]!.rto.measuredMs).toBeLessThan(runbookMs)
  })
})
