/**
 * `pnpm --filter @baton/example-aurum-kubernetes drill [seed]`: runs the
 * drills, prints each report and the notifications people received;
 * exits 1 when a drill fails.
 *
 * @module
 */
import { formatDuration, type Notification, reportedDrillText } from '@baton/core'
import { runDrill } from './drills.ts'
import { RUNBOOK_TIMELINE } from './plan.ts'
import { SCENARIOS } from './scenarios.ts'

const seed = Number(process.argv[2] ?? 0)
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
