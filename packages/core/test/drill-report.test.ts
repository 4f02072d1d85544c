import { beforeAll, describe, expect, it } from 'vitest'
import {
  builtinScenario,
  type DrillResult,
  drill,
  drillReportJson,
  drillReportMarkdown,
  drillSummaryMarkdown,
  drillTimelineMermaid,
  formatDuration,
  formatOffset,
  summarizeDrills,
} from '../src/index.js'

let outage: DrillResult
let lag: DrillResult

beforeAll(async () => {
  outage = await drill(builtinScenario('region-outage'), { seed: 21 })
  lag = await drill(builtinScenario('lag-spike'), { seed: 21 })
})

/** The lines of the section under `## title`, up to the next section. */
function section(md: string, title: string): string[] {
  const lines = md.split('\n')
  const start = lines.indexOf(`## ${title}`)
  expect(start, `section ${title}`).toBeGreaterThan(0)
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((l) => l.startsWith('## '))
  return end < 0 ? rest : rest.slice(0, end)
}

describe('drillReportJson', () => {
  it('is the result as stable JSON', () => {
    const text = drillReportJson(outage)
    expect(text.endsWith('}\n')).toBe(true)
    expect(JSON.parse(text)).toEqual(outage)
    expect(Object.keys(JSON.parse(text)).slice(0, 6)).toEqual([
      'v',
      'scenario',
      'description',
      'seed',
      'passed',
      'checks',
    ])
  })
})

