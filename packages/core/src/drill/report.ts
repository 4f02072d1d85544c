/**
 * Drill reports: pure functions from a {@link DrillResult} (or many) to text.
 *
 * - {@link drillReportJson}: the result as JSON (stable key order).
 * - {@link drillReportMarkdown}: a report people read — the checks, measured
 *   RTO/RPO against targets, guard refusals and overrides, the ledger's
 *   verification and replay, and a Mermaid timeline (gantt) of faults,
 *   detections, decisions, steps and completion, with a plain table of the
 *   same events.
 * - {@link summarizeDrills} / {@link drillSummaryMarkdown}: many seeds of a
 *   scenario at once.
 *
 * @module
 */
import { formatDuration, formatOffset } from '../format.js'
import type { DrillCheck, DrillJson, DrillResult, DrillTimelineEntry } from './result.js'

export { formatDuration, formatOffset }

/** The result as JSON text (two-space indented, with a final newline). */
export function drillReportJson(result: DrillResult): string {
  return `${JSON.stringify(result, null, 2)}\n`
}

const cell = (text: string): string =>
  text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ')

function value(v: DrillJson): string {
  if (v === null) return '—'
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v))
    return v.length === 0 ? '[]' : v.map((x) => value(x as DrillJson)).join(', ')
  const o = v as { readonly [key: string]: DrillJson }
  if ('min' in o || 'max' in o) {
    const min = o.min === undefined ? '' : `≥ ${String(o.min)}`
    const max = o.max === undefined ? '' : `≤ ${String(o.max)}`
    return [min, max].filter((x) => x !== '').join(' and ')
  }
  return Object.entries(o)
    .map(([k, x]) => `${k}: ${value(x)}`)
    .join(', ')
}

function checkRow(c: DrillCheck): string {
  return `| ${c.passed ? '✅' : '❌'} | ${cell(c.name)}${c.invariant ? ' *(invariant)*' : ''} | ${cell(value(c.expected))} | ${cell(value(c.actual))} |`
}

const met = (ok: boolean): string => (ok ? '✅' : '❌')

function recoverySection(r: DrillResult): string[] {
  const out = ['## Recovery objectives', '']
  if (r.failovers.length === 0) {
    out.push(
      `No failover completed. Targets: RTO ${formatDuration(r.targets.rtoMs)}, RPO ${formatDuration(r.targets.rpoMs)}.`,
    )
  } else {
    out.push(
      '| operation | from → to | mode | detected | decided | completed | RTO | RTO target | RPO | RPO target |',
      '|---|---|---|---|---|---|---|---|---|---|',
    )
    for (const f of r.failovers) {
      out.push(
        `| ${cell(f.operation)} | ${f.from} → ${f.to} | ${f.severity} ${f.mode} | ${formatOffset(f.detectedAt)} | ${formatOffset(f.decidedAt)} | ${formatOffset(f.completedAt)} | ${met(f.rto.met)} ${formatDuration(f.rto.measuredMs)} | ${formatDuration(f.rto.targetMs)} | ${met(f.rpo.met)} ${formatDuration(f.rpo.measuredMs)} | ${formatDuration(f.rpo.targetMs)} |`,
      )
    }
  }
  const t = r.truth
  out.push(
    '',
    `Ground truth (the simulated world): ${t.requests} requests (${t.failedRequests} failed), ${t.writes} writes, ${t.lostWrites} lost and ${t.divergedWrites} diverged; data loss window ${formatDuration(t.dataLossMs)}. Database primary at the end: ${t.primary}; traffic: ${Object.entries(
      t.weights,
    )
      .map(([region, w]) => `${region} ${w}`)
      .join(', ')}.`,
  )
  if (t.promotions.length > 0) {
    out.push(
      '',
      `Promotions: ${t.promotions
        .map(
          (p) =>
            `${formatOffset(p.at)} ${p.from} → ${p.region} (${p.graceful ? 'graceful' : 'ungraceful'}, epoch ${p.epoch}, ${p.lostWrites} writes lost)`,
        )
        .join('; ')}.`,
    )
  }
  return out
}

