/**
 * `pnpm --filter @baton/example-aurum-kubernetes drill [seed] [--html <dir>]`: runs the
 * drills, prints each report and the notifications people received;
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
  type Notification,
  type ReportedDrill,
  reportedDrillText,
} from '@baton/core'
import { runDrill } from './drills.ts'
import { RUNBOOK_TIMELINE } from './plan.ts'
import { SCENARIOS } from './scenarios.ts'

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
for (const scenario of SCENARIOS) {
  let sent: readonly { at: number; notification: Notification }[] = []
  const d = await runDrill(scenario, {
    seed,
    inspect: ({ world }) => {
      sent = world.truth.notifications()
    },
  })
  process.stdout.write(`${reportedDrillText(d)}\n`)
  writeHtml(d)
  const start = Date.parse(d.result.startedAt)
  for (const n of sent) {
    process.stdout.write(
      `--- notification at T+${formatDuration(n.at - start)} (${n.notification.kind})\n${n.notification.title}\n${n.notification.body}\n`,
    )
  }
  const f = d.result.failovers[0]
  if (f !== undefined) {
    process.stdout.write(
      `\nRunbook 002 by hand: ${formatDuration(runbookMs)} of phases; this plan: RTO ${formatDuration(f.rto.measuredMs ?? 0)}.\n\n`,
    )
  }
  if (!d.result.passed) failed++
}
process.exitCode = failed === 0 ? 0 : 1
