/**
 * `pnpm --filter @baton/example-honua-aws drill [seed]`: runs the scenario
 * table as drills, prints each report and a summary against the table;
 * exits 1 when a drill fails.
 *
 * @module
 */
import { formatDuration, reportedDrillText } from '@baton/core'
import { runAll } from './drills.ts'
import { RUNBOOK_TIMELINE } from './plan.ts'

const seed = Number(process.argv[2] ?? 0)
const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)
const summary = ['| drill | passed | RTO (target) | RPO (target) |', '|---|---|---|---|']
let failed = 0
for (const d of await runAll(seed)) {
  process.stdout.write(`${reportedDrillText(d)}\n`)
  const r = d.result
  const f = r.failovers[0]
  summary.push(
    `| ${r.scenario} | ${r.passed ? 'yes' : 'NO'} | ${f === undefined ? '—' : `${formatDuration(f.rto.measuredMs)} (${formatDuration(r.targets.rtoMs)})`} | ${f === undefined ? '—' : `${formatDuration(f.rpo.measuredMs)} (${formatDuration(r.targets.rpoMs)})`} |`,
  )
  if (!r.passed) failed++
}
process.stdout.write(
  `## Summary (seed ${String(seed)})\n\n${summary.join('\n')}\n\nThe manual procedure by hand, one step after another: ${formatDuration(runbookMs)}.\n`,
)
process.exitCode = failed === 0 ? 0 : 1
