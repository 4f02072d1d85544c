/**
 * `baton report <ledger> [--out FILE] [--html FILE] [--json]`: what the
 * engine did, read back from any ledger — detection, decision, each step,
 * RTO/RPO against the targets, and the ledger's verification — as Markdown
 * (standard output, or `--out`), a self-contained HTML page with an SVG
 * timeline (`--html`), or JSON.
 *
 * Exit codes: 0 the ledger verified, 1 it did not (the report is still
 * written, saying so), 2 usage or I/O error.
 *
 * @module
 */
import { buildLedgerReport, ledgerReportHtml, ledgerReportMarkdown } from '@baton/core'
import { type Receipt, verify } from '@baton/ledger'
import { openLedger } from '../_ledger-dir.js'
import { EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { type CliIo, println, writeOutputFile } from '../io.js'

/** Options of `baton report`. */
export interface ReportOptions {
  /** Write the Markdown here instead of standard output. */
  readonly out?: string
  /** Also write the HTML page here. */
  readonly html?: string
  /** Print the report as JSON. */
  readonly json: boolean
  /** Heading of the report. */
  readonly title?: string
}

/** Receipts as stored: one JSON object per line; lines that do not parse are left to `verify`. */
function parseLine(bytes: Uint8Array): Receipt | undefined {
  try {
    const r = JSON.parse(new TextDecoder().decode(bytes)) as Receipt
    return typeof r === 'object' &&
      r !== null &&
      typeof r.type === 'string' &&
      typeof r.ts === 'string'
      ? r
      : undefined
  } catch {
    return undefined
  }
}

/** Runs `baton report`. */
export async function reportCommand(
  io: CliIo,
  spec: string,
  options: ReportOptions,
): Promise<number> {
  const store = await openLedger(io, spec, { readOnly: true, name: '<ledger>' })
  let receipts: Receipt[]
  let verification: Awaited<ReturnType<typeof verify>>
  try {
    receipts = []
    for await (const line of store.read()) {
      const r = parseLine(line.bytes)
      if (r !== undefined) receipts.push(r)
    }
    verification = await verify(store)
  } finally {
    await store.close()
  }
  const report = await buildLedgerReport(receipts, {
    title: options.title ?? `Ledger report: ${spec}`,
    location: store.location,
    verification,
  })
  const markdown = ledgerReportMarkdown(report)
  if (options.html !== undefined) {
    const path = await writeOutputFile(io, options.html, ledgerReportHtml(report), 'HTML report')
    if (!options.json) io.stderr.write(`HTML report: ${path}\n`)
  }
  if (options.out !== undefined) {
    const path = await writeOutputFile(io, options.out, markdown, 'report')
    if (!options.json) io.stderr.write(`Report: ${path}\n`)
  }
  if (options.json) println(io.stdout, JSON.stringify(report, null, 2))
  else if (options.out === undefined) io.stdout.write(markdown)
  return verification.status === 'VERIFIED' ? EXIT_OK : EXIT_INTEGRITY
}