function refusalsSection(r: DrillResult): string[] {
  if (r.refusals.length === 0 && r.overrides.length === 0) return []
  const out = ['## Guard refusals and overrides', '']
  if (r.refusals.length > 0) {
    out.push('| at | decision | guard | value | limit | why |', '|---|---|---|---|---|---|')
    for (const x of r.refusals) {
      for (const g of x.guards) {
        out.push(
          `| ${formatOffset(x.at)} | ${cell(`${x.action} ${x.from} → ${x.to ?? '(none)'}`)} | ${g.name} | ${cell(String(g.value ?? '—'))} | ${cell(String(g.limit ?? '—'))} | ${cell(g.reason)} |`,
        )
      }
    }
  }
  if (r.overrides.length > 0) {
    out.push('', '| at | override | by | value | operation |', '|---|---|---|---|---|')
    for (const o of r.overrides) {
      out.push(
        `| ${formatOffset(o.at)} | ${o.guard} | ${cell(o.by)} | ${cell(String(o.value ?? '—'))} | ${cell(o.operation)} |`,
      )
    }
  }
  return out
}

function failbackSection(r: DrillResult): string[] {
  if (r.failbacks.length === 0 && r.failedSteps.length === 0 && r.rollbacks === 0) return []
  const out = ['## Failbacks, failed steps and rollbacks', '']
  for (const f of r.failbacks) {
    out.push(
      `- Failback ${f.from} → ${f.to} from ${formatOffset(f.startedAt)} to ${formatOffset(f.completedAt)} (${formatDuration(f.durationMs)}), stages ${f.stages.map((s) => `${s.percent} % ${s.ok ? '✅' : '❌'}`).join(', ')}.`,
    )
  }
  for (const s of r.failedSteps)
    out.push(`- ${formatOffset(s.at)} step \`${s.step}\` of ${s.operation} failed: ${s.error}`)
  out.push(`- Rollbacks started: ${r.rollbacks}. Takeovers by a standby: ${r.takeovers}.`)
  return out
}

