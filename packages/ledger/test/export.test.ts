import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  anchorAfterManifestEntry,
  createAnchor,
  createDirectoryTarget,
  createMemoryStore,
  createMemoryTarget,
  type ExportTarget,
  exportLedger,
  isBatonError,
  leafHash,
  openCheckpoint,
  parseManifestEntry,
  readLastManifestEntry,
  verify,
  verifyExport,
  ZERO_HASH,
} from '../src/index.js'
import { bundleText, dayLedger, entriesOf, linesOf, noon, testKeys } from './support/exports.js'

const { signer, verifier } = testKeys()

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  )
}

/** Three days of receipts with an empty day between: 10, 15, none, 8. */
async function threeDays() {
  const l = dayLedger()
  await l.day('2026-01-20', 10)
  await l.day('2026-01-21', 15)
  await l.day('2026-01-23', 8)
  return l
}

describe('exportLedger', () => {
  it.each([false, true])(
    'exports several days (gzip: %s) as chained, signed entries',
    async (gzip) => {
      const { store } = await threeDays()
      const target = createMemoryTarget()
      const now = noon('2026-01-25')
      const run = (date: string) =>
        exportLedger(store, target, { date, signers: signer, gzip, now })
      const d1 = await run('2026-01-20')
      expect(d1).toMatchObject({ status: 'exported', receipts: 10, retired: [], leftovers: [] })
      expect(d1.entry).toMatchObject({ index: 0, firstSeq: 0, lastSeq: 9, date: '2026-01-20' })
      const d2 = await run('2026-01-21')
      expect(d2.entry).toMatchObject({ index: 1, firstSeq: 10, lastSeq: 24 })
      const d3 = await run('2026-01-22')
      expect(d3).toMatchObject({ status: 'nothing-to-export', entry: undefined, receipts: 0 })
      expect(d3.message).toMatch(/nothing to export for 2026-01-22/)
      const d4 = await run('2026-01-23')
      expect(d4.entry).toMatchObject({ index: 2, firstSeq: 25, lastSeq: 32 })

      const entries = entriesOf(target)
      expect(entries).toHaveLength(3)
      const lines = await linesOf(store)
      for (const e of entries) {
        expect(e.encoding).toBe(gzip ? 'gzip' : 'identity')
        expect(e.key).toMatch(
          gzip ? /^bundles\/\d{20}-\d{4}-\d\d-\d\d-[0-9a-f]{8}\.jsonl\.gz$/ : /\.jsonl$/,
        )
        expect(bundleText(target, e)).toBe(`${lines.slice(e.firstSeq, e.lastSeq + 1).join('\n')}\n`)
        expect(e.bytes).toBe(target.objects.get(e.key)!.length)
        expect(e.lastHash).toBe(leafHash(lines[e.lastSeq]!))
        expect(e.firstTs).toBe(JSON.parse(lines[e.firstSeq]!).ts)
        expect(e.lastTs).toBe(JSON.parse(lines[e.lastSeq]!).ts)
        const cp = openCheckpoint(e.checkpoint, [verifier])
        expect(cp.size).toBe(e.lastSeq + 1)
        expect(cp.origin).toBe(signer.name)
      }
      expect(entries[0]!.prevEntry).toBe(ZERO_HASH)
      const report = await verifyExport(target, { keys: [verifier], now })
      expect(report).toMatchObject({
        status: 'VERIFIED',
        entries: 3,
        bundles: { verified: 3, retired: 0, missing: 0, damaged: 0 },
        checked: 33,
        valid: 33,
        size: 33,
        head: leafHash(lines[32]!),
        unreferenced: [],
      })
    },
  )

  it('is idempotent: a day already exported writes nothing and says so', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    await exportLedger(store, target, { date: '2026-01-21', signers: signer, now })
    const keys = [...target.objects.keys()].sort()
    for (const date of ['2026-01-21', '2026-01-20', '2026-01-19']) {
      const again = await exportLedger(store, target, { date, signers: signer, now })
      expect(again.status).toBe('already-exported')
      expect(again.message).toMatch(/already exported/)
      expect(again.last?.lastSeq).toBe(24)
    }
    expect([...target.objects.keys()].sort()).toEqual(keys)
    // Everything up to the head, then nothing new.
    const rest = await exportLedger(store, target, { signers: [signer], now })
    expect(rest.entry).toMatchObject({ firstSeq: 25, lastSeq: 32, date: '2026-01-25' })
    const none = await exportLedger(store, target, { signers: [signer], now })
    expect(none.status).toBe('nothing-to-export')
    const covered = await exportLedger(store, target, { signers: [signer], now, to: 30 })
    expect(covered.status).toBe('already-exported')
  })

  it('exports a range with from/to and continues from the manifest', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    const a = await exportLedger(store, target, { signers: signer, now, from: 0, to: 4 })
    expect(a.entry).toMatchObject({ firstSeq: 0, lastSeq: 4 })
    const b = await exportLedger(store, target, { signers: signer, now, to: 20 })
    expect(b.entry).toMatchObject({ firstSeq: 5, lastSeq: 20 })
    const gap = await errorOf(exportLedger(store, target, { signers: signer, now, from: 30 }))
    expect(gap).toMatchObject({ code: 'INVALID_INPUT', path: 'from' })
    expect((await verifyExport(target, { keys: [verifier], now })).status).toBe('VERIFIED')
  })

  it('refuses bad options naming them, writing nothing', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    const cases: [Record<string, unknown>, string][] = [
      [{ signers: [] }, 'signers'],
      [{ signers: [{}] }, 'signers[0]'],
      [{ signers: signer, date: '2026-02-30' }, 'date'],
      [{ signers: signer, date: '2026-01-25' }, 'date'],
      [{ signers: signer, date: '2026-01-26' }, 'date'],
      [{ signers: signer, date: new Date(Number.NaN) }, 'date'],
      [{ signers: signer, retainDays: 0 }, 'retainDays'],
      [{ signers: signer, retainDays: 1.5 }, 'retainDays'],
      [{ signers: signer, gzip: { level: 12 } }, 'gzip.level'],
      [{ signers: signer, gzip: 'yes' }, 'gzip'],
      [{ signers: signer, to: -1 }, 'to'],
      [{ signers: signer, from: 5, to: 2 }, 'to'],
      [{ signers: signer, origin: '' }, 'origin'],
      [{ signers: signer, now: Number.NaN }, 'now'],
    ]
    for (const [options, path] of cases) {
      const error = await errorOf(
        exportLedger(store, target, { now, ...options } as unknown as Parameters<
          typeof exportLedger
        >[2]),
      )
      expect(error, JSON.stringify(options)).toMatchObject({ code: 'INVALID_INPUT', path })
    }
    const early = await errorOf(
      exportLedger(store, target, { signers: signer, now, date: '2026-01-25' }),
    )
    expect(String(early)).toMatch(/2026-01-25 is not over yet/)
    expect(target.objects.size).toBe(0)
  })

  it('never references a partial bundle: a failed bundle write leaves nothing', async () => {
    const { store } = await threeDays()
    const inner = createMemoryTarget()
    const failing: ExportTarget = {
      ...inner,
      location: inner.location,
      async put(key, body) {
        if (!key.startsWith('bundles/')) return inner.put(key, body)
        return inner.put(
          key,
          (async function* () {
            let n = 0
            for await (const chunk of body as AsyncIterable<Uint8Array>) {
              if (n++ > 0) throw new Error('disk full')
              yield chunk
            }
            throw new Error('disk full')
          })(),
        )
      },
    }
    const e = await errorOf(
      exportLedger(store, failing, { signers: signer, now: noon('2026-01-25') }),
    )
    expect(String(e)).toMatch(/disk full/)
    expect(inner.objects.size).toBe(0)
  })

  it('recovers from a crash between the bundle and its manifest entry', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    await exportLedger(store, target, { date: '2026-01-20', signers: signer, now })
    // The "crash": after the bundle, the process dies; nothing else reaches the target.
    let crash = true
    const crashing: ExportTarget = {
      ...target,
      location: target.location,
      async put(key, body) {
        if (crash && key.startsWith('manifest/')) throw new Error('killed')
        return target.put(key, body)
      },
      async delete(key) {
        if (crash) throw new Error('killed')
        return target.delete(key)
      },
    }
    const e = await errorOf(
      exportLedger(store, crashing, { date: '2026-01-21', signers: signer, now }),
    )
    expect(String(e)).toMatch(/killed/)
    crash = false
    const bundles = [...target.objects.keys()].filter((k) => k.startsWith('bundles/'))
    expect(bundles).toHaveLength(2)
    const leftover = bundles.find((k) => k.startsWith('bundles/00000000000000000010-'))!
    // The manifest never points at it; verify-export sees it as unreferenced, not a problem.
    const before = await verifyExport(target, { keys: [verifier], now })
    expect(before).toMatchObject({ status: 'VERIFIED', entries: 1, unreferenced: [leftover] })
    expect((await readLastManifestEntry(target))?.lastSeq).toBe(9)
    // The next run exports the same receipts again and removes the leftover.
    const next = await exportLedger(store, target, { date: '2026-01-21', signers: signer, now })
    expect(next).toMatchObject({ status: 'exported', leftovers: [leftover] })
    expect(next.entry!.key).not.toBe(leftover)
    expect(target.objects.has(leftover)).toBe(false)
    const after = await verifyExport(target, { keys: [verifier], now })
    expect(after).toMatchObject({ status: 'VERIFIED', entries: 2, unreferenced: [] })
  })

  it('lets one of two racing exports win; the other keeps nothing', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    const results = await Promise.allSettled([
      exportLedger(store, target, { signers: signer, now }),
      exportLedger(store, target, { signers: signer, now }),
    ])
    const won = results.filter((r) => r.status === 'fulfilled')
    expect(won).toHaveLength(1)
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
    expect(isBatonError(lost.reason, 'CONFLICT')).toBe(true)
    expect(String(lost.reason)).toMatch(/another export wrote manifest entry 0 first/)
    const report = await verifyExport(target, { keys: [verifier], now })
    expect(report).toMatchObject({ status: 'VERIFIED', entries: 1, unreferenced: [] })
  })

  it('refuses to export a different ledger, or a broken one, into a target', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const now = noon('2026-01-25')
    await exportLedger(store, target, { date: '2026-01-21', signers: signer, now })
    const other = dayLedger()
    await other.day('2026-01-20', 30, 'other')
    const e = await errorOf(exportLedger(other.store, target, { signers: signer, now }))
    expect(isBatonError(e, 'CORRUPT')).toBe(true)
    expect(String(e)).toMatch(/receipt 24 differs from the one exported/)
    const short = dayLedger()
    await short.day('2026-01-20', 3)
    const e2 = await errorOf(exportLedger(short.store, target, { signers: signer, now }))
    expect(String(e2)).toMatch(/holds receipts through 24 but the ledger only 3/)

    // A ledger whose receipt 5 was changed: export stops at the broken link, keeps nothing.
    const broken = createMemoryStore()
    const lines = await linesOf(store)
    const changed = lines.map((l, i) => (i === 5 ? l.replace('"i":5', '"i":6') : l))
    await broken.append(
      changed.map((text, seq) => ({ seq, bytes: Buffer.from(text), hash: leafHash(text) })),
    )
    const fresh = createMemoryTarget()
    const e3 = await errorOf(exportLedger(broken, fresh, { signers: signer, now }))
    expect(isBatonError(e3, 'CORRUPT')).toBe(true)
    expect(String(e3)).toMatch(/receipt 6's prev is not the hash of receipt 5/)
    expect(fresh.objects.size).toBe(0)
  })

  it('applies retention: old bundles go, entries stay, verify-export still VERIFIED', async () => {
    const l = dayLedger()
    await l.day('2026-01-01', 5)
    await l.day('2026-02-15', 5)
    await l.day('2026-04-20', 5)
    const target = createMemoryTarget()
    for (const [date, now] of [
      ['2026-01-01', noon('2026-01-02')],
      ['2026-02-15', noon('2026-02-16')],
    ] as const) {
      expect((await exportLedger(l.store, target, { date, signers: signer, now })).retired).toEqual(
        [],
      )
    }
    const now = noon('2026-04-21')
    const [first] = entriesOf(target)
    const r = await exportLedger(l.store, target, { date: '2026-04-20', signers: signer, now })
    expect(r.retired).toEqual([first!.key])
    expect(target.objects.has(first!.key)).toBe(false)
    expect(entriesOf(target)).toHaveLength(3)
    const report = await verifyExport(target, { keys: [verifier], now })
    expect(report).toMatchObject({
      status: 'VERIFIED',
      bundles: { verified: 2, retired: 1, missing: 0, damaged: 0 },
      checked: 10,
      size: 15,
    })
    // Verified with a longer window, the deleted bundle is missing.
    const strict = await verifyExport(target, { keys: [verifier], now, retainDays: 200 })
    expect(strict.status).toBe('FAILED')
    expect(strict.bundles.missing).toBe(1)
    expect(strict.problems[0]).toMatchObject({ kind: 'gap', seq: 0, file: first!.key })
    // Consistency across the retired bundle still holds: tampering after it is caught.
    const [, second] = entriesOf(target)
    const bytes = target.objects.get(second!.key)!
    bytes[40] = bytes[40]! ^ 1
    expect((await verifyExport(target, { keys: [verifier], now })).status).toBe('FAILED')
    // A run that exports nothing still applies retention, and Infinity keeps everything.
    const later = noon('2026-06-01')
    const keep = await exportLedger(l.store, target, {
      signers: signer,
      now: later,
      retainDays: Number.POSITIVE_INFINITY,
    })
    expect(keep.retired).toEqual([])
    const none = await exportLedger(l.store, target, { signers: signer, now: later })
    expect(none.status).toBe('nothing-to-export')
    expect(none.retired).toEqual([second!.key])
  })

  it('writes to a directory target with files only where the manifest says', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'baton-export-'))
    try {
      const { store } = await threeDays()
      const target = createDirectoryTarget(dir)
      const now = noon('2026-01-25')
      const r = await exportLedger(store, target, { signers: signer, now, gzip: true })
      expect(r.entry?.lastSeq).toBe(32)
      expect(await readdir(join(dir, 'manifest'))).toEqual(['00000000000000000000.json'])
      expect(await readdir(join(dir, 'bundles'))).toEqual([r.entry!.key.slice('bundles/'.length)])
      expect(await readdir(join(dir, '.baton-tmp'))).toEqual([])
      const entry = parseManifestEntry(
        await (await import('node:fs/promises')).readFile(
          join(dir, 'manifest', '00000000000000000000.json'),
        ),
      )
      expect(entry).toEqual(r.entry)
      const report = await verifyExport(target, { keys: [verifier], now })
      expect(report.status).toBe('VERIFIED')
      // The bundle, gunzipped, is a ledger verify() accepts on its own.
      const { gunzipSync } = await import('node:zlib')
      const raw = gunzipSync(
        await (await import('node:fs/promises')).readFile(join(dir, entry.key)),
      )
      expect((await verify([raw])).status).toBe('VERIFIED')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('reports progress and signs with every signer', async () => {
    const { store } = await threeDays()
    const target = createMemoryTarget()
    const second = testKeys('baton.test/next', 2)
    const seen: number[] = []
    const r = await exportLedger(store, target, {
      signers: [signer, second.signer],
      now: noon('2026-01-25'),
      origin: 'example.com/baton',
      onProgress: (p) => seen.push(p.receipts),
    })
    expect(seen.at(-1)).toBe(33)
    expect(openCheckpoint(r.entry!.checkpoint, [second.verifier]).origin).toBe('example.com/baton')
    expect(openCheckpoint(r.entry!.checkpoint, [verifier]).signedBy).toHaveLength(1)
  })
})

