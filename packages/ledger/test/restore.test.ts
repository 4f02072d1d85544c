import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type Anchor,
  anchorAfterManifestEntry,
  applyRetention,
  canonicalize,
  createCheckpoint,
  createLedger,
  createMemoryStore,
  createMemoryTarget,
  exportLedger,
  isBatonError,
  leafHash,
  type MemoryStore,
  manifestEntryKey,
  openFileStore,
  openTreeState,
  planRestore,
  RESTORED_RECEIPT_TYPE,
  restore,
  verify,
  verifyExport,
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

  it('moves the anchor past a missing bundle, and stops at a manifest entry that cannot be trusted', async () => {
    const a = await exported()
    a.target.objects.delete(a.entries[2]!.key)
    let made: MemoryStore | undefined
    const r = await restore(a.target, (anchor) => (made = createMemoryStore({ anchor })), {
      keys: [verifier],
      clock,
    })
    // The newest run of present bundles is entry 3 (31–41): the ledger begins after entry 2.
    expect(r).toMatchObject({
      status: 'restored',
      restoredThrough: 41,
      restored: 11,
      anchor: { seq: 31, prev: a.entries[2]!.lastHash, range: a.entries[2]!.range },
      retired: { count: 31, fromSeq: 0, toSeq: 30 },
      lost: { count: 0 },
    })
    expect((await linesOf(made!)).slice(0, 11)).toEqual(a.lines.slice(31))
    expect((await verify(made!)).status).toBe('VERIFIED')

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
    expect(gone).toMatchObject({ code: 'INVALID_INPUT', path: 'store' })
    expect(String(gone)).toMatch(
      /the restored ledger must begin at the anchor \{seq: 10, .* but memory:ledger begins at receipt 0; create it with that anchor .*createMemoryStore\(\{ anchor \}\)/,
    )
    expect(into.size).toBe(0)
    // An anchored store that does not need one is refused too.
    const anchored = createMemoryStore({ anchor: anchorAfterManifestEntry(entries[1]!) })
    const other = await restore(target, anchored, { keys: [verifier] }).catch((e: unknown) => e)
    expect(other).toMatchObject({ path: 'store' })
    expect(String(other)).toMatch(/begins at another anchor \(seq 22\)/)
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

/** `YYYY-MM-DD` of 2026-01-01 plus `i` days. */
const dayOf = (i: number): string => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10)

/**
 * Ten days of receipts (3–6 a day), each exported the next day at noon with
 * a 3-day retention: bundles 0–6 are deleted, 7–9 are present.
 */
async function retained(gzip = false) {
  const l = dayLedger()
  const target = createMemoryTarget()
  const retainDays = 3
  for (let i = 0; i < 10; i++) {
    await l.day(dayOf(i), 3 + (i % 4), 'a')
    await exportLedger(l.store, target, {
      date: dayOf(i),
      signers: signer,
      now: noon(dayOf(i + 1)),
      gzip,
      retainDays,
    })
  }
  const entries = entriesOf(target)
  return { ...l, target, entries, lines: await linesOf(l.store), retainDays }
}

describe('restore after retention', () => {
  it('rebuilds an anchored ledger from the bundles still present, which verifies, has the original checkpoints, and continues the export', async () => {
    const { target, entries, lines, store: original, retainDays } = await retained()
    expect(entries).toHaveLength(10)
    expect(entries.map((e) => target.objects.has(e.key))).toEqual([
      ...Array(7).fill(false),
      true,
      true,
      true,
    ])
    const size = lines.length
    const first = entries[7]!.firstSeq
    const plan = await planRestore(target, { keys: [verifier] })
    expect(plan).toMatchObject({
      firstEntry: 7,
      exportSize: size,
      anchor: {
        seq: first,
        prev: entries[6]!.lastHash,
        range: entries[6]!.range,
        source: `memory:exports ${manifestEntryKey(6)}`,
      },
      retired: {
        count: first,
        fromSeq: 0,
        toSeq: first - 1,
        fromTs: entries[0]!.firstTs,
        toTs: entries[6]!.lastTs,
      },
    })
    // A plain store is refused, saying how to make one; a factory gets the anchor.
    const plain = await restore(target, createMemoryStore(), { keys: [verifier] }).catch(
      (e: unknown) => e,
    )
    expect(plain).toMatchObject({ code: 'INVALID_INPUT', path: 'store' })
    let given: Anchor | undefined
    let into: MemoryStore | undefined
    const r = await restore(
      target,
      (anchor) => {
        given = anchor
        into = createMemoryStore({ anchor })
        return into
      },
      { keys: [verifier], clock: { now: () => noon(dayOf(10)) } },
    )
    expect(given).toEqual(plan.anchor)
    expect(r).toMatchObject({
      status: 'restored',
      restoredThrough: size - 1,
      restored: size - first,
      exportSize: size,
      anchor: plan.anchor,
      retired: plan.retired,
      lost: { count: 0 },
    })
    const restored = await linesOf(into!)
    expect(restored.slice(0, size - first)).toEqual(lines.slice(first))
    expect(JSON.parse(restored.at(-1)!)).toMatchObject({
      seq: size,
      type: RESTORED_RECEIPT_TYPE,
      data: { retired: plan.retired, lost: { count: 0 }, restoredThrough: size - 1 },
    })

    // It verifies from its anchor, and against the manifest's own signed checkpoints.
    const report = await verify(into!, {
      checkpoint: { note: entries[9]!.checkpoint, keys: [verifier] },
    })
    expect(report).toMatchObject({
      status: 'VERIFIED',
      anchor: { seq: first },
      checkpoint: { status: 'matches' },
    })
    for (const e of entries.slice(6)) {
      const check = await verify(into!, { checkpoint: { note: e.checkpoint, keys: [verifier] } })
      expect(check.checkpoint?.status, `entry ${e.index}`).toBe('matches')
    }
    // Its checkpoints are the original's at the same size, and so are its proofs.
    for (const n of [first, first + 1, size]) {
      const a = await createCheckpoint(into!, [signer], { size: n })
      const b = await createCheckpoint(original, [signer], { size: n })
      expect(a.note).toBe(b.note)
    }
    const state = await openTreeState(into!)
    const fullState = await openTreeState(original)
    expect(await state.inclusionProof(first + 2, size)).toEqual(
      await fullState.inclusionProof(first + 2, size),
    )

    // Appends and the daily export continue the same manifest.
    const ledger = createLedger({ store: into!, clock: { now: () => noon(dayOf(10)) } })
    await ledger.append({ type: 'probe.sampled', data: { after: 'restore' } })
    const next = await exportLedger(into!, target, {
      date: dayOf(10),
      signers: signer,
      now: noon(dayOf(11)),
      retainDays,
    })
    expect(next).toMatchObject({
      status: 'exported',
      entry: { index: 10, firstSeq: size, lastSeq: size + 1, prevEntry: expect.any(String) },
    })
    const v = await verifyExport(target, { keys: [verifier], retainDays, now: noon(dayOf(11)) })
    expect(v.status).toBe('VERIFIED')
  })

  it('restores after retention up to damage in a present bundle, reporting retired and lost apart', async () => {
    const { target, entries, lines } = await retained(true)
    const e = entries[8]!
    const text = bundleText(target, e).split('\n')
    text[1] = text[1]!.replace('"i":1,', '"i":2,')
    setBundleText(target, e, text.join('\n'))
    const into = createMemoryStore({
      anchor: (await planRestore(target, { keys: [verifier] })).anchor,
    })
    const r = await restore(target, into, { keys: [verifier], clock })
    const X = e.firstSeq + 1
    const first = entries[7]!.firstSeq
    expect(r).toMatchObject({
      status: 'restored-with-loss',
      restoredThrough: X - 1,
      restored: X - first,
      retired: { count: first, fromSeq: 0, toSeq: first - 1 },
      lost: {
        count: lines.length - X,
        fromSeq: X,
        toSeq: lines.length - 1,
        fromTs: tsOf(lines[X]!),
        toTs: entries[9]!.lastTs,
      },
    })
    expect(r.reason).toMatch(/is damaged: broken-link at receipt/)
    expect(r.receipt.data).toMatchObject({
      retired: { count: first, toSeq: first - 1 },
      lost: { count: lines.length - X, fromSeq: X },
    })
    expect((await linesOf(into)).slice(0, X - first)).toEqual(lines.slice(first, X))
    expect((await verify(into)).status).toBe('VERIFIED')
  })

  it('restores when every bundle was retired: an empty ledger at the export’s end, which continues it', async () => {
    const { target, entries, store: original, lines } = await retained()
    // Nothing new for a week: every export run deletes more, until no bundle is left.
    for (let i = 10; i < 17; i++) {
      await exportLedger(original, target, {
        date: dayOf(i),
        signers: signer,
        now: noon(dayOf(i + 1)),
        retainDays: 3,
      })
    }
    expect([...target.objects.keys()].filter((k) => k.startsWith('bundles/'))).toEqual([])
    let into: MemoryStore | undefined
    const r = await restore(target, (anchor) => (into = createMemoryStore({ anchor })), {
      keys: [verifier],
      clock,
    })
    const size = lines.length
    expect(r).toMatchObject({
      status: 'restored',
      restored: 0,
      restoredThrough: size - 1,
      anchor: { seq: size, prev: entries[9]!.lastHash },
      retired: { count: size, toSeq: size - 1, toTs: entries[9]!.lastTs },
      lost: { count: 0 },
    })
    expect(r.receipt).toMatchObject({ seq: size, prev: entries[9]!.lastHash })
    expect((await verify(into!)).status).toBe('VERIFIED')
    expect(
      (await verify(into!, { checkpoint: { note: entries[9]!.checkpoint, keys: [verifier] } }))
        .checkpoint?.status,
    ).toBe('matches')
    const next = await exportLedger(into!, target, {
      signers: signer,
      now: noon(dayOf(18)),
      retainDays: 3,
    })
    expect(next).toMatchObject({ status: 'exported', entry: { firstSeq: size, lastSeq: size } })
  })

  it('with upTo, restores the newest present run up to it, and refuses a point in a retired bundle', async () => {
    const { target, entries, lines } = await retained()
    const upTo = entries[8]!.firstSeq + 1
    let into: MemoryStore | undefined
    const r = await restore(target, (anchor) => (into = createMemoryStore({ anchor })), {
      keys: [verifier],
      upTo,
      clock,
    })
    expect(r).toMatchObject({
      status: 'restored',
      restoredThrough: upTo,
      anchor: { seq: entries[7]!.firstSeq },
    })
    expect((await linesOf(into!)).slice(0, -1)).toEqual(lines.slice(entries[7]!.firstSeq, upTo + 1))
    const inRetired = entries[3]!.firstSeq + 1
    const refused = await restore(target, () => createMemoryStore(), {
      keys: [verifier],
      upTo: inRetired,
    }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'NOT_FOUND' })
    expect(String(refused)).toMatch(
      new RegExp(
        `after the anchor at receipt ${entries[2]!.lastSeq + 1}: the bundle .* is missing`,
      ),
    )
  })

  it('restores after retention into a file store it creates, which reopens anchored and proves the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-restore-test-'))
    try {
      const { target, entries, lines, store: original } = await retained(true)
      const path = join(dir, 'ledger')
      const r = await restore(
        target,
        (anchor) =>
          openFileStore(path, { create: true, ...(anchor === undefined ? {} : { anchor }) }),
        { keys: [verifier], tmpDir: dir },
      )
      expect(r.anchor?.seq).toBe(entries[7]!.firstSeq)
      const again = await openFileStore(path, { readOnly: true })
      expect(again.anchor).toEqual(r.anchor)
      expect((await linesOf(again)).slice(0, -1)).toEqual(lines.slice(entries[7]!.firstSeq))
      const report = await verify(again, {
        checkpoint: { note: entries[9]!.checkpoint, keys: [verifier] },
      })
      expect(report.status).toBe('VERIFIED')
      const a = await createCheckpoint(again, [signer], { size: lines.length })
      const b = await createCheckpoint(original, [signer], { size: lines.length })
      expect(a.note).toBe(b.note)
      await again.close()
      expect((await readdir(dir)).sort()).toEqual(['ledger'])
      // The bundles the restore read are untouched by it; retention does not change the plan.
      expect(await applyRetention(target, { retainDays: 3, now: noon(dayOf(10)) })).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
