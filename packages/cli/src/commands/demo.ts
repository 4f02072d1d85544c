/**
 * `baton demo [--dir D] [--json]`: the main job on the embedded default.
 *
 * Runs a failover and failback drill of a receipt-writing service — the
 * real controller, two instances sharing a lease, simulated regions
 * us-central1 and europe-west1 on a virtual clock — with its receipts in a
 * new local file ledger. us-central1 fails its write+read health checks
 * (three in a row: the ggen runbook's trigger), the controller fails over
 * to europe-west1; once us-central1 is back an operator asks for the
 * failback, which restores traffic 10 % → 50 % → 100 % behind a health
 * gate. Then it reads the ledger back, verifies it and prints the
 * timeline, the RTO/RPO against the targets and the verification.
 *
 * Regions are simulated; the ledger is real (`baton verify`, `baton
 * report` work on it).
 *
 * @module
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  buildLedgerReport,
  type DrillResult,
  drill,
  formatDuration,
  formatOffset,
  type ScenarioInput,
} from '@baton/core'
import { initFileStore, openFileStore, type Receipt, verify } from '@baton/ledger'
import { EXIT_INTEGRITY, EXIT_OK } from '../errors.js'
import { verifySummary } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton demo`. */
export interface DemoOptions {
  /** Directory for the new ledger (must not hold one); default a fresh temporary directory. */
  readonly dir?: string
  readonly json: boolean
}

const PRIMARY = 'us-central1'
const SECONDARY = 'europe-west1'

/** The demo's drill: an outage, the automatic failover, the operator's gated failback. */
const DEMO_SCENARIO: ScenarioInput = {
  name: 'demo',
  description: `${PRIMARY} fails its write+read health checks three times in a row; the controller fails over to ${SECONDARY} (RTO < 30 min, RPO 0: the datastore replicates synchronously). ${PRIMARY} comes back; an operator asks for the failback, restored 10 % → 50 % → 100 % behind a health gate.`,
  regions: [
    { id: PRIMARY, jurisdiction: 'US' },
    { id: SECONDARY, jurisdiction: 'US' },
  ],
  home: PRIMARY,
  database: { initialLagMs: 0 },
  instances: 2,
  durationMs: '40m',
  probeIntervalMs: '13s',
  // The ggen runbook's trigger: three failed write+read checks in a row.
  health: { detectors: { availability: false } },
  targets: { rtoMs: '30m', rpoMs: 0 },
  failback: { stages: [10, 50, 100], gate: { windowMs: '2m', intervalMs: '20s' } },
  workload: { intervalMs: '2s' },
  faults: [
    { kind: 'outage', at: '2m', region: PRIMARY, durationMs: '10m', error: 'DEADLINE_EXCEEDED' },
    { kind: 'failback', at: '20m', by: 'operator' },
  ],
  expect: {
    failovers: 1,
    failbacks: 1,
    finalState: 'active',
    serving: PRIMARY,
    rtoMet: true,
    rpoMet: true,
    lostWrites: 0,
  },
}

const SHOWN = new Set(['fault', 'action', 'health', 'decision', 'blocked', 'step', 'completed'])

/** The readable timeline of the drill: faults, detection, decisions, steps, completion. */
function demoTimeline(result: DrillResult): string[] {
  const out: string[] = []
  for (const e of result.timeline) {
    if (!SHOWN.has(e.kind)) continue
    const lasted =
      e.durationMs === undefined || e.durationMs === 0 ? '' : ` (${formatDuration(e.durationMs)})`
    const mark = e.ok === undefined ? ' ' : e.ok ? '✔' : '✘'
    out.push(`  ${formatOffset(e.at).padEnd(10)} ${mark} ${e.kind.padEnd(9)} ${e.text}${lasted}`)
  }
  return out
}