function ledgerSection(r: DrillResult): string[] {
  const l = r.ledger
  const out = [
    '## Ledger',
    '',
    `- Receipts: ${l.receipts}${l.head === null ? '' : `, head \`${l.head}\``}`,
    `- Verification: **${l.verify.status}**${l.verify.problems.length === 0 ? '' : ` (${l.verify.problems.length} problems)`}`,
    `- Replay through the machine: **${l.replay.status}** (${l.replay.transitions} transitions)`,
  ]
  for (const p of l.verify.problems.slice(0, 10)) out.push(`  - ${p}`)
  for (const p of l.replay.problems.slice(0, 10))
    out.push(`  - ${p.kind} at receipt ${p.seq}: ${p.message}`)
  return out
}

const SECTIONS: Readonly<Record<DrillTimelineEntry['kind'], string>> = {
  fault: 'Faults',
  action: 'Operators',
  health: 'Detection',
  blocked: 'Decisions',
  decision: 'Decisions',
  override: 'Decisions',
  approval: 'Decisions',
  state: 'Controller',
  lease: 'Controller',
  step: 'Plan steps',
  world: 'World',
  completed: 'Completion',
}

const SECTION_ORDER = [
  'Faults',
  'Operators',
  'Detection',
  'Decisions',
  'Plan steps',
  'World',
  'Controller',
  'Completion',
]

/** Text Mermaid accepts as a task name (no `:`, `#` or `;`, bounded length). */
function taskName(text: string): string {
  const t = text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim()
  return t.length > 70 ? `${t.slice(0, 69)}…` : t
}

/** Most timeline entries drawn in the Mermaid chart. */
const MAX_CHART_ENTRIES = 150

/**
 * The timeline as a Mermaid gantt chart (`dateFormat x`: milliseconds since
 * the drill started, so the axis reads as elapsed time). Faults and steps
 * are bars (failed ones in red), everything else milestones.
 */
export function drillTimelineMermaid(result: DrillResult): string {
  const end = result.durationMs
  const entries = result.timeline.slice(0, MAX_CHART_ENTRIES)
  const bySection = new Map<string, string[]>()
  entries.forEach((e, i) => {
    const section = SECTIONS[e.kind]
    const lines = bySection.get(section) ?? []
    bySection.set(section, lines)
    const id = `e${i}`
    const name = taskName(e.kind === 'fault' || e.kind === 'step' ? e.text : `${e.text}`)
    const lasting = e.durationMs !== undefined && e.durationMs > 0
    if (e.kind === 'fault' || (e.kind === 'step' && lasting)) {
      const until =
        e.kind === 'fault'
          ? Math.min(end, e.at + (e.durationMs ?? end - e.at))
          : e.at + (e.durationMs ?? 0)
      const tag =
        e.ok === false || e.kind === 'fault' ? 'crit, ' : e.kind === 'step' ? 'done, ' : ''
      if (until > e.at) {
        lines.push(`    ${name} :${tag}${id}, ${e.at}, ${until}`)
        return
      }
    }
    lines.push(`    ${name} :milestone, ${e.ok === false ? 'crit, ' : ''}${id}, ${e.at}, ${e.at}`)
  })
  const out = [
    'gantt',
    `    title ${taskName(`${result.scenario} (seed ${String(result.seed)})`)}`,
    '    dateFormat x',
    `    axisFormat ${end > 3_600_000 ? '%H:%M' : '%M:%S'}`,
  ]
  for (const section of SECTION_ORDER) {
    const lines = bySection.get(section)
    if (lines === undefined || lines.length === 0) continue
    out.push(`    section ${section}`, ...lines)
  }
  return out.join('\n')
}

function timelineSection(r: DrillResult): string[] {
  const out = [
    '## Timeline',
    '',
    `Times are since the drill started (${r.startedAt}, virtual clock).`,
    '',
    '```mermaid',
    drillTimelineMermaid(r),
    '```',
    '',
  ]
  if (r.timeline.length > MAX_CHART_ENTRIES) {
    out.push(
      `The chart shows the first ${MAX_CHART_ENTRIES} of ${r.timeline.length} events; the table lists them all.`,
      '',
    )
  }
  out.push('| at | what | |', '|---|---|---|')
  for (const e of r.timeline) {
    const lasted = e.durationMs === undefined ? '' : ` (${formatDuration(e.durationMs)})`
    const mark = e.ok === undefined ? '' : e.ok ? '✅' : '❌'
    out.push(`| ${formatOffset(e.at)} | ${e.kind}: ${cell(e.text)}${lasted} | ${mark} |`)
  }
  return out
}

/**
 * The Markdown report of one drill: verdict, checks, recovery objectives
 * against targets, refusals and overrides, ledger verification and replay,
 * and the timeline (Mermaid gantt and table). Pure: the same result always
 * gives the same text.
 */
export function drillReportMarkdown(result: DrillResult): string {
  const r = result
  const f = r.final
  const lines = [
    `# Drill report: ${r.scenario}`,
    '',
    `**${r.passed ? 'PASSED ✅' : 'FAILED ❌'}** — seed ${String(r.seed)}, ${r.instances} instance${r.instances === 1 ? '' : 's'}, ${formatDuration(r.durationMs)} on the virtual clock from ${r.startedAt}.`,
    '',
  ]
  if (r.description !== '') lines.push(`> ${r.description}`, '')
  lines.push(
    `Final state: **${f.state ?? 'unknown'}**, serving ${f.serving ?? 'unknown'}${f.leader === null ? ', no lease holder' : `; lease held by ${f.leader} (epoch ${f.epoch})`}.`,
    '',
    '## Checks',
    '',
    '| | check | expected | actual |',
    '|---|---|---|---|',
    ...r.checks.map(checkRow),
    '',
    ...recoverySection(r),
    '',
  )
  const refusals = refusalsSection(r)
  if (refusals.length > 0) lines.push(...refusals, '')
  const failbacks = failbackSection(r)
  if (failbacks.length > 0) lines.push(...failbacks, '')
  lines.push(...ledgerSection(r), '', ...timelineSection(r))
  return `${lines.join('\n')}\n`
}

/** Many drills of one scenario (a seed range) in one view. */
export interface DrillSummary {
  readonly scenario: string
  readonly runs: number
  readonly passed: number
  readonly failed: number
  /** Seeds whose drill failed, in order. */
  readonly failedSeeds: readonly (number | string)[]
  /** How often each check failed, by name. */
  readonly failedChecks: Readonly<Record<string, number>>
  /** The slowest completed failover over every run. */
  readonly worstRto: {
    readonly seed: number | string
    readonly ms: number
    readonly met: boolean
  } | null
  /** The largest RPO measured over every run. */
  readonly worstRpo: {
    readonly seed: number | string
    readonly ms: number
    readonly met: boolean
  } | null
  /** Completed failovers over every run. */
  readonly failovers: number
  /** One row per run. */
  readonly rows: readonly {
    readonly seed: number | string
    readonly passed: boolean
    readonly failovers: number
    readonly worstRtoMs: number | null
    readonly worstRpoMs: number | null
    readonly failed: readonly string[]
  }[]
}

/** What {@link summarizeDrills} reads of each result (keep only this for long seed ranges). */
export type DrillOutcome = Pick<
  DrillResult,
  'scenario' | 'seed' | 'passed' | 'checks' | 'failovers'
>

/** Summarizes drills of one scenario over several seeds. Pure. */
export function summarizeDrills(results: readonly DrillOutcome[]): DrillSummary {
  let worstRto: DrillSummary['worstRto'] = null
  let worstRpo: DrillSummary['worstRpo'] = null
  const failedChecks: Record<string, number> = {}
  const rows = results.map((r) => {
    let rto: number | null = null
    let rpo: number | null = null
    for (const f of r.failovers) {
      const t = f.rto.measuredMs
      if (t !== null && (rto === null || t > rto)) rto = t
      if (t !== null && (worstRto === null || t > worstRto.ms))
        worstRto = { seed: r.seed, ms: t, met: f.rto.met }
      const p = f.rpo.measuredMs
      if (p !== null && (rpo === null || p > rpo)) rpo = p
      if (p !== null && (worstRpo === null || p > worstRpo.ms))
        worstRpo = { seed: r.seed, ms: p, met: f.rpo.met }
    }
    const failed = r.checks.filter((c) => !c.passed).map((c) => c.name)
    for (const name of failed) failedChecks[name] = (failedChecks[name] ?? 0) + 1
    return {
      seed: r.seed,
      passed: r.passed,
      failovers: r.failovers.length,
      worstRtoMs: rto,
      worstRpoMs: rpo,
      failed,
    }
  })
  const passed = results.filter((r) => r.passed).length
  return {
    scenario: results[0]?.scenario ?? '',
    runs: results.length,
    passed,
    failed: results.length - passed,
    failedSeeds: results.filter((r) => !r.passed).map((r) => r.seed),
    failedChecks,
    worstRto,
    worstRpo,
    failovers: results.reduce((n, r) => n + r.failovers.length, 0),
    rows,
  }
}

/** The Markdown report of a seed range: totals, failing checks, and one row per seed. Pure. */
export function drillSummaryMarkdown(summary: DrillSummary): string {
  const s = summary
  const worst = (w: DrillSummary['worstRto']): string =>
    w === null
      ? 'none'
      : `${formatDuration(w.ms)} (seed ${String(w.seed)}, ${w.met ? 'met' : 'missed'})`
  const lines = [
    `# Drill summary: ${s.scenario}`,
    '',
    `**${s.failed === 0 ? 'PASSED ✅' : 'FAILED ❌'}** — ${s.runs} seeds: ${s.passed} passed, ${s.failed} failed.`,
    '',
    `- Completed failovers: ${s.failovers}`,
    `- Worst RTO: ${worst(s.worstRto)}`,
    `- Worst RPO: ${worst(s.worstRpo)}`,
  ]
  const checks = Object.entries(s.failedChecks)
  if (checks.length > 0) {
    lines.push(
      '',
      '| failed check | runs |',
      '|---|---|',
      ...checks.map(([name, n]) => `| ${cell(name)} | ${n} |`),
    )
  }
  lines.push(
    '',
    '| seed | | failovers | worst RTO | worst RPO | failed checks |',
    '|---|---|---|---|---|---|',
  )
  for (const row of s.rows) {
    lines.push(
      `| ${String(row.seed)} | ${row.passed ? '✅' : '❌'} | ${row.failovers} | ${row.worstRtoMs === null ? '—' : formatDuration(row.worstRtoMs)} | ${row.worstRpoMs === null ? '—' : formatDuration(row.worstRpoMs)} | ${cell(row.failed.join(', '))} |`,
    )
  }
  return `${lines.join('\n')}\n`
}
