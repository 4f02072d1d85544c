/**
 * `pnpm --filter @baton/example-ggen-receipts drill [seed] [--html <dir>]`: runs the four
 * recovery scenarios of runbook 004 and prints each report and its
 * contract receipt; exits 1 when one fails.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  formatDuration,
  ledgerReportHtml,
  type ReportedDrill,
  reportedDrillText,
} from '@baton/core'
import { checkContract, contractReceipts, contractView } from './contracts.ts'
import { runCorruptedLedgerDrill } from './corrupted-ledger.ts'
import { runFailoverDrill } from './drills.ts'
import { runImageRebuildDrill } from './image-rebuild.ts'
import { FAILOVER_SCENARIOS } from './scenarios.ts'

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
const out = (s: string): boolean => process.stdout.write(`${s}\n`)
let failed = 0
const contract = (r: Parameters<typeof contractView>[0]): void => {
  const problems = checkContract(r.data)
  out(
    `Receipt contract ${r.type}${problems.length === 0 ? ' (matches the runbook)' : ` — ${problems.join('; ')}`}:`,
  )
  out(JSON.stringify(contractView(r), null, 2))
  if (problems.length > 0) failed++
}

for (const s of FAILOVER_SCENARIOS) {
  const d = await runFailoverDrill(s, { seed })
  out(reportedDrillText(d))
  writeHtml(d)
  for (const r of contractReceipts(d.receipts)) contract(r)
  out('')
  if (!d.result.passed) failed++
}

const dir = await mkdtemp(join(tmpdir(), 'ggen-receipts-'))
try {
  const c = await runCorruptedLedgerDrill({ dir })
  out('# ggen: corrupted-ledger\n')
  out(
    `12:00 UTC daily export: ${c.export.status}, ${String(c.export.receipts)} receipts, bundle SHA-256 ${c.export.entry?.sha256 ?? '?'}`,
  )
  out(
    `13:00 hourly verification of the live ledger: ${c.detected.status} — ${c.detected.problems.map((p) => `${p.kind} at receipt ${String(p.seq)}`).join(', ')}`,
  )
  out(
    `Restore from the export: ${c.restore.status}, ${String(c.restore.restored)} receipts; restored ledger ${c.verified.status}`,
  )
  out(
    `Lost (written after the export): ${String(c.lost.count)} receipts, ${c.lost.fromTs} to ${c.lost.toTs}`,
  )
  out(`Detection to verified restore: ${formatDuration(c.rtoMs)}`)
  contract(c.contract)
  if (c.verified.status !== 'VERIFIED') failed++
} finally {
  await rm(dir, { recursive: true, force: true })
}

const im = await runImageRebuildDrill()
out('\n# ggen: lost-image\n')
out(`Image rebuilt and deployed in ${formatDuration(im.rtoMs)} (target 15 min)`)
contract(im.contract)
process.exitCode = failed === 0 ? 0 : 1
