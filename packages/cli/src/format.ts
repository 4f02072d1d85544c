/**
 * Human-readable rendering of receipts and reports.
 *
 * @module
 */
import type { CheckpointCheck, ProblemKind, StoredReceipt, VerifyReport } from '@baton/ledger'

const numbers = new Intl.NumberFormat('en-US')

/** `10247` → `10,247`. */
export function count(n: number): string {
  return numbers.format(n)
}

/** `1536` → `1.5 KiB`. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

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

/** The readable summary of a verification report. */
export function verifySummary(report: VerifyReport, location: string, listed: number): string[] {
  const out = [
    `Ledger: ${location}`,
    `Receipts checked: ${count(report.checked)}`,
    `Valid: ${count(report.valid)}`,
  ]
  for (const [kind, label] of Object.entries(LABELS) as [ProblemKind, string][]) {
    out.push(`${label}: ${count(report.counts[kind])}`)
  }
  if (report.anchor !== undefined) {
    out.push(
      `Anchor: begins at receipt ${count(report.anchor.seq)} (receipts 0–${count(report.anchor.seq - 1)} retired)`,
    )
  }
  if (report.checkpoint !== undefined) out.push(...checkpointLines(report.checkpoint))
  if (report.status === 'VERIFIED') {
    out.push(`Head: ${count(report.size)} receipts, last hash ${report.head ?? '-'}`)
    out.push('Chain integrity: VERIFIED')
    return out
  }
  const total = report.problems.length + report.problemsOmitted
  out.push('')
  out.push(`Problems (${count(total)}${total > listed ? `, first ${count(listed)} shown` : ''}):`)
  for (const p of report.problems.slice(0, listed)) out.push(`  ${p.kind}: ${p.message}`)
  out.push('')
  out.push(`Chain integrity: FAILED (${count(total)} problem${total === 1 ? '' : 's'})`)
  return out
}

const CHECKPOINT_STATUS: Record<CheckpointCheck['status'], string> = {
  matches: 'MATCHES (size and root agree)',
  'bad-signature': 'NOT CHECKED: the checkpoint does not verify with the given keys',
  truncated: 'FAILED: the ledger is shorter than the checkpoint',
  fork: 'FAILED: the ledger does not have the checkpoint root',
}

/** The summary lines about a checkpoint the ledger was held to. */
export function checkpointLines(c: CheckpointCheck): string[] {
  const out: string[] = []
  if (c.size !== null) {
    const root = Buffer.from(c.root ?? '', 'hex').toString('base64')
    out.push(`Checkpoint: ${c.origin}, ${count(c.size)} receipts, root ${root}`)
    out.push(`Signed by: ${c.signedBy.join(', ')}`)
  }
  out.push(`Checkpoint: ${CHECKPOINT_STATUS[c.status]}`)
  return out
}

/** One receipt as a line: seq, time, type, short hash, data. */
export function receiptLine(r: StoredReceipt): string {
  return `#${r.seq}  ${r.ts}  ${r.type}  ${r.hash.slice(0, 12)}  ${JSON.stringify(r.data)}`
}
