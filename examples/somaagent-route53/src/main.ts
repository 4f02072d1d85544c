/**
 * `pnpm --filter @baton/example-somaagent-route53 drill [seed]`: runs the drills,
 * prints each report, the residency mode changes and a summary;
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
  for (const m of d.soma.modes()) {
    process.stdout.write(
      `Residency: ${m.jurisdiction} users ${m.mode} at T+${formatDuration(m.at - Date.parse(r.startedAt))} (${m.reason})\n`,
    )
  }
  const f = r.failovers[0]
  summary.push(
    `| ${r.scenario} | ${r.passed ? 'yes' : 'NO'} | ${f === undefined ? '—' : `${formatDuration(f.rto.measuredMs)} (${formatDuration(r.targets.rtoMs)})`} | ${f === undefined ? '—' : `${formatDuration(f.rpo.measuredMs)} (${formatDuration(r.targets.rpoMs)})`} |`,
  )
  if (!r.passed) failed++
}
process.stdout.write(
  `## Summary (seed ${String(seed)})\n\n${summary.join('\n')}\n\nScenario 1 by hand, one step after another: ${formatDuration(runbookMs)}.\n`,
)
process.exitCode = failed === 0 ? 0 : 1