describe('exportLedger of an anchored ledger', () => {
  it('continues the manifest it begins at, and refuses one it cannot continue', async () => {
    const now = noon('2026-01-25')
    const l = await threeDays()
    const target = createMemoryTarget()
    await exportLedger(l.store, target, { date: '2026-01-20', signers: signer, now })
    await exportLedger(l.store, target, { date: '2026-01-21', signers: signer, now })
    const [e0, e1] = entriesOf(target)
    // A ledger that begins where the manifest ends (as a restore after retention makes it).
    const anchor = anchorAfterManifestEntry(e1!)
    const anchored = createMemoryStore({ anchor })
    for await (const line of l.store.read(anchor.seq)) {
      await anchored.append([{ seq: line.seq, bytes: line.bytes, hash: leafHash(line.bytes) }])
    }
    const r = await exportLedger(anchored, target, { signers: signer, now })
    expect(r).toMatchObject({ status: 'exported', entry: { index: 2, firstSeq: 25, lastSeq: 32 } })
    expect((await verifyExport(target, { keys: [verifier], now })).status).toBe('VERIFIED')

    // Past the manifest's end: the receipts in between are retired.
    const late = createMemoryStore({ anchor: await createAnchor(l.store, 30) })
    const fresh = createMemoryTarget()
    await exportLedger(l.store, fresh, { date: '2026-01-20', signers: signer, now })
    const past = await errorOf(exportLedger(late, fresh, { signers: signer, now }))
    expect(past).toMatchObject({ code: 'INVALID_INPUT', path: 'store' })
    expect(String(past)).toMatch(
      /begins at its anchor \(seq 30\) but the export ends at receipt 9: receipts 10–29 are retired/,
    )
    const none = await errorOf(exportLedger(late, createMemoryTarget(), { signers: signer, now }))
    expect(String(none)).toMatch(/can only continue the export it was restored from/)
    // Exactly at the manifest's end, the anchor must be that entry's end.
    const other = createMemoryStore({
      anchor: { ...anchorAfterManifestEntry(e0!), prev: leafHash('x') },
    })
    const mismatch = await errorOf(exportLedger(other, fresh, { signers: signer, now }))
    expect(isBatonError(mismatch, 'CORRUPT')).toBe(true)
    expect(String(mismatch)).toMatch(/is not the end of manifest entry 0/)
  })
})
