import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  canonicalize,
  createMemoryStore,
  createMemoryTarget,
  exportLedger,
  isBatonError,
  leafHash,
  manifestEntryKey,
  openFileStore,
  RESTORED_RECEIPT_TYPE,
  restore,
  verify,
} from '../src/index.js'
import {
  bundleText,
  dayLedger,
  entriesOf,
  linesOf,
  noon,
  setBundleText,
  testKeys,
} from './support/exports.js'

const { signer, verifier } = testKeys()
const now = noon('2026-01-26')
const clock = { now: () => Date.parse('2026-01-26T13:00:00.000Z') }

/** Four daily exports (10, 12, 9, 11 receipts: seqs 0–9, 10–21, 22–30, 31–41). */
async function exported(gzip = false) {
  const l = dayLedger()
  const target = createMemoryTarget()
  const days = ['2026-01-21', '2026-01-22', '2026-01-23', '2026-01-24']
  for (const [i, day] of days.entries()) {
    await l.day(day, [10, 12, 9, 11][i]!, 'a')
    await exportLedger(l.store, target, { date: day, signers: signer, now, gzip })
  }
  return { ...l, target, entries: entriesOf(target), lines: await linesOf(l.store) }
}

const tsOf = (line: string): string => JSON.parse(line).ts

describe('restore', () => {
  it.each([false, true])(
    'restores a clean export exactly, plus a ledger.restored receipt (gzip: %s)',
    async (gzip) => {
      const { target, lines } = await exported(gzip)
      const into = createMemoryStore()
      const r = await restore(target, into, { keys: [verifier], clock })
      expect(r).toMatchObject({
        status: 'restored',
        restoredThrough: 41,
        restored: 42,
        exportSize: 42,
        lost: { count: 0, fromSeq: null, toSeq: null, fromTs: null, toTs: null },
        reason: undefined,
        problems: [],
      })
      const restored = await linesOf(into)
      expect(restored.slice(0, 42)).toEqual(lines)
      expect(restored).toHaveLength(43)
      const last = JSON.parse(restored[42]!)
      expect(last).toMatchObject({
        seq: 42,
        type: RESTORED_RECEIPT_TYPE,
        ts: '2026-01-26T13:00:00.000Z',
        prev: leafHash(lines[41]!),
        data: {
          source: 'memory:exports',
          restoredThrough: 41,
          restoredHash: leafHash(lines[41]!),
          exportSize: 42,
          upTo: null,
          reason: null,
          lost: { count: 0 },
        },
      })
      expect(r.receipt.seq).toBe(42)
      expect((await verify(into)).status).toBe('VERIFIED')
    },
  )

  it('restores up to a chosen receipt', async () => {
    const { target, lines } = await exported()
    const into = createMemoryStore()
    const r = await restore(target, into, { keys: [verifier], upTo: 15, clock })
    expect(r).toMatchObject({ status: 'restored', restoredThrough: 15, lost: { count: 0 } })
    expect((await linesOf(into)).slice(0, 16)).toEqual(lines.slice(0, 16))
    expect(r.receipt.data).toMatchObject({ upTo: 15, exportSize: 42 })
    expect((await verify(into)).status).toBe('VERIFIED')
    const past = await restore(target, createMemoryStore(), { keys: [verifier], upTo: 42 }).catch(
      (e: unknown) => e,
    )
    expect(past).toMatchObject({ code: 'INVALID_INPUT', path: 'upTo' })
  })

  it.each([
    ['a changed value', (l: string) => l.replace('"i":4,', '"i":7,'), 4],
    [
      'a changed prev',
      (l: string) => l.replace(/"prev":"(.)/, (_m, c) => `"prev":"${c === 'a' ? 'b' : 'a'}`),
      4,
    ],
    ['an unparseable line', (l: string) => l.replace('{"data"', '{"dat'), 4],
    ['its first receipt changed', (l: string) => l.replace('"i":0,', '"i":9,'), 0],
    ['its last receipt changed', (l: string) => l.replace('"i":8,', '"i":1,'), 8],
  ])(
    'after %s in a bundle, restores up to the receipt before and reports the loss',
    async (_name, damage, at) => {
      const { target, entries, lines } = await exported()
      const e = entries[2]! // receipts 22–30
      const text = bundleText(target, e).split('\n')
      text[at] = damage(text[at]!)
      setBundleText(target, e, text.join('\n'))
      const into = createMemoryStore()
      const r = await restore(target, into, { keys: [verifier], clock })
      const X = e.firstSeq + at
      expect(r).toMatchObject({
        status: 'restored-with-loss',
        restoredThrough: X - 1,
        lost: {
          count: 41 - X + 1,
          fromSeq: X,
          toSeq: 41,
          fromTs: tsOf(lines[X]!),
          toTs: tsOf(lines[41]!),
        },
      })
      expect(r.reason).toMatch(new RegExp(`the bundle ${e.key} is damaged`))
      expect(r.problems.length).toBeGreaterThan(0)
      const restored = await linesOf(into)
      expect(restored.slice(0, X)).toEqual(lines.slice(0, X))
      expect(restored).toHaveLength(X + 1)
      expect(JSON.parse(restored[X]!)).toMatchObject({
        type: 'ledger.restored',
        prev: leafHash(lines[X - 1]!),
        data: { restoredThrough: X - 1, lost: { count: 42 - X, fromSeq: X, toSeq: 41 } },
      })
      expect((await verify(into)).status).toBe('VERIFIED')
    },
  )

  it('loses the whole bundle when its damage cannot be located (gzip, lines lost)', async () => {
    for (const damage of ['gzip', 'lines'] as const) {
      const { target, entries, lines } = await exported(damage === 'gzip')
      const e = entries[1]! // receipts 10–21
      if (damage === 'gzip') {
        const bytes = target.objects.get(e.key)!
        bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x10
      } else {
        const text = bundleText(target, e).split('\n')
        text.splice(3, 2)
        setBundleText(target, e, text.join('\n'))
      }
      const into = createMemoryStore()
      const r = await restore(target, into, { keys: [verifier], clock })
      expect(r, damage).toMatchObject({
        restoredThrough: 9,
        lost: { count: 32, fromSeq: 10, toSeq: 41, fromTs: e.firstTs, toTs: tsOf(lines[41]!) },
      })
      expect((await verify(into)).status).toBe('VERIFIED')
    }
  })

  it('stops at a missing bundle, or at a manifest entry that cannot be trusted', async () => {
    const a = await exported()
    a.target.objects.delete(a.entries[2]!.key)
    const r = await restore(a.target, createMemoryStore(), { keys: [verifier], clock })
    expect(r).toMatchObject({ restoredThrough: 21, lost: { count: 20, fromSeq: 22, toSeq: 41 } })
    expect(r.reason).toMatch(/is missing/)

    const b = await exported()
    const e = b.entries[3]!
    b.target.objects.set(
      manifestEntryKey(3),
      Buffer.from(canonicalize({ ...e, lastTs: e.firstTs })),
    )
    const r2 = await restore(b.target, createMemoryStore(), { keys: [verifier], clock })
    expect(r2).toMatchObject({ restoredThrough: 30, lost: { count: 11, fromSeq: 31 } })
    expect(r2.reason).toMatch(/cannot be trusted.*changed after its checkpoint was signed/)
    // A damaged bundle after upTo does not matter.
    const c = await exported()
    c.target.objects.delete(c.entries[3]!.key)
    const r3 = await restore(c.target, createMemoryStore(), { keys: [verifier], upTo: 30, clock })
    expect(r3).toMatchObject({ status: 'restored', restoredThrough: 30 })
  })

  it('refuses a non-empty store and writes nothing when nothing can be restored', async () => {
    const { target, store, entries } = await exported()
    const before = await linesOf(store)
    const refused = await restore(target, store, { keys: [verifier] }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', path: 'store' })
    expect(await linesOf(store)).toEqual(before)

    const unknown = testKeys('baton.test/exports', 5)
    const into = createMemoryStore()
    const bad = await restore(target, into, { keys: [unknown.verifier] }).catch((e: unknown) => e)
    expect(isBatonError(bad, 'CORRUPT')).toBe(true)
    expect(String(bad)).toMatch(/bad-signature/)
    target.objects.delete(entries[0]!.key)
    const gone = await restore(target, into, { keys: [verifier] }).catch((e: unknown) => e)
    expect(gone).toMatchObject({ code: 'NOT_FOUND' })
    expect(String(gone)).toMatch(/needs every bundle from receipt 0/)
    expect(into.size).toBe(0)
    const none = await restore(createMemoryTarget(), into, { keys: [verifier] }).catch(
      (e: unknown) => e,
    )
    expect(none).toMatchObject({ code: 'NOT_FOUND' })
    expect(await restore(target, into, { keys: [] }).catch((e: unknown) => e)).toMatchObject({
      path: 'keys',
    })
  })

  it('restores into a file store, leaving no temporary files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-restore-test-'))
    try {
      const { target, lines } = await exported(true)
      const store = await openFileStore(join(dir, 'ledger'), { create: true })
      const seen: number[] = []
      const r = await restore(target, store, {
        keys: [verifier],
        tmpDir: dir,
        onProgress: (p) => seen.push(p.receipts),
      })
      expect(r.restoredThrough).toBe(41)
      expect(seen.at(-1)).toBe(42)
      await store.close()
      const again = await openFileStore(join(dir, 'ledger'), { readOnly: true })
      expect((await linesOf(again)).slice(0, 42)).toEqual(lines)
      expect((await verify(again)).status).toBe('VERIFIED')
      await again.close()
      expect((await readdir(dir)).sort()).toEqual(['ledger'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
