import { describe, expect, it } from 'vitest'
import { checkContract, contractReceipts, contractView } from '../src/contracts.ts'
import { runFailoverDrill } from '../src/drills.ts'
import { FIRESTORE_TARGETS, firestoreFailure, regionalOutage, TARGETS } from '../src/scenarios.ts'

describe('ggen: Firestore failure (scenario 1)', () => {
  it.each([0, 1, 2])(
    'fails over automatically within 5 min, nothing lost (seed %i)',
    async (seed) => {
      const { result } = await runFailoverDrill(firestoreFailure, { seed })
      expect(result.checks.filter((c) => !c.passed)).toEqual([])
      const [f] = result.failovers
      expect(f!.mode).toBe('automatic')
      expect(f!.rto.measuredMs).toBeLessThanOrEqual(FIRESTORE_TARGETS.rtoMs)
      expect(f!.rpo.measuredMs).toBe(0)
      expect(result.truth.lostWrites).toBe(0)
    },
  )

  it('appends a firestore_failover_executed receipt matching the contract, in the verified chain', async () => {
    const { receipts, result, report } = await runFailoverDrill(firestoreFailure, { seed: 0 })
    const [c] = contractReceipts(receipts)
    expect(c!.type).toBe('ggen.firestore_failover_executed')
    expect(checkContract(c!.data)).toEqual([])
    const view = contractView(c!)
    expect(view).toMatchObject({
      receipt_id: c!.id,
      timestamp: c!.ts,
      operation: 'firestore_failover_executed',
      primary_region: 'us-central1',
      secondary_region: 'europe-west1',
      reason: 'primary_deadline_exceeded',
      failure_count: 3,
      status: 'failed_over',
    })
    const op = report.operations[0]!
    expect(view.failover_latency_ms).toBe(op.completedAt! - op.decidedAt!)
    // Detection: three failed checks ~13 s apart (the runbook's ~40 s).
    expect(op.decidedAt! - op.detectedAt!).toBeLessThanOrEqual(40_000)
    expect(op.detection[0]!.reasons[0]).toMatchObject({ detector: 'consecutiveFailures', value: 3 })
    expect(result.ledger.verify.status).toBe('VERIFIED')
    expect(result.ledger.replay.status).toBe('REPLAYED')
  })
})

describe('ggen: regional outage (scenario 2)', () => {
  it.each([0, 1, 2])(
    'waits for the operator, then fails over within 30 min (seed %i)',
    async (seed) => {
      const { result, receipts } = await runFailoverDrill(regionalOutage, { seed })
      expect(result.checks.filter((c) => !c.passed)).toEqual([])
      const [f] = result.failovers
      expect(f!.mode).toBe('manual')
      expect(f!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.rtoMs)
      expect(f!.rpo.measuredMs).toBeLessThanOrEqual(5 * 60_000)
      // Nothing was decided automatically before the operator's command.
      const decided = receipts.filter((r) => r.type === 'failover.decided')
      expect(decided).toHaveLength(1)
      expect((decided[0]!.data as { decision: { mode: string } }).decision.mode).toBe('manual')
    },
  )

  it('appends a regional_failover_completed receipt with the DNS and warm-up timings', async () => {
    const { receipts, report } = await runFailoverDrill(regionalOutage, { seed: 0 })
    const [c] = contractReceipts(receipts)
    expect(checkContract(c!.data)).toEqual([])
    const steps = report.operations[0]!.steps
    const seconds = (id: string) =>
      Math.round(steps.find((s) => s.step === id)!.durationMs! / 1_000)
    expect(contractView(c!)).toMatchObject({
      operation: 'regional_failover_completed',
      primary_region_status: 'unavailable',
      failover_trigger: 'operator_command',
      dns_ttl_seconds: 60,
      dns_propagation_seconds: seconds('shift-traffic'),
      warm_start_duration_seconds: seconds('scale'),
      status: 'secondary_active',
    })
    expect((c!.data as { dns_propagation_seconds: number }).dns_propagation_seconds).toBe(120)
    expect((c!.data as { warm_start_duration_seconds: number }).warm_start_duration_seconds).toBe(
      180,
    )
    const total = (c!.data as { total_failover_time_seconds: number }).total_failover_time_seconds
    expect(total * 1_000).toBeLessThanOrEqual(TARGETS.rtoMs)
    expect(total).toBeGreaterThanOrEqual(15 * 60 - 60)
  })

  it('fails over on its own with the default policy: the runbook’s manual wait costs minutes', async () => {
    const manual = await runFailoverDrill(regionalOutage, { seed: 0 })
    const automatic = await runFailoverDrill(
      {
        ...regionalOutage,
        name: 'regional-outage-automatic',
        faults: [regionalOutage.faults![0]!],
        expect: { failovers: 1 },
      },
      { seed: 0, operatorConfirms: false, contract: 'regional' },
    )
    expect(automatic.result.failovers[0]!.mode).toBe('automatic')
    expect(automatic.result.failovers[0]!.rto.measuredMs!).toBeLessThan(
      manual.result.failovers[0]!.rto.measuredMs! - 5 * 60_000,
    )
  })
})
