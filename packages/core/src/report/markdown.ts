/**
 * The Markdown view of a {@link LedgerReport}: verdict, one section per
 * operation (detection, decision and guards, steps, RTO/RPO against the
 * targets, parallel against sequential time), refusals, verification and
 * replay, and the timeline. Pure.
 *
 * @module
 */
import { formatDuration, formatOffset } from '../format.js'
import type { Measured } from '../receipts.js'
import { detectorValueText, guardValueText } from './_values.js'
import type { LedgerReport, ReportOperation } from './ledger-report.js'

/** Escapes text for a Markdown table cell. */
export function markdownCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/</g, '&lt;')
}

const mark = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? '✅' : '❌')

/** `✅ 28 s (target 10 min)`. */
export function measuredText(m: Measured | null): string {
  if (m === null) return '—'
  return `${mark(m.met)} ${formatDuration(m.measuredMs)} (target ${formatDuration(m.targetMs)})`
}

/** The one-line verdict: verification, replay and objectives. */
export function reportVerdict(r: LedgerReport): string {
  const v = r.verification
  const missed = r.operations.filter(
    (o) => (o.rto !== null && !o.rto.met) || (o.rpo !== null && !o.rpo.met),
  ).length
  const failed = r.operations.filter((o) => o.outcome === 'failed').length
  return [
    v === null ? 'not verified' : v.status,
    `replay ${r.replay.status}`,
    `${r.operations.length} operation${r.operations.length === 1 ? '' : 's'}`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    missed === 0 ? 'objectives met' : `${missed} missed an objective`,
  ].join(' · ')
}

function operationSection(o: ReportOperation, i: number, start: string | null): string[] {
  const out = [
    `## ${i + 1}. ${markdownCell(`${o.kind} ${o.from ?? '?'} → ${o.to ?? '?'}`)} — ${o.outcome}`,
    '',
    `Operation ${markdownCell(o.id)}${o.severity === null ? '' : `, ${o.severity}`}${o.mode === null ? '' : ` ${o.mode}`}.`,
    '',
  ]
  if (o.reason !== null) out.push(`> ${markdownCell(o.reason)}`, '')
  out.push(
    '| detected | decided | completed | RTO | RPO |',
    '|---|---|---|---|---|',
    `| ${formatOffset(o.detectedAt)} | ${formatOffset(o.decidedAt)} | ${formatOffset(o.completedAt)} | ${measuredText(o.rto)} | ${measuredText(o.rpo)} |`,
    '',
  )
  if (o.detection.length > 0) {
    out.push('**Detection**', '')
    for (const d of o.detection) {
      const why = d.reasons.map(
        (x) =>
          `${x.detector} = ${detectorValueText(x.detector, x.value)} (threshold ${detectorValueText(x.detector, x.threshold)})`,
      )
      out.push(
        `- ${formatOffset(d.at)} ${markdownCell(d.region)} ${d.from} → **${d.to}**${why.length === 0 ? '' : `: ${why.join(', ')}`}`,
      )
    }
    out.push('')
  }
  if (o.guards.length > 0) {
    out.push(
      '**Decision: guards**',
      '',
      '| | guard | value | limit | why |',
      '|---|---|---|---|---|',
    )
    for (const g of o.guards) {
      out.push(
        `| ${mark(g.ok)} | ${markdownCell(g.name)} | ${markdownCell(guardValueText(g.name, g.value, start))} | ${markdownCell(guardValueText(g.name, g.limit, start))} | ${markdownCell(g.reason)}${g.overriddenBy === undefined ? '' : ` (overridden by ${markdownCell(g.overriddenBy)})`} |`,
      )
    }
    out.push('')
  }
  if (o.steps.length > 0) {
    out.push(
      '**Steps**',
      '',
      '| | step | start | duration | attempts | note |',
      '|---|---|---|---|---|---|',
    )
    for (const s of o.steps) {
      const note = [
        s.error ?? '',
        s.compensated === undefined
          ? ''
          : `undone at ${formatOffset(s.compensated.at)}${s.compensated.ok ? '' : ' (undo failed)'}`,
      ]
        .filter((x) => x !== '')
        .join('; ')
      out.push(
        `| ${s.outcome === 'running' ? '⏳' : mark(s.outcome === 'succeeded')} | ${markdownCell(s.step)} | ${formatOffset(s.startedAt)} | ${formatDuration(s.durationMs)} | ${s.attempts} | ${markdownCell(note)} |`,
      )
    }
    out.push('')
  }
  if (o.timing !== null) {
    const t = o.timing
    out.push(
      `Steps one after another (a runbook's sequential timeline): ${formatDuration(t.sequentialMs)}; this plan: ${formatDuration(t.elapsedMs)}${t.savedMs > 0 ? ` (${formatDuration(t.savedMs)} saved by running independent steps in parallel)` : ''}.`,
      '',
    )
  }
  if (o.stages.length > 0) {
    out.push(`Stages: ${o.stages.map((s) => `${s.percent} % ${mark(s.ok)}`).join(', ')}.`, '')
  }
  if (o.error !== null) out.push(`Failed: ${markdownCell(o.error)}`, '')
  return out
}

