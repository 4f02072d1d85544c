import { describe, expect, it } from 'vitest'
import { builtinScenario, drillWithReport, reportedDrillText } from '../src/index.js'

describe('drillWithReport', () => {
  it('runs the drill and reports its ledger, with the drill’s verification', async () => {
    const d = await drillWithReport(builtinScenario('region-outage'), { seed: 3, title: 'Outage' })
    expect(d.result.passed).toBe(true)
    expect(d.receipts).toHaveLength(d.result.ledger.receipts)
    expect(d.report.title).toBe('Outage')
    expect(d.report.verification).toMatchObject({ status: 'VERIFIED', checked: d.receipts.length })
    const [op] = d.report.operations
    expect(op).toMatchObject({ kind: 'failover', outcome: 'completed', from: 'us-east-1' })
    expect(op!.rto!.measuredMs).toBe(d.result.failovers[0]!.rto.measuredMs)
  })

  it('still calls the caller’s inspect hook', async () => {
    let seen = 0
    await drillWithReport(builtinScenario('region-outage'), {
      seed: 1,
      inspect: ({ receipts }) => {
        seen = receipts.length
      },
    })
    expect(seen).toBeGreaterThan(0)
  })

  it('prints the verdict, failed checks with what was expected, and the report without its timeline', async () => {
    const d = await drillWithReport(
      { ...builtinScenario('region-outage'), expect: { failovers: 2 } },
      { seed: 0 },
    )
    const text = reportedDrillText(d)
    expect(text).toMatch(/^Drill region-outage \(seed 0\): FAILED — /)
    expect(text).toContain('FAIL failovers: 1 (expected 2)')
    expect(text).toContain('ok   ledger verifies (invariant): "VERIFIED"')
    expect(text).toContain('## 1. failover us-east-1 → us-west-2 — completed')
    expect(text).toContain('## Verification')
    expect(text).not.toContain('## Timeline')
  })
})
