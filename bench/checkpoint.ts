/**
 * Checkpoints and proofs of a large file ledger with a stored tree state:
 * a checkpoint from scratch (against the plain streaming root of
 * `createCheckpoint`), an incremental one after more appends (against the
 * from-scratch one), opening a stored state, and inclusion proofs for
 * random receipts (against a proof computed without a tree state), and
 * `verify()` against a checkpoint (against `verify()` without one).
 *
 * Works on a scratch copy of `ledgerDir(n)` (closed segments hard-linked,
 * the last one copied), so the cached benchmark ledger is never changed.
 */
import { copyFileSync, createReadStream, linkSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  createCheckpoint,
  createFileTreeStateStorage,
  createLedger,
  generateKeyPair,
  inclusionProof,
  openFileStore,
  openTreeState,
  parseSignerKey,
  signCheckpoint,
  storeLeafSource,
  TREE_STATE_FILE,
  type TreeStateStorage,
  verify,
} from '@baton/ledger'
import { fmt, median, percentile, type Row } from './_harness.ts'
import { DATA_DIR, ledgerDir, ledgerFile } from './_ledger-file.ts'
import { sampleData } from './primitives.ts'

/** A writable copy of a cached ledger directory that shares its closed segments. */
function scratchCopy(source: string): string {
  const dir = join(DATA_DIR, `checkpoint-${process.pid}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'segments'), { recursive: true })
  copyFileSync(join(source, 'baton-ledger.json'), join(dir, 'baton-ledger.json'))
  const segs = readdirSync(join(source, 'segments')).sort()
  segs.forEach((name, i) => {
    const from = join(source, 'segments', name)
    const to = join(dir, 'segments', name)
    if (i === segs.length - 1) copyFileSync(from, to)
    else linkSync(from, to)
  })
  return dir
}

const ms = (t: number): string => `${fmt(performance.now() - t, 1)} ms`

export async function benchCheckpoint(n: number, more: number, proofs: number): Promise<Row[]> {
  const dir = scratchCopy(await ledgerDir(n))
  const signer = parseSignerKey(
    generateKeyPair('bench.example/log', { seed: new Uint8Array(32).fill(7) }).signerKey,
  )
  const rows: Row[] = []
  try {
    // Baseline: the streaming root over every receipt, no tree state.
    let store = await openFileStore(dir, { readOnly: true })
    let t = performance.now()
    const plain = await createCheckpoint(store, [signer])
    const plainMs = performance.now() - t

    // From scratch: build and save the tree state, sign.
    rmSync(join(dir, TREE_STATE_FILE), { force: true })
    await store.close()
    store = await openFileStore(dir)
    t = performance.now()
    let state = await openTreeState(store)
    await state.update()
    let note = signCheckpoint(
      { origin: 'bench.example/log', size: state.size, root: await state.root() },
      [signer],
    )
    const scratchMs = performance.now() - t
    if (note !== plain.note) throw new Error('tree-state checkpoint differs from createCheckpoint')
    rows.push({
      group: 'checkpoint',
      name: `checkpoint of ${fmt(n)} receipts from scratch (builds and saves the tree state, L = 8)`,
      value: `${fmt(scratchMs)} ms (${fmt((n * 1000) / scratchMs)} receipts/s)`,
      baseline: `${fmt(plainMs)} ms (createCheckpoint: streaming root, no state)`,
      ratio: (scratchMs / plainMs).toFixed(2),
    })

    // Incremental: append more, then a fresh process's work: open, update, sign.
    const ledger = createLedger({ store })
    await ledger.appendBatch(
      Array.from({ length: more }, (_, i) => ({
        type: 'probe.sampled',
        data: sampleData(n + i) as never,
      })),
    )
    await ledger.close()
    store = await openFileStore(dir, { readOnly: true })
    const incremental: number[] = []
    let read = 0
    for (let round = 0; round < 5; round++) {
      // Each round starts from the state saved before the appends.
      t = performance.now()
      state = await openTreeState(store, { storage: readOnlyStorage(dir) })
      const r = await state.update()
      note = signCheckpoint(
        { origin: 'bench.example/log', size: state.size, root: await state.root() },
        [signer],
      )
      incremental.push(performance.now() - t)
      read = r.leavesRead
      if (r.rebuilt !== undefined || r.size !== n + more) throw new Error('bad incremental update')
    }
    const check = await createCheckpoint(store, [signer])
    if (check.note !== note) throw new Error('incremental checkpoint differs from createCheckpoint')
    const incMs = median(incremental)
    rows.push({
      group: 'checkpoint',
      name: `checkpoint after ${fmt(more)} more receipts, incremental (open stored state, check, extend, sign)`,
      value: `${fmt(incMs, 1)} ms (${fmt(read)} receipts read)`,
      baseline: `${fmt(scratchMs)} ms (from scratch, above)`,
      ratio: (incMs / scratchMs).toFixed(4),
      target: '< 2% of from scratch',
      ok: incMs / scratchMs < 0.02,
    })

    // Proofs: a stored, up-to-date state (as `baton prove` finds it).
    const writable = await openFileStore(dir)
    await (await openTreeState(writable)).update()
    await writable.close()
    t = performance.now()
    state = await openTreeState(store)
    await state.update()
    const openMs = ms(t)
    const size = state.size
    let seed = 12345
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const times: number[] = []
    const leaves: number[] = []
    for (let i = 0; i < proofs; i++) {
      const seq = Math.floor(random() * size)
      const before = state.leavesRead
      t = performance.now()
      await state.inclusionProof(seq)
      times.push(performance.now() - t)
      leaves.push(state.leavesRead - before)
    }
    const noState: number[] = []
    for (let i = 0; i < 3; i++) {
      const seq = Math.floor(random() * size)
      t = performance.now()
      await inclusionProof(storeLeafSource(store), seq, size)
      noState.push(performance.now() - t)
    }
    rows.push({
      group: 'checkpoint',
      name: `inclusion proof, random receipt of ${fmt(size)}, stored tree state (${fmt(proofs)} proofs)`,
      value: `median ${fmt(median(times), 2)} ms, p99 ${fmt(percentile(times, 99), 2)} ms; receipts read median ${fmt(median(leaves))}, max ${fmt(Math.max(...leaves))}`,
      baseline: `${fmt(median(noState))} ms (same proof without tree state: reads all ${fmt(size)})`,
      ratio: (median(times) / median(noState)).toFixed(5),
      target: 'p99 < 50 ms, ≤ 512 receipts read',
      ok: percentile(times, 99) < 50 && Math.max(...leaves) <= 512,
    })
    rows.push({
      group: 'checkpoint',
      name: 'open a stored tree state and check it against the ledger (what each baton prove pays first)',
      value: openMs,
    })

    // verify() holding the ledger to a checkpoint computes the root while streaming.
    const file = await ledgerFile(n)
    const keys = [signer.verifier()]
    const withCp: number[] = []
    const without: number[] = []
    for (let round = 0; round < 3; round++) {
      t = performance.now()
      const a = await verify(createReadStream(file, { highWaterMark: 1 << 20 }))
      without.push(performance.now() - t)
      t = performance.now()
      const b = await verify(createReadStream(file, { highWaterMark: 1 << 20 }), {
        checkpoint: { note: plain.note, keys },
      })
      withCp.push(performance.now() - t)
      if (a.status !== 'VERIFIED' || b.checkpoint?.status !== 'matches') {
        throw new Error('benchmark ledger failed to verify against its checkpoint')
      }
    }
    rows.push({
      group: 'checkpoint',
      name: `verify() of ${fmt(n)} receipts against a signed checkpoint (root computed while streaming)`,
      value: `${fmt((n * 1000) / median(withCp))} receipts/s`,
      baseline: `${fmt((n * 1000) / median(without))} receipts/s (verify() without a checkpoint)`,
      ratio: (median(without) / median(withCp)).toFixed(2),
    })
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

/** The ledger directory's tree state, never overwritten (each round starts from the same one). */
function readOnlyStorage(dir: string): TreeStateStorage {
  return { ...createFileTreeStateStorage(join(dir, TREE_STATE_FILE)), readOnly: true }
}
