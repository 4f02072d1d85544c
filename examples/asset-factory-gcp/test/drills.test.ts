import type { StoredReceipt } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { runDrill } from '../src/drills.ts'
import { RUNBOOK_TIMELINE, TARGETS } from '../src/plan.ts'
import { regionOutage } from '../src/scenarios.ts'

const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)

/** The result a step recorded in its `step.succeeded` receipt. */
function stepResult(receipts: readonly StoredReceipt[], step: string): Record<string, unknown> {
  const r = receipts.find(
    (x) => x.type === 'step.succeeded' && (x.data as { step: string }).step === step,
  )
  expect(r, `no step.succeeded for ${step}`).toBeDefined()
  return (r!.data as { result: Record<string, unknown> }).result
}

describe('asset factory: region outage (runbook 000)', () => {
  it.each([0, 1, 2])('fails over within RTO 4 h and RPO 1 h (seed %i)', async (seed) => {
    const { result, report } = await runDrill(regionOutage, { seed })
    expect(result.checks.filter((c) => !c.passed)).toEqual([])
    expect(result.passed).toBe(true)
    const [f] = result.failovers
    expect(f!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.rtoMs)
    expect(f!.rpo.measuredMs).toBeLessThanOrEqual(TARGETS.rpoMs)
    expect(report.verification?.status).toBe('VERIFIED')
  })

  it('verifies end to end: a job created through the API completes on a worker in us-east1', async () => {
    const { receipts, report } = await runDrill(regionOutage, { seed: 3 })
    const e2e = stepResult(receipts, 'verify-end-to-end')
    expect(e2e).toMatchObject({ workerRegion: 'us-east1', tookMs: 15 * 60_000 })
    expect(stepResult(receipts, 'verify-storage')).toMatchObject({
      region: 'us-east1',
      read: true,
      write: true,
      urlsOk: 3,
    })
    // The end-to-end job runs last: after the promotion, the traffic move and the fleet.
    const steps = report.operations[0]!.steps
    const e2eStart = steps.find((s) => s.step === 'verify-end-to-end')!.startedAt
    for (const s of steps.filter((s) => s.step !== 'verify-end-to-end')) {
      expect(s.finishedAt!).toBeLessThanOrEqual(e2eStart)
    }
  })

  it('beats the sequential runbook: the bucket check runs beside the fleet and the promotion', async () => {
    const { result, report } = await runDrill(regionOutage, { seed: 0 })
    const op = report.operations[0]!
    const storage = op.steps.find((s) => s.step === 'verify-storage')!
    const scale = op.steps.find((s) => s.step === 'scale')!
    expect(storage.startedAt).toBe(scale.startedAt)
    expect(op.timing!.savedMs).toBeGreaterThanOrEqual(10 * 60_000)
    expect(op.timing!.elapsedMs).toBeLessThan(op.timing!.sequentialMs)
    // And the whole recovery is shorter than the runbook's T+0 … T+2.5 h.
    expect(result.failovers[0]!.rto.measuredMs).toBeLessThan(runbookMs)
  })

  it('does not call a failover done when no worker completes the test job: it rolls back', async () => {
    const { result, report } = await runDrill(regionOutage, {
      seed: 0,
      // Jobs take longer than the plan watches them (45 min): the verification fails.
      memory: { jobMs: 2 * 3_600_000 },
    })
    expect(result.failovers).toEqual([])
    expect(result.rollbacks).toBe(1)
    const step = report.operations[0]!.steps.find((s) => s.step === 'verify-end-to-end')!
    expect(step.outcome).toBe('failed')
    expect(step.error).toMatch(/still running after 45 min/)
    expect(result.passed).toBe(false)
  })
})
