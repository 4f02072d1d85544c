/**
 * The HTML view of a {@link LedgerReport}: one self-contained page (inline
 * CSS and SVG, no script, no external reference) with the verdict, one
 * section per operation with its SVG timeline, the steps, RTO/RPO against
 * targets, refusals, verification and the full timeline. Every text from
 * the ledger is escaped. Pure.
 *
 * @module
 */
import { formatDuration, formatOffset } from '../format.js'
import type { Measured } from '../receipts.js'
import { detectorValueText, guardValueText } from './_values.js'
import type { LedgerReport, ReportOperation } from './ledger-report.js'
import { reportVerdict } from './markdown.js'
import { escapeXml, operationTimelineSvg } from './svg.js'

const e = escapeXml

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#cf222e}.verdict{font-weight:600;padding:.5rem .75rem;border-radius:6px;display:inline-block}
.verdict.ok{background:#dafbe1}.verdict.bad{background:#ffebe9}code{font-size:.9em}
svg.timeline{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px;background:#fff}
svg .grid{stroke:#eaeef2}svg .tick,svg .label{font-size:11px;fill:#57606a}
svg .step.succeeded{fill:#2da44e}svg .step.failed{fill:#cf222e}svg .step.running{fill:#bf8700}
svg .mark.detection{fill:#bf8700}svg .mark.decision{fill:#0969da}svg .mark.end{stroke:#1b1f24;stroke-dasharray:4 3}
svg .rto{stroke-width:6}svg .rto.met{stroke:#2da44e}svg .rto.missed{stroke:#cf222e}svg .rto-target{stroke:#cf222e;stroke-dasharray:2 2}
`

const mark = (ok: boolean | undefined): string =>
  ok === undefined ? '' : ok ? '<span class="ok">✔</span>' : '<span class="bad">✘</span>'

function measured(m: Measured | null): string {
  if (m === null) return '—'
  return `${mark(m.met)} ${e(formatDuration(m.measuredMs))} <small>(target ${e(formatDuration(m.targetMs))})</small>`
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

function operationHtml(o: ReportOperation, i: number, start: string | null): string {
  const parts = [
    `<section class="operation" data-kind="${e(o.kind)}">`,
    `<h2>${i + 1}. ${e(`${o.kind} ${o.from ?? '?'} → ${o.to ?? '?'}`)} — ${e(o.outcome)}</h2>`,
    `<p>Operation <code>${e(o.id)}</code>${o.severity === null ? '' : `, ${e(o.severity)}`}${o.mode === null ? '' : ` ${e(o.mode)}`}.${o.reason === null ? '' : ` ${e(o.reason)}`}</p>`,
    table(
      ['detected', 'decided', 'completed', 'RTO', 'RPO'],
      [
        [
          e(formatOffset(o.detectedAt)),
          e(formatOffset(o.decidedAt)),
          e(formatOffset(o.completedAt)),
          measured(o.rto),
          measured(o.rpo),
        ],
      ],
    ),
    operationTimelineSvg(o),
  ]
  if (o.detection.length > 0) {
    parts.push(
      '<h3>Detection</h3><ul>',
      ...o.detection.map(
        (d) =>
          `<li>${e(formatOffset(d.at))} ${e(d.region)} ${e(d.from)} → <b>${e(d.to)}</b>${d.reasons.length === 0 ? '' : `: ${e(d.reasons.map((x) => `${x.detector} = ${detectorValueText(x.detector, x.value)} (threshold ${detectorValueText(x.detector, x.threshold)})`).join(', '))}`}</li>`,
      ),
      '</ul>',
    )
  }
  if (o.guards.length > 0) {
    parts.push(
      '<h3>Decision: guards</h3>',
      table(
        ['', 'guard', 'value', 'limit', 'why'],
        o.guards.map((g) => [
          mark(g.ok),
          e(g.name),
          e(guardValueText(g.name, g.value, start)),
          e(guardValueText(g.name, g.limit, start)),
          e(g.reason + (g.overriddenBy === undefined ? '' : ` (overridden by ${g.overriddenBy})`)),
        ]),
      ),
    )
  }
  if (o.steps.length > 0) {
    parts.push(
      '<h3>Steps</h3>',
      table(
        ['', 'step', 'start', 'duration', 'attempts', 'note'],
        o.steps.map((s) => [
          s.outcome === 'running' ? '…' : mark(s.outcome === 'succeeded'),
          e(s.step),
          e(formatOffset(s.startedAt)),
          e(formatDuration(s.durationMs)),
          String(s.attempts),
          e(
            [
              s.error ?? '',
              s.compensated === undefined ? '' : `undone at ${formatOffset(s.compensated.at)}`,
            ]
              .filter((x) => x !== '')
              .join('; '),
          ),
        ]),
      ),
    )
  }
  if (o.timing !== null) {
    parts.push(
      `<p class="timing">Steps one after another: ${e(formatDuration(o.timing.sequentialMs))}; this plan: ${e(formatDuration(o.timing.elapsedMs))}${o.timing.savedMs > 0 ? ` (${e(formatDuration(o.timing.savedMs))} saved by parallel steps)` : ''}.</p>`,
    )
  }
  if (o.stages.length > 0) {
    parts.push(`<p>Stages: ${o.stages.map((s) => `${s.percent} % ${mark(s.ok)}`).join(', ')}</p>`)
  }
  if (o.error !== null) parts.push(`<p class="bad">Failed: ${e(o.error)}</p>`)
  parts.push('</section>')
  return parts.join('\n')
}

/** The self-contained HTML page. */
export function ledgerReportHtml(report: LedgerReport): string {
  const r = report
  const start = r.start
  const good =
    r.verification?.status !== 'FAILED' &&
    r.replay.status === 'REPLAYED' &&
    r.operations.every(
      (o) => o.outcome !== 'failed' && (o.rto?.met ?? true) && (o.rpo?.met ?? true),
    )
  const body = [
    `<h1>${e(r.title)}</h1>`,
    `<p class="verdict ${good ? 'ok' : 'bad'}">${e(reportVerdict(r))}</p>`,
    `<p>${r.receipts} receipts${r.location === null ? '' : ` in <code>${e(r.location)}</code>`}${r.start === null ? '' : `, from ${e(r.start)} to ${e(r.end ?? '')}`}. Times are since the first receipt.</p>`,
    r.operations.length === 0 ? '<p>No failover, failback or rollback is recorded.</p>' : '',
    ...r.operations.map((o, i) => operationHtml(o, i, start)),
  ]
  if (r.refusals.length > 0) {
    body.push(
      '<h2>Refused decisions</h2>',
      table(
        ['at', 'decision', 'guard', 'value', 'limit', 'why'],
        r.refusals.flatMap((x) =>
          x.guards
            .filter((g) => !g.ok)
            .map((g) => [
              e(formatOffset(x.at)),
              e(`${x.from ?? '?'} → ${x.to ?? '(none)'}`),
              e(g.name),
              e(guardValueText(g.name, g.value, start)),
              e(guardValueText(g.name, g.limit, start)),
              e(g.reason),
            ]),
        ),
      ),
    )
  }
  body.push(
    '<h2>Verification</h2><ul>',
    r.verification === null
      ? '<li>The ledger was not verified for this report.</li>'
      : `<li class="verification">Ledger: <b class="${r.verification.status === 'VERIFIED' ? 'ok' : 'bad'}">${e(r.verification.status)}</b> (${r.verification.checked} receipts checked)${
          r.verification.problems.length === 0
            ? ''
            : `<ul>${r.verification.problems
                .slice(0, 20)
                .map((p) => `<li>${e(p)}</li>`)
                .join('')}</ul>`
        }</li>`,
    `<li>Replay through the machine: <b>${e(r.replay.status)}</b> (${r.replay.transitions} transitions, final state ${e(r.replay.final ?? 'unknown')})${
      r.replay.problems.length === 0
        ? ''
        : `<ul>${r.replay.problems
            .slice(0, 20)
            .map((p) => `<li>${e(p)}</li>`)
            .join('')}</ul>`
    }</li>`,
    '</ul>',
    '<h2>Timeline</h2>',
    table(
      ['at', 'what', ''],
      r.events.map((x) => [e(formatOffset(x.at)), `${e(x.kind)}: ${e(x.text)}`, mark(x.ok)]),
    ),
  )
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(r.title)}</title>
<style>${CSS}</style>
</head>
<body>
${body.join('\n')}
</body>
</html>
`
}
