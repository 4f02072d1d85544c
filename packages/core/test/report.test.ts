import { createLedger, createMemoryStore, type StoredReceipt, verify } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import {
  buildLedgerReport,
  builtinScenario,
  drill,
  escapeXml,
  ledgerReportHtml,
  ledgerReportMarkdown,
  operationTimelineSvg,
  stepTiming,
} from '../src/index.js'

async function drillReceipts(name: string, seed = 2): Promise<StoredReceipt[]> {
  let out: StoredReceipt[] = []
  await drill(builtinScenario(name), {
    seed,
    inspect: ({ receipts }) => {
      out = [...receipts]
    },
  })
  return out
}

describe('buildLedgerReport', () => {
  it('reads a failover, a failed failback, its rollback and a failback from the receipts', async () => {
    const receipts = await drillReceipts('failback')
    const report = await buildLedgerReport(receipts, { title: 'failback drill' })
    expect(report.operations.map((o) => `${o.kind}:${o.outcome}`)).toEqual([
      'failover:completed',
      'failback:failed',
      'rollback:completed',
      'failback:completed',
    ])
    const [failover, failedBack, rollback, failback] = report.operations
    expect(failover!.from).toBe('us-east-1')
    expect(failover!.to).toBe('us-west-2')
    expect(failover!.severity).toBe('P1')
    expect(failover!.detection[0]).toMatchObject({ region: 'us-east-1', to: 'down' })
    expect(failover!.detection[0]!.reasons[0]!.detector).toBe('consecutiveFailures')
    expect(failover!.detectedAt).toBeLessThan(failover!.decidedAt!)
    expect(failover!.guards.length).toBeGreaterThan(0)
    expect(failover!.rto?.met).toBe(true)
    expect(failover!.steps.map((s) => s.step)).toContain('promote')
    expect(failedBack!.error).toMatch(/health gate failed at 10 %/)
    expect(failedBack!.steps.find((s) => s.step === 'stage-10')?.outcome).toBe('failed')
    expect(rollback!.from).toBe('us-east-1')
    expect(rollback!.to).toBe('us-west-2')
    expect(failback!.stages).toEqual([
      { percent: 10, ok: true },
      { percent: 50, ok: true },
      { percent: 100, ok: true },
    ])
    expect(report.replay.status).toBe('REPLAYED')
    expect(report.replay.final).toBe('active')
    expect(report.verification).toBeNull()
  })

  it('measures the steps one after another against the plan', () => {
    const steps = [
      {
        step: 'a',
        startedAt: 0,
        finishedAt: 10,
        durationMs: 10,
        attempts: 1,
        outcome: 'succeeded',
      },
      {
        step: 'b',
        startedAt: 0,
        finishedAt: 30,
        durationMs: 30,
        attempts: 1,
        outcome: 'succeeded',
      },
      { step: 'c', startedAt: 30, finishedAt: 35, durationMs: 5, attempts: 1, outcome: 'failed' },
      {
        step: 'd',
        startedAt: 35,
        finishedAt: null,
        durationMs: null,
        attempts: 1,
        outcome: 'running',
      },
    ] as const
    expect(stepTiming(steps)).toEqual({ sequentialMs: 45, elapsedMs: 35, savedMs: 10 })
    expect(stepTiming([])).toBeNull()
  })

  it('shows the verification result, and a tampered ledger as FAILED', async () => {
    const receipts = await drillReceipts('region-outage')
    const store = createMemoryStore()
    const ledger = createLedger({ store })
    for (const r of receipts) await ledger.append({ type: r.type, data: r.data })
    const ok = await buildLedgerReport(receipts, { verification: await verify(store) })
    expect(ok.verification?.status).toBe('VERIFIED')
    expect(ledgerReportMarkdown(ok)).toContain('Ledger: **VERIFIED**')
    const bad = await buildLedgerReport(receipts, {
      verification: {
        status: 'FAILED',
        checked: receipts.length,
        problems: [{ kind: 'hash-mismatch', seq: 4, message: 'prev does not match' }] as never,
      },
    })
    const md = ledgerReportMarkdown(bad)
    expect(md).toContain('Ledger: **FAILED**')
    expect(md).toContain('hash-mismatch at receipt 4')
    expect(ledgerReportHtml(bad)).toContain('class="verdict bad"')
  })

  it('reports an empty ledger and receipts of unknown types without failing', async () => {
    const r = await buildLedgerReport([])
    expect(r.operations).toEqual([])
    expect(ledgerReportMarkdown(r)).toContain('No failover, failback or rollback is recorded.')
    const store = createMemoryStore()
    const ledger = createLedger({ store })
    await ledger.append({ type: 'drill.started', data: { scenario: 'x' } })
    const receipts: StoredReceipt[] = []
    for await (const x of ledger.read()) receipts.push(x)
    const other = await buildLedgerReport(receipts)
    expect(other.events).toMatchObject([{ kind: 'other', text: 'drill.started' }])
  })
})

