import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { builtinScenarioInputs } from '@baton/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseSeedRange } from '../src/commands/drill.js'
import { baton, tempDir } from './support.js'

let dir: string
let cleanup: () => Promise<void>

beforeEach(async () => {
  ;({ dir, cleanup } = await tempDir())
})
afterEach(() => cleanup())

const outage = builtinScenarioInputs().find((s) => s.name === 'region-outage')!

describe('baton drill <name>', () => {
  it('runs a built-in scenario and prints a readable summary; exit 0', async () => {
    const r = await baton(['drill', 'region-outage', '--seed', '7'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('Drill region-outage (seed 7): PASSED')
    expect(r.stdout).toMatch(/ok {3}failovers: 1\n/)
    expect(r.stdout).toMatch(/ok {3}ledger verifies \(invariant\): VERIFIED/)
    expect(r.stdout).toMatch(
      /us-east-1 -> us-west-2 \(P1 automatic\): RTO .+ \(target 10 min\) met, RPO/,
    )
    expect(r.stdout).toMatch(/Ledger: \d+ receipts, VERIFIED, REPLAYED/)
  })

  it('prints the result as JSON, identical for the same seed', async () => {
    const a = await baton(['drill', 'planned-maintenance', '--seed', '3', '--json'])
    const b = await baton(['drill', 'planned-maintenance', '--seed', '3', '--json'])
    expect(a.code).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    const result = JSON.parse(a.stdout)
    expect(result).toMatchObject({ scenario: 'planned-maintenance', seed: 3, passed: true })
    expect(result.failovers[0].rpo).toMatchObject({ measuredMs: 0, met: true })
  })

  it('lists the built-in scenarios for an unknown name; exit 2', async () => {
    const r = await baton(['drill', 'no-such-thing'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /unknown scenario "no-such-thing"; built-in scenarios: region-outage, /,
    )
    expect(r.stderr).toContain('eu-residency')
    expect(r.stderr).toContain('random')
  })

  it('refuses bad arguments; exit 2', async () => {
    expect((await baton(['drill'])).code).toBe(2)
    expect((await baton(['drill', 'region-outage', '--seed', 'x'])).code).toBe(2)
    const both = await baton(['drill', 'region-outage', '--seed', '1', '--seeds', '1..2'])
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/either --seed or --seeds/)
    const range = await baton(['drill', 'region-outage', '--seeds', '5..2'])
    expect(range.code).toBe(2)
    expect(range.stderr).toMatch(/--seeds: 2 is below 5/)
  })
})

describe('baton drill <file.json>', () => {
  it('runs a scenario file, writes the Markdown report; exit 1 when an expectation fails', async () => {
    const file = join(dir, 'outage.json')
    await writeFile(file, JSON.stringify({ ...outage, expect: { ...outage.expect, failovers: 2 } }))
    const report = join(dir, 'report.md')
    const r = await baton(['drill', 'outage.json', '--report', 'report.md'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^Drill region-outage \(seed 0\): FAILED/)
    expect(r.stdout).toMatch(/FAIL failovers: 1 \(expected 2\)/)
    expect(r.stdout).toContain(`Report: ${report}`)
    const md = await readFile(report, 'utf8')
    expect(md).toMatch(/^# Drill report: region-outage\n/)
    expect(md).toContain('**FAILED ❌**')
    expect(md).toContain('```mermaid\ngantt')
  })

  it('writes the JSON result for a .json report', async () => {
    const file = join(dir, 'outage.json')
    await writeFile(file, JSON.stringify(outage))
    const r = await baton(['drill', file, '--seed', '2', '--report', join(dir, 'result.json')])
    expect(r.code).toBe(0)
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'))
    expect(result).toMatchObject({ scenario: 'region-outage', seed: 2, passed: true })
  })

  it('names the bad field of an invalid scenario, and reports unreadable or non-JSON files; exit 2', async () => {
    const bad = join(dir, 'bad.json')
    await writeFile(
      bad,
      JSON.stringify({ ...outage, faults: [{ kind: 'outage', at: '5m', region: 'mars-1' }] }),
    )
    const r = await baton(['drill', bad])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/faults\[0\]\.region: unknown region "mars-1"/)
    await writeFile(join(dir, 'broken.json'), '{ nope')
    const broken = await baton(['drill', join(dir, 'broken.json')])
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/is not JSON/)
    const missing = await baton(['drill', join(dir, 'missing.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read scenario .*ENOENT/)
  })
})

describe('baton drill --seeds', () => {
  it('runs every seed of the range and summarizes; writes the summary report', async () => {
    const r = await baton(['drill', 'lag-spike', '--seeds', '1..6', '--report', join(dir, 's.md')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Drill lag-spike, seeds 1\.\.6: 6 passed, 0 failed \(/)
    expect(r.stdout).toMatch(/Worst RTO: .+ \(seed \d, met\)/)
    expect(r.stdout).toMatch(/Worst RPO: .+ \(seed \d, MISSED\)/)
    const md = await readFile(join(dir, 's.md'), 'utf8')
    expect(md).toMatch(/^# Drill summary: lag-spike\n/)
    expect(md.match(/^\| \d \| ✅ \|/gm)).toHaveLength(6)
  })

  it('counts failing seeds and exits 1; JSON summary', async () => {
    const file = join(dir, 'strict.json')
    await writeFile(file, JSON.stringify({ ...outage, targets: { rtoMs: '20s', rpoMs: '30s' } }))
    const r = await baton(['drill', file, '--seeds', '0..9', '--json'])
    expect(r.code).toBe(1)
    const summary = JSON.parse(r.stdout)
    expect(summary.runs).toBe(10)
    expect(summary.failed).toBeGreaterThan(0)
    expect(summary.failedChecks.rtoMet).toBe(summary.failed)
    expect(summary.worstRto.met).toBe(false)
  })

  it('draws a new random scenario from each seed', async () => {
    const r = await baton(['drill', 'random', '--seeds', '0..19', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ runs: 20, passed: 20, failed: 0 })
  })

  it('shows a progress bar when asked (BATON_PROGRESS=1)', async () => {
    const r = await baton(['drill', 'region-outage', '--seeds', '0..2'], {
      env: { BATON_PROGRESS: '1' },
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/drill region-outage \|.*\| 3\/3 seeds \| 0 failed/)
  })

  it('parses seed ranges', () => {
    expect(parseSeedRange('3..3')).toEqual({ from: 3, to: 3 })
    expect(() => parseSeedRange('3-4')).toThrow(/A\.\.B/)
    expect(() => parseSeedRange('0..2000000')).toThrow(/at most/)
  })
})
