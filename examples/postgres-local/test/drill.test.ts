import { localDrillReportMarkdown, runPostgresFailoverDrill } from '@baton/adapters-postgres/drill'
import { describe, expect, it } from 'vitest'

describe('examples/postgres-local', () => {
  it('fails over with an asynchronous standby: RPO measured in rows, every check held, figures in the report', async () => {
    const report = await runPostgresFailoverDrill({ synchronous: false })
    const markdown = localDrillReportMarkdown(report)
    expect(
      report.checks.filter((c) => !c.ok),
      markdown,
    ).toEqual([])
    expect(report.synchronous).toBe(false)
    expect(report.rpo.lostRows).toBeGreaterThanOrEqual(0)
    expect(report.rpo.lostRows).toBeLessThanOrEqual(report.rpo.acknowledged)
    expect(report.detectionMs).toBeGreaterThan(0)
    expect(report.rtoMs).toBeGreaterThan(0)
    expect(markdown).toMatch(/\| RPO \(acknowledged rows lost\) \| \d+ of \d+ \|/)
    expect(markdown).toMatch(/failback stages \(east's share\) \| 10 → 50 → 100 %/)
  })
})
