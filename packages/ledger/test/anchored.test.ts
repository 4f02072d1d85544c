import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type Anchor,
  anchorRoot,
  bytesToHex,
  checkAnchor,
  createAnchor,
  createCheckpoint,
  createLedger,
  createMemoryStore,
  createMemoryTreeStateStorage,
  type FileStore,
  hexToBytes,
  isBatonError,
  type LedgerStore,
  leafHash,
  type MemoryStore,
  openCheckpoint,
  openFileStore,
  openTreeState,
  RetiredReceiptError,
  segmentFileName,
  TREE_STATE_FILE,
  verify,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js'
import { anchoredFixture, copyReceipts } from './support/anchors.js'
import { testKeys } from './support/exports.js'

const { signer, verifier } = testKeys('baton.test/anchored')

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-anchored-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** An anchored file store in `dir` holding receipts `[anchor.seq, full's size)` of `full`. */
async function anchoredFile(
  full: LedgerStore,
  anchor: Anchor,
  name = 'ledger',
): Promise<FileStore> {
  const store = await openFileStore(join(dir, name), { create: true, anchor, segmentBytes: 4096 })
  await copyReceipts(full, store, anchor.seq)
  return store
}

/** Replaces `from` by `to` in the first held line of an anchored file store (the first segment). */
async function editFirstLine(store: FileStore, edit: (line: string) => string): Promise<void> {
  const path = join(store.dir, 'segments', segmentFileName(store.anchor!.seq))
  const lines = (await readFile(path, 'utf8')).split('\n')
  lines[0] = edit(lines[0]!)
  await writeFile(path, lines.join('\n'))
}

describe('anchors', () => {
  it('createAnchor commits to the receipts before it: its root is the checkpoint root at its seq', async () => {
    const { full, anchor, anchored } = await anchoredFixture(100, 77)
    expect(anchor.seq).toBe(77)
    expect(anchor.range).toHaveLength(4) // 64 + 8 + 4 + 1
    const { root } = await createCheckpoint(full, [signer], { size: 77 })
    expect(bytesToHex(anchorRoot(anchor))).toBe(bytesToHex(root))
    let prev = ''
    for await (const l of full.read(76, 77)) prev = leafHash(l.bytes)
    expect(anchor.prev).toBe(prev)
    // Extending an anchored store's anchor gives the same anchor as from the full ledger.
    const later = await createAnchor(anchored, 90)
    expect(later).toEqual(await createAnchor(full, 90))
    await expect(createAnchor(anchored, 50)).rejects.toBeInstanceOf(RetiredReceiptError)
    await expect(createAnchor(full, 101)).rejects.toMatchObject({ path: 'seq' })
    expect(checkAnchor(anchor)).toEqual(anchor)
  })
})

