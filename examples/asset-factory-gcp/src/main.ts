/**
 * `pnpm --filter @baton/example-asset-factory-gcp drill [seed] [--html <dir>]`: runs the
 * drills and prints their reports; exits 1 when one fails.
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
let failed = 0
for (const d of await runAll(seed)) {
  process.stdout.write(`${reportedDrillText(d)}\n`)
  writeHtml(d)
  const f = d.result.failovers[0]
  if (f !== undefined) {
    process.stdout.write(
      `Runbook 000 by hand: ${formatDuration(runbookMs)} (T+0 … T+2.5 h); this plan: RTO ${formatDuration(f.rto.measuredMs)}.\n\n`,
    )
  }
  if (!d.result.passed) failed++
}
process.exitCode = failed === 0 ? 0 : 1
