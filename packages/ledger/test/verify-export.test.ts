import { describe, expect, it } from 'vitest'
import {
  canonicalize,
  createMemoryTarget,
  exportLedger,
  type ManifestEntry,
  type MemoryTarget,
  manifestEntryKey,
  verifyExport,
} from '../src/index.js'
import {
  bundleText,
  dayLedger,
  entriesOf,
  noon,
  setBundleText,
  testKeys,
} from './support/exports.js'

const { signer, verifier } = testKeys()
const now = noon('2026-01-26')

/** Four daily exports of a ledger (10, 12, 9, 11 receipts). */
async function exported(options: { gzip?: boolean; tag?: string } = {}) {
  const l = dayLedger()
  const target = createMemoryTarget()
  const days = ['2026-01-21', '2026-01-22', '2026-01-23', '2026-01-24']
  for (const [i, day] of days.entries()) {
    await l.day(day, [10, 12, 9, 11][i]!, options.tag)
    await exportLedger(l.store, target, {
      date: day,
      signers: signer,
      now,
      gzip: options.gzip ?? false,
    })
  }
  return { ...l, target, entries: entriesOf(target) }
}

function putEntry(target: MemoryTarget, key: string, entry: ManifestEntry): void {
  target.objects.set(key, Buffer.from(canonicalize(entry)))
}

async function check(target: MemoryTarget, keys = [verifier]) {
  return verifyExport(target, { keys, now })
}

