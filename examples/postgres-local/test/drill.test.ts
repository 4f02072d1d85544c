import { localDrillReportMarkdown, runPostgresFailoverDrill } from '@baton/adapters-postgres/drill'
import { describe, expect, it } from 'vitest'

describe('examples/postgres-local', () => {
  it('fails over with an asynchronous standby cut off before the kill: acknowledged rows lost, measured, every check held', async () => {
    const report = await runPostgresFailoverDrill({ synchronous: false, stallReplicationMs: 500 })
    const markdown = localDrillReportMarkdown(report)
    expect(
      report.checks.filter((c) => !c.ok),
      markdown,
    ).toEqual([])
    expect(report.synchronous).toBe(false)
    // The primary acknowledged writes the standby never received: they are gone, and the drill counts them.
    expect(report.rpo.lostRows).toBeGreaterThan(0)
    expect(report.rpo.lostRows).toBeLessThan(report.rpo.acknowledged)
    expect(report.rows.east).toBe(report.rows.west)
    // baton's own estimate (the Database adapter watches replication) saw the gap too.
    expect(report.recordedRpoMs).toBeGreaterThanOrEqual(300)
    expect(report.detectionMs).toBeGreaterThan(0)
    expect(report.rtoMs).toBeGreaterThan(0)
    expect(markdown).toMatch(/\| RPO \(acknowledged rows lost\) \| \d+ of \d+ \|/)
    expect(markdown).toMatch(/failback stages \(east's share\) \| 10 → 50 → 100 %/)
  })
})