/** Options of {@link ledgerReportMarkdown}. */
export interface LedgerMarkdownOptions {
  /** End with the table of every event. Default true. */
  readonly timeline?: boolean
}

/** The Markdown report. */
export function ledgerReportMarkdown(
  report: LedgerReport,
  options: LedgerMarkdownOptions = {},
): string {
  const r = report
  const start = r.start
  const out = [
    `# ${markdownCell(r.title)}`,
    '',
    `**${reportVerdict(r)}**`,
    '',
    `${r.receipts} receipts${r.location === null ? '' : ` in ${markdownCell(r.location)}`}${r.start === null ? '' : `, from ${r.start} to ${r.end}`}. Times are since the first receipt.`,
    '',
  ]
  if (r.operations.length === 0) out.push('No failover, failback or rollback is recorded.', '')
  r.operations.forEach((o, i) => {
    out.push(...operationSection(o, i, r.start))
  })
  if (r.refusals.length > 0) {
    out.push(
      '## Refused decisions',
      '',
      '| at | decision | guard | value | limit | why |',
      '|---|---|---|---|---|---|',
    )
    for (const x of r.refusals) {
      for (const g of x.guards.filter((g) => !g.ok)) {
        out.push(
          `| ${formatOffset(x.at)} | ${markdownCell(`${x.from ?? '?'} → ${x.to ?? '(none)'}`)} | ${markdownCell(g.name)} | ${markdownCell(guardValueText(g.name, g.value, start))} | ${markdownCell(guardValueText(g.name, g.limit, start))} | ${markdownCell(g.reason)} |`,
        )
      }
    }
    out.push('')
  }
  if (r.overrides.length > 0) {
    out.push('## Overrides', '')
    for (const o of r.overrides) {
      out.push(
        `- ${formatOffset(o.at)} ${markdownCell(o.guard)} overridden by ${markdownCell(o.by)} (${markdownCell(o.operation)})`,
      )
    }
    out.push('')
  }
  out.push('## Verification', '')
  if (r.verification === null) out.push('- The ledger was not verified for this report.')
  else {
    out.push(`- Ledger: **${r.verification.status}** (${r.verification.checked} receipts checked)`)
    for (const p of r.verification.problems.slice(0, 20)) out.push(`  - ${markdownCell(p)}`)
  }
  out.push(
    `- Replay through the machine: **${r.replay.status}** (${r.replay.transitions} transitions, final state ${r.replay.final ?? 'unknown'})`,
  )
  for (const p of r.replay.problems.slice(0, 20)) out.push(`  - ${markdownCell(p)}`)
  if (options.timeline === false) return `${out.join('\n')}\n`
  out.push('', '## Timeline', '', '| at | what | |', '|---|---|---|')
  for (const e of r.events) {
    out.push(`| ${formatOffset(e.at)} | ${e.kind}: ${markdownCell(e.text)} | ${mark(e.ok)} |`)
  }
  return `${out.join('\n')}\n`
}