/** Runs `baton demo`. */
export async function demoCommand(io: CliIo, options: DemoOptions): Promise<number> {
  const dir =
    options.dir === undefined
      ? await mkdtemp(join(tmpdir(), 'baton-demo-'))
      : resolve(io.cwd, options.dir)
  const store = await initFileStore(dir)
  let result: DrillResult
  try {
    result = await drill(DEMO_SCENARIO, { seed: 7, store })
  } finally {
    await store.close()
  }
  const reader = await openFileStore(dir, { readOnly: true })
  const receipts: Receipt[] = []
  let report: Awaited<ReturnType<typeof verify>>
  try {
    for await (const line of reader.read()) {
      receipts.push(JSON.parse(new TextDecoder().decode(line.bytes)) as Receipt)
    }
    report = await verify(reader)
  } finally {
    await reader.close()
  }
  const ledgerReport = await buildLedgerReport(receipts, { verification: report })
  const ok = report.status === 'VERIFIED' && result.passed
  if (options.json) {
    println(
      io.stdout,
      JSON.stringify(
        {
          ledger: dir,
          receipts: receipts.length,
          passed: result.passed,
          failovers: result.failovers,
          failbacks: result.failbacks,
          report,
          operations: ledgerReport.operations.map((o) => ({
            kind: o.kind,
            from: o.from,
            to: o.to,
            outcome: o.outcome,
            rto: o.rto,
            rpo: o.rpo,
            timing: o.timing,
          })),
        },
        null,
        2,
      ),
    )
    return ok ? EXIT_OK : EXIT_INTEGRITY
  }
  println(io.stdout, `baton demo: a failover and failback drill, ${PRIMARY} ⇄ ${SECONDARY}`)
  println(
    io.stdout,
    `Simulated regions on a virtual clock (${formatDuration(result.durationMs)} from ${result.startedAt}), two controller instances sharing a lease; receipts in a real file ledger:`,
  )
  println(io.stdout, `  ${dir}`)
  println(io.stdout)
  println(io.stdout, 'Timeline:')
  for (const line of demoTimeline(result)) println(io.stdout, line)
  println(io.stdout)
  for (const f of result.failovers) {
    println(
      io.stdout,
      `Failover ${f.from} → ${f.to} (${f.severity} ${f.mode}): RTO ${formatDuration(f.rto.measuredMs)} (target ${formatDuration(f.rto.targetMs)}) ${f.rto.met ? 'met' : 'MISSED'}; RPO ${formatDuration(f.rpo.measuredMs)} (target ${formatDuration(f.rpo.targetMs)}) ${f.rpo.met ? 'met' : 'MISSED'}`,
    )
  }
  for (const f of result.failbacks) {
    println(
      io.stdout,
      `Failback ${f.from} → ${f.to}: ${formatDuration(f.durationMs)}, stages ${f.stages.map((s) => `${s.percent} % ${s.ok ? 'ok' : 'failed'}`).join(', ')}`,
    )
  }
  const failover = ledgerReport.operations.find((o) => o.kind === 'failover' && o.timing !== null)
  if (failover?.timing != null) {
    println(
      io.stdout,
      `Failover plan: ${formatDuration(failover.timing.elapsedMs)}; the same steps one after another: ${formatDuration(failover.timing.sequentialMs)}`,
    )
  }
  println(
    io.stdout,
    `Drill checks: ${result.checks.filter((c) => c.passed).length}/${result.checks.length} held${
      result.passed
        ? ''
        : ` — FAILED: ${result.checks
            .filter((c) => !c.passed)
            .map((c) => c.name)
            .join(', ')}`
    }; ground truth: ${result.truth.lostWrites} writes lost, ${result.truth.splitBrain} split-brain writes`,
  )
  println(io.stdout)
  for (const line of verifySummary(report, `file:${dir}`, 20)) println(io.stdout, line)
  println(io.stdout)
  println(io.stdout, `Look inside:  baton inspect ${dir}`)
  println(io.stdout, `Check again:  baton verify ${dir}`)
  println(io.stdout, `Report:       baton report ${dir} --html report.html`)
  return ok ? EXIT_OK : EXIT_INTEGRITY
}