describe('verifyExport', () => {
  it('verifies an intact export and reports progress toward a known total', async () => {
    const { target, entries } = await exported({ gzip: true })
    const seen: { bytes: number; totalBytes: number | undefined }[] = []
    const r = await verifyExport(target, { keys: [verifier], now, onProgress: (p) => seen.push(p) })
    expect(r).toMatchObject({ status: 'VERIFIED', entries: 4, checked: 42, valid: 42, size: 42 })
    expect(r.checkpoint).toBe(entries[3]!.checkpoint)
    const total = entries.reduce((s, e) => s + e.bytes, 0)
    expect(seen.at(-1)).toMatchObject({ bytes: total, totalBytes: total })
    expect(r.bytes).toBe(total)
  })

  it.each([false, true])('catches a flipped byte in a bundle (gzip: %s)', async (gzip) => {
    const { target, entries } = await exported({ gzip })
    const bytes = target.objects.get(entries[1]!.key)!
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x04
    const r = await check(target)
    expect(r.status).toBe('FAILED')
    expect(r.bundles).toMatchObject({ verified: 3, damaged: 1 })
    expect(r.counts['hash-mismatch']).toBeGreaterThanOrEqual(1)
    expect(r.problems[0]).toMatchObject({ kind: 'hash-mismatch', file: entries[1]!.key })
  })

  it('locates a changed receipt inside a bundle', async () => {
    const { target, entries } = await exported()
    const e = entries[2]!
    setBundleText(target, e, bundleText(target, e).replace('"i":4,', '"i":5,'))
    const r = await check(target)
    expect(r.status).toBe('FAILED')
    const kinds = r.problems.map((p) => [p.kind, p.seq, p.file])
    expect(kinds).toContainEqual(['hash-mismatch', undefined, e.key])
    expect(kinds).toContainEqual(['hash-mismatch', e.firstSeq + 4, e.key])
  })

  it('catches an edited manifest entry, even with its bundle edited to match', async () => {
    const { target, entries } = await exported()
    const e = entries[1]!
    putEntry(target, manifestEntryKey(1), { ...e, lastTs: '2026-01-22T23:59:59.000Z' })
    const r = await check(target)
    expect(r.status).toBe('FAILED')
    expect(r.problems.map((p) => p.kind)).toEqual(['hash-mismatch', 'broken-link'])
    expect(r.problems[0]!.message).toMatch(/changed after its checkpoint was signed/)
    expect(r.problems[1]).toMatchObject({ file: manifestEntryKey(2) })
  })

  it('catches a removed entry and reordered entries', async () => {
    const removed = await exported()
    removed.target.objects.delete(manifestEntryKey(1))
    const r = await check(removed.target)
    expect(r.status).toBe('FAILED')
    expect(r.problems[0]).toMatchObject({ kind: 'gap', message: 'manifest entry 1 is missing' })
    // The orphaned bundle is reported too.
    expect(r.unreferenced).toEqual([removed.entries[1]!.key])

    const swapped = await exported()
    const one = swapped.target.objects.get(manifestEntryKey(1))!
    swapped.target.objects.set(
      manifestEntryKey(1),
      swapped.target.objects.get(manifestEntryKey(2))!,
    )
    swapped.target.objects.set(manifestEntryKey(2), one)
    const s = await check(swapped.target)
    expect(s.status).toBe('FAILED')
    expect(s.counts.reorder).toBeGreaterThanOrEqual(2)
    expect(s.counts['broken-link']).toBeGreaterThanOrEqual(1)
  })

  it("catches a bundle swapped for another ledger's", async () => {
    const mine = await exported()
    const theirs = await exported({ tag: 'other' })
    for (const i of [0, 2]) {
      mine.target.objects.set(
        mine.entries[i]!.key,
        theirs.target.objects.get(theirs.entries[i]!.key)!,
      )
    }
    const r = await check(mine.target)
    expect(r.status).toBe('FAILED')
    expect(r.bundles.damaged).toBe(2)
    // Even with the manifest's size and hash updated to match (the entry no longer matches its signature).
    const again = await exported()
    const e = again.entries[0]!
    const other = theirs.target.objects.get(theirs.entries[0]!.key)!
    again.target.objects.set(e.key, other)
    const { createHash } = await import('node:crypto')
    putEntry(again.target, manifestEntryKey(0), {
      ...e,
      bytes: other.length,
      sha256: createHash('sha256').update(other).digest('hex'),
    })
    const r2 = await check(again.target)
    expect(r2.status).toBe('FAILED')
    expect(r2.problems.map((p) => p.kind)).toContain('hash-mismatch')
    expect(r2.problems.map((p) => p.kind)).toContain('fork')
  })

  it('reports a checkpoint signed by an unknown key; several keys rotate', async () => {
    const l = dayLedger()
    const target = createMemoryTarget()
    const intruder = testKeys('baton.test/exports', 9)
    await l.day('2026-01-21', 5)
    await exportLedger(l.store, target, { date: '2026-01-21', signers: signer, now })
    await l.day('2026-01-22', 5)
    await exportLedger(l.store, target, { date: '2026-01-22', signers: intruder.signer, now })
    const r = await check(target)
    expect(r.status).toBe('FAILED')
    expect(r.counts['bad-signature']).toBe(1)
    expect(r.problems[0]).toMatchObject({ kind: 'bad-signature', file: manifestEntryKey(1) })
    expect((await check(target, [verifier, intruder.verifier])).status).toBe('VERIFIED')
  })

  it('reports malformed entries and stray keys, and refuses an empty target', async () => {
    const { target } = await exported()
    target.objects.set(manifestEntryKey(3), Buffer.from('{"v":1}'))
    target.objects.set('manifest/readme.txt', Buffer.from('hi'))
    const r = await check(target)
    expect(r.status).toBe('FAILED')
    expect(r.problems.map((p) => p.kind)).toEqual(['malformed', 'malformed'])
    expect(r.problems[0]!.message).toMatch(/missing field/)
    const empty = await verifyExport(createMemoryTarget(), { keys: [verifier] }).catch(
      (e: unknown) => e,
    )
    expect(empty).toMatchObject({ code: 'NOT_FOUND' })
    const bad = await verifyExport(target, { keys: [] }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ code: 'INVALID_INPUT', path: 'keys' })
  })

  it('catches a truncated bundle and a bundle with extra receipts', async () => {
    const { target, entries } = await exported()
    const e = entries[0]!
    const text = bundleText(target, e)
    setBundleText(target, e, text.slice(0, text.length - 40))
    const r = await check(target)
    expect(r.problems.map((p) => p.kind)).toContain('truncated')
    const second = await exported()
    const lines = bundleText(second.target, second.entries[1]!)
    const next = bundleText(second.target, second.entries[2]!).split('\n')[0]
    setBundleText(second.target, second.entries[1]!, `${lines}${next}\n`)
    const r2 = await check(second.target)
    expect(r2.status).toBe('FAILED')
    expect(r2.problems.map((p) => p.message).join('\n')).toMatch(/receipts past/)
  })
})