describe('drillReportMarkdown', () => {
  it('leads with the verdict, the description and where the run ended', () => {
    const md = drillReportMarkdown(outage)
    const lines = md.split('\n')
    expect(lines[0]).toBe('# Drill report: region-outage')
    expect(lines[2]).toBe(
      '**PASSED ✅** — seed 21, 2 instances, 20 min on the virtual clock from 2026-01-01T00:00:00.000Z.',
    )
    expect(lines[4]).toMatch(/^> us-east-1 goes down/)
    expect(md).toContain(
      'Final state: **failed-over**, serving us-west-2; lease held by i1 (epoch 1).',
    )
  })

  it('has a row per check, invariants marked', () => {
    const rows = section(drillReportMarkdown(outage), 'Checks').filter(
      (l) => l.startsWith('| ✅') || l.startsWith('| ❌'),
    )
    expect(rows).toHaveLength(outage.checks.length)
    expect(rows).toContain('| ✅ | failovers | 1 | 1 |')
    expect(rows).toContain('| ✅ | ledger verifies *(invariant)* | VERIFIED | VERIFIED |')
    expect(rows).toContain('| ✅ | no split brain *(invariant)* | 0 | 0 |')
  })

  it('tables the measured RTO and RPO against the targets, with the ground truth', () => {
    const lines = section(drillReportMarkdown(outage), 'Recovery objectives')
    const f = outage.failovers[0]!
    expect(lines).toContain(
      `| ${f.operation} | us-east-1 → us-west-2 | P1 automatic | ${formatOffset(f.detectedAt)} | ${formatOffset(f.decidedAt)} | ${formatOffset(f.completedAt)} | ✅ ${formatDuration(f.rto.measuredMs)} | 10 min | ✅ ${formatDuration(f.rpo.measuredMs)} | 30 s |`,
    )
    expect(lines.some((l) => l.startsWith('Ground truth (the simulated world): '))).toBe(true)
    expect(
      lines.some((l) =>
        /^Promotions: T\+\d+:\d\d us-east-1 → us-west-2 \(ungraceful, epoch 1/.test(l),
      ),
    ).toBe(true)
  })

  it('lists guard refusals with their values, and the audited override', () => {
    const lines = section(drillReportMarkdown(lag), 'Guard refusals and overrides')
    expect(
      lines.some((l) =>
        /^\| T\+1\d:\d\d \| failover us-east-1 → us-west-2 \| rpo \| \d+ \| 60000 \| replication lag of us-west-2 is [\d.]+ (s|min), beyond the RPO of 60 s \|$/.test(
          l,
        ),
      ),
    ).toBe(true)
    expect(lines.some((l) => /^\| T\+14:00 \| rpo \| alice \| \d+ \| i1:failover:/.test(l))).toBe(
      true,
    )
    expect(drillReportMarkdown(outage)).not.toContain('## Guard refusals')
  })

  it('reports the ledger’s verification and replay', () => {
    const lines = section(drillReportMarkdown(outage), 'Ledger')
    expect(lines).toContain(`- Receipts: ${outage.ledger.receipts}, head \`${outage.ledger.head}\``)
    expect(lines).toContain('- Verification: **VERIFIED**')
    expect(lines).toContain(
      `- Replay through the machine: **REPLAYED** (${outage.ledger.replay.transitions} transitions)`,
    )
  })

  it('draws the timeline as a Mermaid gantt chart, and tables every event', () => {
    const lines = section(drillReportMarkdown(outage), 'Timeline')
    const open = lines.indexOf('```mermaid')
    const close = lines.indexOf('```', open + 1)
    expect(open).toBeGreaterThan(0)
    const chart = lines.slice(open + 1, close)
    expect(chart.join('\n')).toBe(drillTimelineMermaid(outage))
    expect(chart.slice(0, 4)).toEqual([
      'gantt',
      '    title region-outage (seed 21)',
      '    dateFormat x',
      '    axisFormat %M:%S',
    ])
    const sections = chart.filter((l) => l.startsWith('    section ')).map((l) => l.slice(12))
    expect(sections).toEqual([
      'Faults',
      'Detection',
      'Decisions',
      'Plan steps',
      'World',
      'Controller',
      'Completion',
    ])
    // Every task line is `name :tags, id, start, end` with no colon in the name.
    const tasks = chart.filter(
      (l) =>
        l.startsWith('    ') &&
        !l.startsWith('    section') &&
        !/^ {4}(title|dateFormat|axisFormat)/.test(l),
    )
    for (const t of tasks)
      expect(t).toMatch(/^ {4}[^:#;]+ :(crit, |done, |milestone, )*(crit, )?e\d+, \d+, \d+$/)
    expect(tasks.some((t) => /^ {4}outage of us-east-1 :crit, e\d+, \d+, 1200000$/.test(t))).toBe(
      true,
    )
    expect(
      tasks.some((t) => / :done, e\d+, \d+, \d+$/.test(t) && t.includes('verify-endpoint')),
    ).toBe(true)
    const table = lines.filter((l) => /^\| T\+/.test(l))
    expect(table).toHaveLength(outage.timeline.length)
    expect(table.some((l) => l.includes('| completed: failed over us-east-1 → us-west-2'))).toBe(
      true,
    )
  })

  it('is pure: the same result gives the same text', () => {
    expect(drillReportMarkdown(outage)).toBe(
      drillReportMarkdown(JSON.parse(drillReportJson(outage))),
    )
  })

  it('says FAILED and shows what did not hold', async () => {
    const r = await drill(
      { ...builtinScenario('region-outage'), expect: { failovers: 2 } },
      { seed: 1 },
    )
    const md = drillReportMarkdown(r)
    expect(md).toContain('**FAILED ❌**')
    expect(md).toContain('| ❌ | failovers | 2 | 1 |')
  })
})

describe('formatting', () => {
  it('formats durations and offsets', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(28_000)).toBe('28 s')
    expect(formatDuration(1_500)).toBe('1.5 s')
    expect(formatDuration(252_000)).toBe('4 min 12 s')
    expect(formatDuration(3_780_000)).toBe('1 h 3 min')
    expect(formatDuration(null)).toBe('unknown')
    expect(formatOffset(312_000)).toBe('T+5:12')
    expect(formatOffset(3_912_000)).toBe('T+1:05:12')
    expect(formatOffset(614_181)).toBe('T+10:14.181')
  })
})

describe('summarizeDrills', () => {
  it('counts passed and failed seeds, the worst RTO and RPO, and writes a table', async () => {
    const results: DrillResult[] = []
    for (let seed = 0; seed < 4; seed++) {
      results.push(
        await drill(
          { ...builtinScenario('region-outage'), targets: { rtoMs: 29_000, rpoMs: 30_000 } },
          { seed },
        ),
      )
    }
    const s = summarizeDrills(results)
    expect(s.runs).toBe(4)
    expect(s.passed + s.failed).toBe(4)
    expect(s.failovers).toBe(4)
    const worst = Math.max(...results.map((r) => r.failovers[0]!.rto.measuredMs!))
    expect(s.worstRto!.ms).toBe(worst)
    expect(s.failedSeeds).toEqual(results.filter((r) => !r.passed).map((r) => r.seed))
    const md = drillSummaryMarkdown(s)
    expect(md.split('\n')[0]).toBe('# Drill summary: region-outage')
    expect(md).toContain(`- Worst RTO: ${formatDuration(worst)} (seed ${String(s.worstRto!.seed)}`)
    expect(md.match(/^\| \d \| (✅|❌) \| 1 \|/gm)).toHaveLength(4)
  })
})
