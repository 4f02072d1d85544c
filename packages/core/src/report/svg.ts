/**
 * The SVG timeline of one operation: detection, decision, one bar per step
 * (its start and duration; failed steps marked), completion, and the RTO
 * against its target. Self-contained (no script, no external reference);
 * every text is escaped. Pure.
 *
 * Marks carry classes a reader (or a test) can find: `mark detection`,
 * `mark decision`, `mark end completed|failed`, `step succeeded|failed|running`
 * (with `data-step`), `rto met|missed`, `rto-target`.
 *
 * @module
 */
import { formatDuration, formatOffset } from '../format.js'
import type { ReportOperation } from './ledger-report.js'

/** Escapes text for HTML and XML text and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const LABEL_W = 200
const CHART_W = 640
const ROW_H = 22
const TOP = 28

/** A tick step (ms) that gives about six ticks over `span`. */
function tickStep(span: number): number {
  const steps = [
    100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 43_200_000, 86_400_000,
  ]
  return steps.find((s) => span / s <= 7) ?? 86_400_000
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10)

/** The SVG of one operation's timeline. */
export function operationTimelineSvg(o: ReportOperation): string {
  const times: number[] = []
  for (const d of o.detection) times.push(d.at)
  if (o.detectedAt !== null) times.push(o.detectedAt)
  if (o.decidedAt !== null) times.push(o.decidedAt)
  for (const s of o.steps) times.push(s.startedAt, s.finishedAt ?? s.startedAt)
  if (o.completedAt !== null) times.push(o.completedAt)
  const startT = times.length === 0 ? 0 : Math.min(...times)
  let endT = times.length === 0 ? 1 : Math.max(...times)
  const rtoStart = o.detectedAt ?? o.decidedAt
  if (o.rto !== null && rtoStart !== null)
    endT = Math.max(endT, rtoStart + Math.min(o.rto.targetMs, (endT - startT) * 3 + 1))
  const span = Math.max(1, endT - startT)
  const x = (t: number): number => LABEL_W + ((t - startT) / span) * CHART_W
  const rows = 2 + o.steps.length + (o.rto === null ? 0 : 1)
  const height = TOP + rows * ROW_H + 24
  const width = LABEL_W + CHART_W + 20
  const parts: string[] = []
  const title = `${o.kind} ${o.from ?? '?'} → ${o.to ?? '?'}`
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" data-operation="${escapeXml(o.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<title>${escapeXml(`Timeline of the ${title}`)}</title>`,
  )
  // Axis and grid.
  const step = tickStep(span)
  const first = Math.ceil(startT / step) * step
  for (let t = first; t <= endT; t += step) {
    const tx = fmt(x(t))
    parts.push(
      `<line class="grid" x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${height - 20}"/>`,
      `<text class="tick" x="${tx}" y="${height - 6}" text-anchor="middle">${escapeXml(formatOffset(t))}</text>`,
    )
  }
  let row = 0
  const rowY = (): number => TOP + row * ROW_H
  const label = (text: string): void => {
    parts.push(
      `<text class="label" x="4" y="${fmt(rowY() + 15)}">${escapeXml(text.length > 30 ? `${text.slice(0, 29)}…` : text)}</text>`,
    )
  }
  // Detection row.
  label('detection')
  for (const d of o.detection) {
    const cx = fmt(x(d.at))
    const cy = fmt(rowY() + ROW_H / 2)
    parts.push(
      `<circle class="mark detection" cx="${cx}" cy="${cy}" r="5"><title>${escapeXml(`${formatOffset(d.at)} ${d.region} ${d.from} → ${d.to}`)}</title></circle>`,
    )
  }
  row++
  // Decision row.
  label('decision')
  if (o.decidedAt !== null) {
    const cx = x(o.decidedAt)
    const cy = rowY() + ROW_H / 2
    parts.push(
      `<path class="mark decision" d="M${fmt(cx)} ${fmt(cy - 6)} L${fmt(cx + 6)} ${fmt(cy)} L${fmt(cx)} ${fmt(cy + 6)} L${fmt(cx - 6)} ${fmt(cy)} Z"><title>${escapeXml(`${formatOffset(o.decidedAt)} decided${o.severity === null ? '' : ` (${o.severity})`}: ${o.reason ?? title}`)}</title></path>`,
    )
  }
  row++
  // One bar per step.
  for (const s of o.steps) {
    label(s.step)
    const x0 = x(s.startedAt)
    const x1 = x(s.finishedAt ?? endT)
    const w = Math.max(2, x1 - x0)
    parts.push(
      `<rect class="step ${s.outcome}" data-step="${escapeXml(s.step)}" x="${fmt(x0)}" y="${fmt(rowY() + 4)}" width="${fmt(w)}" height="${ROW_H - 8}" rx="2"><title>${escapeXml(`${s.step}: ${s.outcome}, ${formatOffset(s.startedAt)} for ${formatDuration(s.durationMs)}${s.error === undefined ? '' : ` — ${s.error}`}`)}</title></rect>`,
    )
    row++
  }
  // RTO against its target.
  if (o.rto !== null && rtoStart !== null) {
    label('RTO')
    const y = rowY() + ROW_H / 2
    const measured = o.rto.measuredMs ?? 0
    parts.push(
      `<line class="rto ${o.rto.met ? 'met' : 'missed'}" x1="${fmt(x(rtoStart))}" y1="${fmt(y)}" x2="${fmt(x(rtoStart + measured))}" y2="${fmt(y)}"><title>${escapeXml(`RTO ${formatDuration(o.rto.measuredMs)} (target ${formatDuration(o.rto.targetMs)})`)}</title></line>`,
    )
    const target = rtoStart + o.rto.targetMs
    if (target <= endT) {
      const tx = fmt(x(target))
      parts.push(
        `<line class="rto-target" x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${height - 20}"><title>${escapeXml(`RTO target ${formatDuration(o.rto.targetMs)}`)}</title></line>`,
      )
    }
    row++
  }
  if (o.completedAt !== null) {
    const cx = x(o.completedAt)
    parts.push(
      `<line class="mark end ${o.outcome}" x1="${fmt(cx)}" y1="${TOP - 6}" x2="${fmt(cx)}" y2="${height - 20}"><title>${escapeXml(`${formatOffset(o.completedAt)} ${o.kind} ${o.outcome}`)}</title></line>`,
    )
  }
  parts.push('</svg>')
  return parts.join('\n')
}
