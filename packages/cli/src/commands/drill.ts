/**
 * `baton drill <scenario.json|name> [--seed N] [--seeds A..B] [--json] [--report FILE]`:
 * runs a failover drill on the virtual clock — the real controller, in-memory
 * adapters, the scenario's faults — and says whether every expectation and
 * invariant held.
 *
 * With `--seeds A..B` it runs every seed of the range and summarizes (count
 * passed and failed, worst RTO), with a progress bar on a terminal.
 * `--report FILE` writes the Markdown report (the JSON result for a `.json`
 * file). The scenario `random` draws a new random scenario from each seed
 * (what the property tests run).
 *
 * Exit codes: 0 every expectation held, 1 one failed, 2 usage or input error
 * (an unknown scenario name lists the built-in ones).
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  BUILTIN_SCENARIOS,
  builtinScenario,
  ConfigError,
  type DrillOutcome,
  type DrillResult,
  defineScenario,
  drill,
  drillReportJson,
  drillReportMarkdown,
  drillSummaryMarkdown,
  formatDuration,
  randomScenario,
  type Scenario,
  summarizeDrills,
} from '@baton/core'
import { Presets, SingleBar } from 'cli-progress'
import { EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { count } from '../format.js'
import { type CliIo, println, reportTextFor, wantsProgress, writeOutputFile } from '../io.js'
import { LOCAL_DRILLS, localDrillCommand } from './drill-local.js'

/** Options of `baton drill`. */
export interface DrillCommandOptions {
  readonly json: boolean
  /** One seed (default 0). */
  readonly seed?: number
  /** A seed range `A..B` (inclusive). */
  readonly seeds?: string
  /** Where to write the report (Markdown, or JSON for `.json`). */
  readonly report?: string
  /** Local PostgreSQL drills: an asynchronous standby instead of a synchronous one. */
  readonly async?: boolean
  /** Local PostgreSQL failover drill: cut replication off this long before the kill (ms). */
  readonly stall?: number
}

/** The pseudo-scenario that draws a random scenario from each seed. */
const RANDOM = 'random'

/** Most seeds one `--seeds` range may hold. */
const MAX_SEEDS = 1_000_000

/** Parses `A..B` (inclusive, A ≤ B). */
export function parseSeedRange(text: string): { readonly from: number; readonly to: number } {
  const m = /^(\d+)\.\.(\d+)$/.exec(text)
  if (m === null) throw new UsageError(`--seeds must look like A..B (e.g. 1..100), got "${text}"`)
  const from = Number(m[1])
  const to = Number(m[2])
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
    throw new UsageError(`--seeds bounds must be safe integers, got "${text}"`)
  }
  if (to < from) throw new UsageError(`--seeds: ${to} is below ${from}`)
  if (to - from + 1 > MAX_SEEDS) throw new UsageError(`--seeds: at most ${count(MAX_SEEDS)} seeds`)
  return { from, to }
}

function looksLikeFile(arg: string): boolean {
  return arg.endsWith('.json') || arg.includes('/') || arg.includes('\\')
}

/** The scenario for a seed: from a file, a built-in name, or `random`. */
async function scenarioSource(io: CliIo, arg: string): Promise<(seed: number) => Scenario> {
  if (arg === RANDOM) return (seed) => defineScenario(randomScenario(seed))
  if (looksLikeFile(arg)) {
    const path = resolve(io.cwd, arg)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new UsageError(`cannot read scenario ${arg}: ${code ?? (error as Error).message}`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`scenario ${arg} is not JSON: ${(error as Error).message}`)
    }
    try {
      const scenario = defineScenario(parsed)
      return () => scenario
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`scenario ${arg}: ${error.message}`)
      throw error
    }
  }
  if (!BUILTIN_SCENARIOS.includes(arg)) {
    throw new UsageError(
      `unknown scenario "${arg}"; built-in scenarios: ${[...BUILTIN_SCENARIOS, RANDOM].join(', ')} (or a scenario .json file)`,
    )
  }
  const scenario = builtinScenario(arg)
  return () => scenario
}

const mark = (ok: boolean): string => (ok ? 'ok  ' : 'FAIL')

