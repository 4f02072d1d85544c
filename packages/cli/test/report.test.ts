import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { baton, tempDir } from './support.js'

let dir: string
let ledger: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ dir, cleanup } = await tempDir())
  ledger = join(dir, 'demo')
  const r = await baton(['demo', '--dir', ledger])
  expect(r.code).toBe(0)
})
afterAll(() => cleanup())

describe('baton report', () => {
  it('prints the Markdown report of a ledger: detection, decision, steps, RTO/RPO, verification', async () => {
    const r = await baton(['report', ledger, '--title', 'Demo drill'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^# Demo drill\n/)
    expect(r.stdout).toContain('**VERIFIED · replay REPLAYED · 2 operations · objectives met**')
    expect(r.stdout).toContain('## 1. failover us-central1 → europe-west1 — completed')
    expect(r.stdout).toContain('consecutiveFailures = 3 (threshold 3)')
    expect(r.stdout).toContain('**Decision: guards**')
    expect(r.stdout).toMatch(/\| ✅ \| promote \| T\+/)
    expect(r.stdout).toMatch(/\| ✅ \d+ s \(target 30 min\) \| ✅ 0 ms \(target 0 ms\) \|/)
    expect(r.stdout).toContain('## 2. failback europe-west1 → us-central1 — completed')
    expect(r.stdout).toContain('Stages: 10 % ✅, 50 % ✅, 100 % ✅.')
    expect(r.stdout).toMatch(/Ledger: \*\*VERIFIED\*\* \(\d+ receipts checked\)/)
  })

  it('writes Markdown and HTML files, and JSON on request', async () => {
    const md = join(dir, 'r.md')
    const html = join(dir, 'r.html')
    const r = await baton(['report', ledger, '--out', md, '--html', html])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(html)
    expect(await readFile(md, 'utf8')).toContain('## Verification')
    const page = await readFile(html, 'utf8')
    expect(page).toMatch(/^<!doctype html>/)
    expect(page).not.toMatch(/<script|<link|src=|href=/i)
    const json = JSON.parse((await baton(['report', ledger, '--json'])).stdout)
    expect(json.operations.map((o: { kind: string }) => o.kind)).toEqual(['failover', 'failback'])
    expect(json.verification.status).toBe('VERIFIED')
  })

  it('exits 1 and says FAILED for a tampered ledger; 2 for a missing one or an unwritable file', async () => {
    const { dir: d2, cleanup: c2 } = await tempDir()
    try {
      const copy = join(d2, 'l')
      expect((await baton(['demo', '--dir', copy])).code).toBe(0)
      const segs = join(copy, 'segments')
      const seg = join(segs, (await readdir(segs)).sort()[0]!)
      const text = await readFile(seg, 'utf8')
      await writeFile(seg, text.replace('"us-central1"', '"us-centrai1"'))
      const r = await baton(['report', copy])
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('Ledger: **FAILED**')
      expect(r.stdout).toMatch(/hash-mismatch|broken-link/)
      expect((await baton(['report', join(d2, 'missing')])).code).toBe(2)
      const bad = await baton(['report', ledger, '--html', join(d2, 'no', 'such', 'dir', 'x.html')])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('cannot write the HTML report')
      expect((await baton(['report', 'nosuch://x'])).code).toBe(2)
    } finally {
      await c2()
    }
  })
})