describe('verify an anchored ledger', () => {
  it('starts at the anchor by default and reports it', async () => {
    const { full, anchor, anchored } = await anchoredFixture(60, 37)
    const report = await verify(anchored)
    expect(report).toMatchObject({
      status: 'VERIFIED',
      checked: 23,
      valid: 23,
      size: 60,
      head: (await full.head()).hash,
      anchor: { seq: 37, prev: anchor.prev },
    })
    // Empty anchored ledger: its head is the anchor.
    const empty = await verify(createMemoryStore({ anchor }))
    expect(empty).toMatchObject({ status: 'VERIFIED', checked: 0, size: 37, head: anchor.prev })
    // An explicit start still wins.
    const wrong = await verify(anchored, { start: { seq: 37, prev: '0'.repeat(64) } })
    expect(wrong.counts['broken-link']).toBe(1)
  })

  it('holds the ledger to a checkpoint through the anchor range, at every size from the anchor', async () => {
    const { full, anchor, anchored } = await anchoredFixture(70, 37)
    for (const size of [37, 38, 40, 48, 64, 65, 70]) {
      const { note } = await createCheckpoint(full, [signer], { size })
      const report = await verify(anchored, { checkpoint: { note, keys: [verifier] } })
      expect(report.status, `size ${size}`).toBe('VERIFIED')
      expect(report.checkpoint).toMatchObject({ status: 'matches', size })
    }
    const old = await createCheckpoint(full, [signer], { size: 36 })
    await expect(
      verify(anchored, { checkpoint: { note: old.note, keys: [verifier] } }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      path: 'checkpoint',
      message: expect.stringMatching(/before the anchor this ledger begins at \(seq 37\)/),
    })
    // From raw bytes, a checkpoint needs the anchor's range in `start`.
    const bytes: Uint8Array[] = []
    for await (const l of anchored.read()) bytes.push(l.bytes, new Uint8Array([10]))
    const { note } = await createCheckpoint(full, [signer])
    const raw = await verify(bytes, { start: anchor, checkpoint: { note, keys: [verifier] } })
    expect(raw.checkpoint?.status).toBe('matches')
    await expect(
      verify(bytes, {
        start: { seq: anchor.seq, prev: anchor.prev },
        checkpoint: { note, keys: [verifier] },
      }),
    ).rejects.toMatchObject({ path: 'checkpoint' })
  })

  it('finds a wrong anchor range only against a checkpoint (fork), and a wrong prev as a broken link', async () => {
    const { full, anchor } = await anchoredFixture(70, 38)
    const range = [...anchor.range]
    range[0] = range[0]!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))
    const badRange = createMemoryStore({ anchor: { ...anchor, range } })
    await copyReceipts(full, badRange, 38)
    expect((await verify(badRange)).status).toBe('VERIFIED')
    const { note } = await createCheckpoint(full, [signer])
    const report = await verify(badRange, { checkpoint: { note, keys: [verifier] } })
    expect(report.status).toBe('FAILED')
    expect(report.checkpoint?.status).toBe('fork')
    expect(report.counts.fork).toBe(1)
    expect(report.problems[0]!.message).toMatch(/the anchor's range \(receipts 0–37\)/)

    const prev = leafHash('not receipt 37')
    const badPrev = createMemoryStore({ anchor: { ...anchor, prev } })
    await copyReceipts(full, badPrev, 38)
    const r2 = await verify(badPrev)
    expect(r2.counts['broken-link']).toBe(1)
    expect(r2.problems[0]).toMatchObject({ kind: 'broken-link', seq: 38, expected: prev })
  })

  it('reports tampering of the first held receipt of a file store by file and line', async () => {
    const { full, anchor } = await anchoredFixture(80, 41)
    const store = await anchoredFile(full, anchor)
    expect((await verify(store)).status).toBe('VERIFIED')
    let original = ''
    // Its prev no longer links to the anchor: a broken link at the anchor.
    await editFirstLine(store, (l) => {
      original = l
      return l.replace(/"prev":"(.)/, (_m, c: string) => `"prev":"${c === 'a' ? 'b' : 'a'}`)
    })
    const ro = await openFileStore(store.dir, { readOnly: true })
    const r = await verify(ro)
    expect(r.status).toBe('FAILED')
    expect(r.counts['broken-link']).toBe(1)
    expect(r.problems[0]).toMatchObject({
      kind: 'broken-link',
      seq: 41,
      line: 1,
      file: join(store.dir, 'segments', segmentFileName(41)),
      expected: anchor.prev,
    })
    // Its data changed instead: the next link breaks, a hash mismatch at the anchor.
    await editFirstLine(store, () => original.replace('"i":41,', '"i":42,'))
    const r2 = await verify(ro)
    expect(r2.problems[0]).toMatchObject({ kind: 'hash-mismatch', seq: 41, line: 1 })
    await ro.close()
    await store.close()
  })
})

/** Every checkpoint root (sizes anchor…total) of the full ledger, from the full ledger. */
async function fullRoots(full: MemoryStore, from: number): Promise<Map<number, string>> {
  const state = await openTreeState(full, { level: 2 })
  const out = new Map<number, string>()
  for (let n = from; n <= full.size; n++) out.set(n, bytesToHex(await state.root(n)))
  return out
}

describe('checkpoints and proofs of an anchored ledger', () => {
  const cases: [total: number, at: number][] = [
    [40, 1],
    [40, 16],
    [45, 17],
    [70, 37],
    [70, 64],
    [300, 255],
    [600, 513],
  ]

  it.each(cases)(
    'equal the full ledger’s at the same size (%i receipts, anchored at %i)',
    async (total, at) => {
      const { full, anchor, anchored } = await anchoredFixture(total, at)
      const roots = await fullRoots(full, at)
      const sizes = [...roots.keys()].filter((n) => n === at || n === total || n % 7 === 0)
      for (const size of sizes) {
        const a = await createCheckpoint(anchored, [signer], { size })
        const f = await createCheckpoint(full, [signer], { size })
        expect(bytesToHex(a.root), `size ${size}`).toBe(roots.get(size))
        expect(a.note).toBe(f.note) // same root, same signer: the same signed note
      }
      for (const level of [1, 2, 8]) {
        const state = await openTreeState(anchored, { level })
        expect(state.size).toBe(at) // opened, not yet updated: it begins at the anchor
        expect(state.headHash).toBe(anchor.prev)
        const u = await state.update()
        expect(u).toMatchObject({ size: total, leavesRead: total - at, rebuilt: undefined })
        for (const size of sizes) {
          expect(bytesToHex(await state.root(size)), `level ${level} size ${size}`).toBe(
            roots.get(size),
          )
        }
        const fullState = await openTreeState(full, { level })
        for (let seq = at; seq < total; seq += Math.max(1, Math.floor((total - at) / 9))) {
          for (const size of [seq + 1, total]) {
            const proof = await state.inclusionProof(seq, size)
            expect(proof.map(bytesToHex)).toEqual(
              (await fullState.inclusionProof(seq, size)).map(bytesToHex),
            )
            const leaf = hexToBytes((await state.receipt(seq)).hash)
            expect(verifyInclusion(leaf, seq, size, proof, hexToBytes(roots.get(size)!))).toBe(true)
          }
        }
        for (const m of [at, Math.min(total, at + 3), total]) {
          const proof = await state.consistencyProof(m, total)
          expect(proof.map(bytesToHex)).toEqual(
            (await fullState.consistencyProof(m, total)).map(bytesToHex),
          )
          expect(
            verifyConsistency(
              m,
              total,
              proof,
              hexToBytes(roots.get(m)!),
              hexToBytes(roots.get(total)!),
            ),
          ).toBe(true)
        }
      }
    },
  )

  it('refuses proofs of retired receipts with a typed error, and roots before the anchor it cannot know', async () => {
    const { anchored } = await anchoredFixture(70, 37)
    const state = await openTreeState(anchored, { level: 2 })
    for (const attempt of [
      () => state.inclusionProof(36),
      () => state.inclusionProof(0, 70),
      () => state.receipt(5),
      () => state.root(10),
      () => state.consistencyProof(5, 70),
      () => createCheckpoint(anchored, [signer], { size: 30 }),
    ]) {
      const error = await attempt().catch((e: unknown) => e)
      expect(isBatonError(error, 'RETIRED'), String(error)).toBe(true)
      expect(error).toBeInstanceOf(RetiredReceiptError)
      expect(String(error)).toMatch(
        /seq \d+ is retired: the ledger begins at its anchor \(seq 37\)/,
      )
    }
    expect((await state.inclusionProof(36).catch((e) => e)).seq).toBe(36)
    // A size whose nodes are all the anchor's is fine: 32 = the anchor's first node.
    const { root } = await createCheckpoint(anchored, [signer], { size: 32 })
    expect(bytesToHex(root)).toBe(bytesToHex(await state.root(32)))
  })

  it('keeps an anchored file store’s tree state in tree-state.bin and reuses it', async () => {
    const { full, anchor } = await anchoredFixture(900, 300)
    const more = await anchoredFixture(900, 300)
    const roots = await fullRoots(full, 300)
    const store = await anchoredFile(full, anchor)
    const state = await openTreeState(store)
    expect((await state.update()).saved).toBe(true)
    const proof = await state.inclusionProof(700, 900)
    const again = await openTreeState(store)
    expect(again.loaded).toMatchObject({ status: 'loaded', size: 900 })
    const u = await again.update()
    expect(u.rebuilt).toBeUndefined()
    expect(u.leavesRead).toBeLessThan(300)
    expect(bytesToHex(await again.root())).toBe(roots.get(900))
    expect((await again.inclusionProof(700, 900)).map(bytesToHex)).toEqual(proof.map(bytesToHex))
    expect(bytesToHex(await again.root(555))).toBe(roots.get(555))
    // Appends continue from the state.
    const ledger = createLedger({ store })
    await ledger.append({ type: 'after.anchor', data: {} })
    const u2 = await again.update()
    expect(u2).toMatchObject({ previousSize: 900, size: 901, rebuilt: undefined })
    // A state built for another ledger (unanchored, or another anchor) is discarded.
    const bin = await readFile(join(store.dir, TREE_STATE_FILE))
    const plainState = createMemoryTreeStateStorage()
    await (await openTreeState(full, { storage: plainState })).update()
    const other = await anchoredFile(more.full, await createAnchor(more.full, 301), 'other')
    for (const [bytes, why] of [
      [plainState.bytes!, /begins at receipt 0, but this one begins at its anchor/],
      [new Uint8Array(bin), /built for another anchor \(seq 300\) than this ledger's \(seq 301\)/],
    ] as const) {
      const storage = createMemoryTreeStateStorage()
      storage.bytes = bytes
      const s = await openTreeState(other, { storage })
      expect(s.loaded.status).toBe('discarded')
      expect(s.loaded.reason).toMatch(why)
      expect((await s.update()).rebuilt).toMatch(/discarded/)
    }
    await other.close()
    await store.close()
  })

  it('rebuilds when the held receipts no longer match the anchored state', async () => {
    const { full, anchor } = await anchoredFixture(400, 300)
    const store = await anchoredFile(full, anchor)
    await (await openTreeState(store, { level: 3 })).update()
    await editFirstLine(store, (l) => l.replace('"i":300,', '"i":301,'))
    await store.close()
    const reopened = await openFileStore(store.dir)
    const state = await openTreeState(reopened, { level: 3 })
    // The last block still matches: the damage is found when a proof reads its block.
    await state.update()
    const proof = await state.inclusionProof(301, 400)
    expect(state.lastRebuild).toMatch(/do not match the stored tree state/)
    expect(proof.length).toBeGreaterThan(0)
    await reopened.close()
  })
})

describe('checkpoint notes of restored ledgers open like any other', () => {
  it('a checkpoint of an anchored ledger verifies against the full ledger', async () => {
    const { full, anchored } = await anchoredFixture(50, 20)
    const { note } = await createCheckpoint(anchored, [signer])
    expect(openCheckpoint(note, [verifier]).size).toBe(50)
    expect((await verify(full, { checkpoint: { note, keys: [verifier] } })).status).toBe('VERIFIED')
  })
})
