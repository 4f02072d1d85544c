/**
 * A drill and the report of its ledger in one call: what examples and
 * scripts print after a drill (the drill's verdict and checks, then what
 * its ledger shows: detection, decision, steps, RTO/RPO against targets,
 * parallel against sequential time, verification).
 *
 * @module
 */
import type { StoredReceipt } from '@baton/ledger'
import { type DrillOptions, type DrillRig, drill } from '../drill/drill.js'
import type { DrillResult } from '../drill/result.js'
import type { Scenario, ScenarioInput } from '../drill/scenario.js'
import { formatDuration } from '../format.js'
import { buildLedgerReport, type LedgerReport } from './ledger-report.js'
import { ledgerReportMarkdown } from './markdown.js'

/** A drill's result, its receipts and the report of its ledger. */
export interface ReportedDrill {
  readonly result: DrillResult
  readonly receipts: readonly StoredReceipt[]
  readonly report: LedgerReport
}

/**
 * Runs `scenario` (see `drill`) and builds the report of its ledger, with
 * the drill's verification of that ledger as the verification result.
 */
export async function drillWithReport(
  scenario: Scenario | ScenarioInput,
  options: DrillOptions & { readonly title?: string } = {},
): Promise<ReportedDrill> {
  let seen: DrillRig | undefined
  const { title, ...drillOptions } = options
  const result = await drill(scenario, {
    ...drillOptions,
    inspect: async (rig) => {
      seen = rig
      await options.inspect?.(rig)
    },
  })
  const { receipts, verified, replayed } = seen!
  const report = await buildLedgerReport(receipts, {
    title: title ?? `Drill ${result.scenario} (seed ${String(result.seed)})`,
    location: 'memory: (the drill ledger)',
    verification: verified,
    replay: replayed,
    home: result.resolved.home,
  })
  return { result, receipts, report }
}

/**
 * Readable text of a reported drill: the verdict, the checks, the ground
 * truth, then the ledger report (without its full timeline table).
 */
export function reportedDrillText(d: ReportedDrill): string {
  const r = d.result
  const lines = [
    `Drill ${r.scenario} (seed ${String(r.seed)}): ${r.passed ? 'PASSED' : 'FAILED'} — ${formatDuration(r.durationMs)} on the virtual clock`,
    ...(r.description === '' ? [] : [r.description]),
    '',
    'Checks:',
    ...r.checks.map(
      (c) =>
        `  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name}${c.invariant ? ' (invariant)' : ''}: ${JSON.stringify(c.actual)}${c.passed ? '' : ` (expected ${JSON.stringify(c.expected)})`}`,
    ),
    `Ground truth: ${r.truth.lostWrites} writes lost, ${r.truth.splitBrain} split-brain writes, ${r.truth.residency} residency violations`,
    '',
    ledgerReportMarkdown(d.report, { timeline: false }).trimEnd(),
  ]
  return `${lines.join('\n')}\n`
}