describe('rendering', () => {
  it('Markdown: verdict, detection, guards, steps, RTO/RPO and the parallel timing', async () => {
    const report = await buildLedgerReport(await drillReceipts('region-outage'), {
      title: 'Region outage',
    })
    const md = ledgerReportMarkdown(report)
    expect(md).toMatch(/^# Region outage\n/)
    expect(md).toContain('## 1. failover us-east-1 → us-west-2 — completed')
    expect(md).toContain('**Detection**')
    expect(md).toContain('**Decision: guards**')
    expect(md).toContain('| ✅ | promote |')
    expect(md).toMatch(/\| ✅ \d+(\.\d+)? s \(target 10 min\) \|/)
    expect(md).toContain("Steps one after another (a runbook's sequential timeline)")
  })

  it('HTML and SVG escape everything that comes from the ledger', async () => {
    const store = createMemoryStore()
    const ledger = createLedger({ store })
    const evil = '<script>alert("x")</script>&'
    await ledger.append({
      type: 'failover.decided',
      data: {
        operation: 'op<1>',
        decision: { from: 'a"b', to: "c'd", severity: 'P1', mode: 'manual', reason: evil },
        guards: [{ name: evil, ok: true, reason: evil }],
        epoch: 1,
      },
    })
    await ledger.append({
      type: 'step.started',
      data: { operation: 'op<1>', step: evil, attempt: 1, epoch: 1 },
    })
    await ledger.append({
      type: 'step.failed',
      data: { operation: 'op<1>', step: evil, durationMs: 5, attempts: 1, error: evil, epoch: 1 },
    })
    const receipts: StoredReceipt[] = []
    for await (const x of ledger.read()) receipts.push(x)
    const report = await buildLedgerReport(receipts, { title: evil })
    const html = ledgerReportHtml(report)
    expect(html).not.toContain('<script>')
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;')
    expect(html).not.toMatch(
      /<(?!\/?(html|head|meta|title|style|body|h1|h2|h3|p|b|code|small|span|table|thead|tbody|tr|th|td|ul|li|section|svg|line|text|rect|circle|path)\b|!doctype)/i,
    )
    const svg = operationTimelineSvg(report.operations[0]!)
    expect(svg).toContain('data-operation="op&lt;1&gt;"')
    expect(svg).toContain('class="step failed"')
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&#39;')
    expect(ledgerReportMarkdown(report)).not.toContain('<script>')
  })

  it('draws one bar per step, the detection, decision, end and the RTO against its target', async () => {
    const report = await buildLedgerReport(await drillReceipts('region-outage'))
    const o = report.operations[0]!
    const svg = operationTimelineSvg(o)
    expect(svg.match(/<rect class="step /g)?.length).toBe(o.steps.length)
    expect(svg).toContain('class="mark detection"')
    expect(svg).toContain('class="mark decision"')
    expect(svg).toContain('class="mark end completed"')
    expect(svg).toContain('class="rto met"')
  })
})
