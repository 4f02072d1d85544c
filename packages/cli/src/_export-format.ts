/**
 * Readable summaries of exports, export verifications and restores.
 *
 * @module
 */
import type {
  ExportResult,
  ProblemKind,
  RestoreResult,
  VerifyExportReport,
  VerifyProblem,
} from '@baton/ledger'
import { count } from './format.js'

const LABELS: Record<ProblemKind, string> = {
  'hash-mismatch': 'Hash mismatches',
  'broken-link': 'Broken links',
  gap: 'Gaps',
  duplicate: 'Duplicates',
  reorder: 'Out of order',
  fork: 'Forks',
  malformed: 'Malformed lines',
  truncated: 'Truncations',
  'bad-signature': 'Bad signatures',
}

/** One problem as a line: kind, where, what. */
function problemLine(p: VerifyProblem): string {
  return `  ${p.kind}: ${p.file === undefined ? '' : `${p.file}: `}${p.message}`
}

/** The readable summary of an export run. */
export function exportSummary(result: ExportResult, target: string): string[] {
  const out: string[] = [`Export: ${target}`]
  const e = result.entry
  if (e !== undefined) {
    out.push(
      `Exported receipts ${e.firstSeq}–${e.lastSeq} (${count(result.receipts)}) for ${e.date} to ${e.key} (${count(e.bytes)} bytes, ${e.encoding})`,
    )
    out.push(`Manifest entry: ${e.index}, sha256 ${e.sha256}`)
  } else {
    out.push(
      `${result.status === 'already-exported' ? 'Already exported' : 'Nothing to export'}: ${result.message}`,
    )
  }
  if (result.last !== undefined) {
    out.push(
      `The export holds receipts 0–${result.last.lastSeq} (${count(result.last.index + 1)} manifest ${result.last.index === 0 ? 'entry' : 'entries'})`,
    )
  }
  if (result.leftovers.length > 0) {
    out.push(`Removed ${result.leftovers.length} bundle(s) left by an interrupted export`)
  }
  out.push(
    result.retired.length === 0
      ? 'Retention: nothing to delete'
      : `Retention: deleted ${result.retired.length} old bundle(s): ${result.retired.join(', ')}`,
  )
  return out
}

/** The readable summary of `verifyExport`, like `verify`'s. */
export function verifyExportSummary(report: VerifyExportReport, listed: number): string[] {
  const b = report.bundles
  const out = [
    `Export: ${report.target}`,
    `Manifest entries: ${count(report.entries)}`,
    `Bundles: ${count(b.verified)} verified, ${count(b.retired)} retired by retention, ${count(b.missing)} missing, ${count(b.damaged)} damaged`,
    `Receipts checked: ${count(report.checked)}`,
    `Valid: ${count(report.valid)}`,
  ]
  for (const [kind, label] of Object.entries(LABELS) as [ProblemKind, string][]) {
    out.push(`${label}: ${count(report.counts[kind])}`)
  }
  if (report.unreferenced.length > 0) {
    out.push(
      `Unreferenced bundles (left by interrupted exports; the next export removes them): ${report.unreferenced.length}`,
    )
  }
  if (report.status === 'VERIFIED') {
    out.push(`Head: ${count(report.size)} receipts, last hash ${report.head}`)
    out.push('Export integrity: VERIFIED')
    return out
  }
  const total = report.problems.length + report.problemsOmitted
  out.push('')
  out.push(`Problems (${count(total)}${total > listed ? `, first ${count(listed)} shown` : ''}):`)
  for (const p of report.problems.slice(0, listed)) out.push(problemLine(p))
  out.push('')
  out.push(`Export integrity: FAILED (${count(total)} problem${total === 1 ? '' : 's'})`)
  return out
}

/** The readable summary of a restore. */
export function restoreSummary(
  result: RestoreResult,
  from: string,
  into: string,
  listed: number,
): string[] {
  const first = result.anchor?.seq ?? 0
  const out = [
    result.restored === 0
      ? `Restored no receipts from ${from} into ${into}`
      : `Restored ${count(result.restored)} receipts (${first}–${result.restoredThrough}) from ${from} into ${into}`,
    `The export held ${count(result.exportSize)} receipts`,
  ]
  const retired = result.retired
  if (retired.count > 0) {
    out.push(
      `Retired: ${count(retired.count)} receipt${retired.count === 1 ? '' : 's'}, ${retired.fromSeq}–${retired.toSeq}, from ${retired.fromTs} to ${retired.toTs} (their bundles are gone: retention)`,
    )
    out.push(
      `Anchor: the ledger begins at receipt ${first}, as of ${result.anchor?.source ?? 'the manifest'}`,
    )
  }
  const lost = result.lost
  if (lost.count === 0) out.push('Lost: none')
  else {
    out.push(
      `LOST: ${count(lost.count)} receipt${lost.count === 1 ? '' : 's'}, ${lost.fromSeq}–${lost.toSeq}, from ${lost.fromTs} to ${lost.toTs}`,
    )
    out.push(`Reason: ${result.reason}`)
    for (const p of result.problems.slice(0, listed)) out.push(problemLine(p))
  }
  out.push(`Recorded: receipt #${result.receipt.seq} ${result.receipt.type} ${result.receipt.hash}`)
  out.push(lost.count === 0 ? 'Restore: COMPLETE' : 'Restore: COMPLETED WITH DATA LOSS')
  return out
}