function show(v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return v.length === 0 ? '[]' : v.map(show).join(', ')
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} ${show(x)}`)
      .join(', ')
  }
  return String(v)
}

/** The readable summary of one drill. */
function drillSummary(r: DrillResult): string[] {
  const out = [
    `Drill ${r.scenario} (seed ${String(r.seed)}): ${r.passed ? 'PASSED' : 'FAILED'}`,
    `${r.instances} instance${r.instances === 1 ? '' : 's'}, ${formatDuration(r.durationMs)} on the virtual clock; final state ${r.final.state ?? 'unknown'}, serving ${r.final.serving ?? 'unknown'}`,
    '',
    'Checks:',
  ]
  for (const c of r.checks) {
    out.push(
      `  ${mark(c.passed)} ${c.name}${c.invariant ? ' (invariant)' : ''}: ${show(c.actual)}${c.passed ? '' : ` (expected ${show(c.expected)})`}`,
    )
  }
  out.push('', r.failovers.length === 0 ? 'Failovers: none completed' : 'Failovers:')
  for (const f of r.failovers) {
    out.push(
      `  ${f.from} -> ${f.to} (${f.severity} ${f.mode}): RTO ${formatDuration(f.rto.measuredMs)} (target ${formatDuration(f.rto.targetMs)}) ${f.rto.met ? 'met' : 'MISSED'}, RPO ${formatDuration(f.rpo.measuredMs)} (target ${formatDuration(f.rpo.targetMs)}) ${f.rpo.met ? 'met' : 'MISSED'}`,
    )
  }
  if (r.refusals.length > 0) {
    out.push('Guard refusals:')
    for (const x of r.refusals.slice(0, 10)) {
      out.push(`  ${x.guards.map((g) => `${g.name}: ${g.reason}`).join('; ')}`)
    }
    if (r.refusals.length > 10) out.push(`  … and ${r.refusals.length - 10} more`)
  }
  for (const o of r.overrides) out.push(`Override: ${o.guard} by ${o.by} (value ${show(o.value)})`)
  const l = r.ledger
  out.push(
    `Ledger: ${count(l.receipts)} receipts, ${l.verify.status}, ${l.replay.status} (${l.replay.transitions} transitions)`,
    `Ground truth: ${r.truth.splitBrain} split-brain writes, ${r.truth.residency} residency violations, ${r.truth.lostWrites} writes lost (${formatDuration(r.truth.dataLossMs)})`,
  )
  return out
}

/** Runs `baton drill`. */
export async function drillCommand(
  io: CliIo,
  scenarioArg: string,
  options: DrillCommandOptions,
): Promise<number> {
  if (LOCAL_DRILLS[scenarioArg] !== undefined) {
    if (options.seed !== undefined || options.seeds !== undefined) {
      throw new UsageError(
        `${scenarioArg} runs real servers in real time: --seed and --seeds do not apply`,
      )
    }
    return localDrillCommand(io, scenarioArg, {
      json: options.json,
      ...(options.report === undefined ? {} : { report: options.report }),
      ...(options.async === true ? { asyncStandby: true } : {}),
      ...(options.stall === undefined ? {} : { stallMs: options.stall }),
    })
  }
  if (options.async === true || options.stall !== undefined) {
    throw new UsageError('--async and --stall apply to the postgres-local drills only')
  }
  if (options.seeds !== undefined && options.seed !== undefined) {
    throw new UsageError('use either --seed or --seeds, not both')
  }
  const range = options.seeds === undefined ? undefined : parseSeedRange(options.seeds)
  const scenarioFor = await scenarioSource(io, scenarioArg)

  if (range === undefined) {
    const seed = options.seed ?? 0
    const result = await drill(scenarioFor(seed), { seed })
    if (options.json) println(io.stdout, drillReportJson(result).trimEnd())
    else for (const line of drillSummary(result)) println(io.stdout, line)
    if (options.report !== undefined) {
      const path = await writeOutputFile(
        io,
        options.report,
        reportTextFor(options.report, drillReportMarkdown(result), drillReportJson(result)),
        'report',
      )
      if (!options.json) println(io.stdout, `Report: ${path}`)
    }
    return result.passed ? EXIT_OK : EXIT_INTEGRITY
  }

  const total = range.to - range.from + 1
  const bar = wantsProgress(io, options.json)
    ? new SingleBar(
        {
          stream: io.stderr as NodeJS.WriteStream,
          format: `drill ${scenarioArg} |{bar}| {value}/{total} seeds | {failed} failed | {rate}/s`,
          hideCursor: true,
          clearOnComplete: true,
          noTTYOutput: true,
          notTTYSchedule: 1000,
        },
        Presets.shades_classic,
      )
    : undefined
  const started = Date.now()
  const results: DrillOutcome[] = []
  let failed = 0
  bar?.start(total, 0, { failed: 0, rate: '0' })
  try {
    for (let seed = range.from; seed <= range.to; seed++) {
      const result = await drill(scenarioFor(seed), { seed })
      if (!result.passed) failed++
      // Keep what the summary needs; a long range would otherwise hold every timeline.
      const { scenario, passed, checks, failovers } = result
      results.push({ scenario, seed, passed, checks, failovers })
      const done = seed - range.from + 1
      bar?.update(done, {
        failed,
        rate: count(Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))),
      })
    }
  } finally {
    bar?.stop()
  }
  const summary = summarizeDrills(results)
  const seconds = (Date.now() - started) / 1000
  if (options.json) {
    println(io.stdout, JSON.stringify({ ...summary, seconds: +seconds.toFixed(3) }, null, 2))
  } else {
    const w = summary.worstRto
    println(
      io.stdout,
      `Drill ${summary.scenario}, seeds ${range.from}..${range.to}: ${count(summary.passed)} passed, ${count(summary.failed)} failed (${seconds.toFixed(1)} s)`,
    )
    println(
      io.stdout,
      `Worst RTO: ${w === null ? 'no failover completed' : `${formatDuration(w.ms)} (seed ${String(w.seed)}, ${w.met ? 'met' : 'MISSED'})`}`,
    )
    const p = summary.worstRpo
    if (p !== null) {
      println(
        io.stdout,
        `Worst RPO: ${formatDuration(p.ms)} (seed ${String(p.seed)}, ${p.met ? 'met' : 'MISSED'})`,
      )
    }
    const failing = summary.rows.filter((row) => !row.passed)
    for (const row of failing.slice(0, 20)) {
      println(io.stdout, `  seed ${String(row.seed)}: ${row.failed.join(', ')}`)
    }
    if (failing.length > 20) println(io.stdout, `  … and ${failing.length - 20} more failed seeds`)
  }
  if (options.report !== undefined) {
    const path = await writeOutputFile(
      io,
      options.report,
      reportTextFor(
        options.report,
        drillSummaryMarkdown(summary),
        `${JSON.stringify(summary, null, 2)}\n`,
      ),
      'report',
    )
    if (!options.json) println(io.stdout, `Report: ${path}`)
  }
  return summary.failed === 0 ? EXIT_OK : EXIT_INTEGRITY
}
