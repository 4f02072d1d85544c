/**
 * `pnpm --filter @baton/example-asset-factory-gcp drill [seed]`: runs the
 * drills and prints their reports; exits 1 when one fails.
 *
 * @module
 */
import { formatDuration, reportedDrillText } from '@baton/core'
import { runAll } from './drills.ts'
import { RUNBOOK_TIMELINE } from './plan.ts'

const seed = Number(process.argv[2] ?? 0)
const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)
let failed = 0
for (const d of await runAll(seed)) {
  process.stdout.write(`${reportedDrillText(d)}\n`)
  const f = d.result.failovers[0]
  if (f !== undefined) {
    process.stdout.write(
      `Runbook 000 by hand: ${formatDuration(runbookMs)} (T+0 … T+2.5 h); this plan: RTO ${formatDuration(f.rto.measuredMs)}.\n\n`,
    )
  }
  if (!d.result.passed) failed++
}
process.exitCode = failed === 0 ? 0 : 1
