/**
 * `pnpm --filter @baton/example-somaagent-route53 drill [seed] [--html <dir>]`: runs the drills,
 * prints each report, the residency mode changes and a summary;
 * exits 1 when a drill fails.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  formatDuration,
  ledgerReportHtml,
  type ReportedDrill,
  reportedDrillText,
} from '@baton/core'
import { runAll } from './drills.ts'
import { RUNBOOK_TIMELINE } from './plan.ts'

/** `[seed] [--html <dir>]`: the seed, and where to write each drill's HTML report. */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { html: { type: 'string' } },
})
if (positionals.length > 1) throw new Error(`one seed at most, got ${positionals.join(' ')}`)
const seed = Number(positionals[0] ?? 0)
if (!Number.isSafeInteger(seed)) throw new Error(`seed: not an integer: ${positionals[0]}`)
const htmlDir = values.html
if (htmlDir !== undefined) mkdirSync(htmlDir, { recursive: true })
/** Writes `d`'s HTML report when asked to. */
const writeHtml = (d: ReportedDrill): void => {
  if (htmlDir === undefined) return
  const path = join(htmlDir, `${d.result.scenario}.html`)
  writeFileSync(path, ledgerReportHtml(d.report))
  process.stdout.write(`HTML report: ${path}
`)
}
const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)
const summary = ['| drill | passed | RTO (target) | RPO (target) |', '|---|---|---|---|']
let failed = 0
for (const d of await runAll(seed)) {
  process.stdout.write(`${reportedDrillText(d)}\n`)
  writeHtml(d)
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
