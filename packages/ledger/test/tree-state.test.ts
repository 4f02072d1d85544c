import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { STORE_HOOKS, type StoreHooks } from '../src/_store-hooks.js'
import { encodeTreeState } from '../src/_tree-codec.js'
import { InvalidInputError } from '../src/errors.js'
import { openFileStore } from '../src/file-store.js'
import { hexToBytes, leafHashBytes, nodeHashBytes, sha256 } from '../src/hash.js'
import { createLedger } from '../src/ledger.js'
import { createMemoryStore, type MemoryStore } from '../src/memory-store.js'
import {
  consistencyProofSync,
  inclusionProofSync,
  merkleRoot,
  perfectSubtrees,
} from '../src/merkle.js'
import { verifyConsistency, verifyInclusion } from '../src/merkle-verify.js'
import type { LedgerStore, StoredLine } from '../src/store.js'
import {
  createMemoryTreeStateStorage,
  openTreeState,
  TREE_STATE_FILE,
  type TreeState,
} from '../src/tree-state.js'
import { hex, hexes, rng } from './merkle-reference.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-tree-state-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function appendN(store: LedgerStore, n: number, tag = 'a'): Promise<void> {
  const ledger = createLedger({ store })
  for (let done = 0; done < n; ) {
    const k = Math.min(5000, n - done)
    await ledger.appendBatch(
      Array.from({ length: k }, (_, i) => ({ type: 'probe.sampled', data: { tag, i: done + i } })),
    )
    done += k
  }
}

async function leavesOf(store: LedgerStore): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const line of store.read()) out.push(leafHashBytes(line.bytes))
  return out
}

/** A memory store whose reads are counted. */
function countingStore(): MemoryStore & { linesRead: number } {
  const inner = createMemoryStore()
  const store = {
    linesRead: 0,
    location: inner.location,
    get size() {
      return inner.size
    },
    head: () => inner.head(),
    append: (e: Parameters<MemoryStore['append']>[0]) => inner.append(e),
    async *read(from?: number, to?: number): AsyncIterable<StoredLine> {
      for await (const line of inner.read(from, to)) {
        store.linesRead++
        yield line
      }
    },
    close: () => inner.close(),
  }
  return store
}

describe('tree state: incremental updates', () => {
  it('equals a from-scratch computation after every update, on random sizes', async () => {
    const random = rng(7)
    for (const level of [1, 2, 3, 5]) {
      const store = createMemoryStore()
      const storage = createMemoryTreeStateStorage()
      let state = await openTreeState(store, { storage, level })
      let total = 0
      for (let round = 0; round < 12; round++) {
        const add = Math.floor(random() * 40)
        await appendN(store, add, `r${round}`)
        total += add
        if (round % 4 === 3) state = await openTreeState(store, { storage, level }) // reload
        const result = await state.update()
        expect(result.rebuilt).toBeUndefined()
        expect(result.size).toBe(total)
        const leaves = await leavesOf(store)
        expect(hex(await state.root())).toBe(hex(merkleRoot(leaves)))
        const fresh = createMemoryTreeStateStorage()
        const scratch = await openTreeState(store, { storage: fresh, level })
        await scratch.update()
        expect(hex(storage.bytes!)).toBe(hex(fresh.bytes!)) // byte for byte the same state
        for (let m = 0; m <= total; m += Math.max(1, Math.floor(total / 7))) {
          expect(hex(await state.root(m)), `root(${m})`).toBe(hex(merkleRoot(leaves.slice(0, m))))
        }
      }
    }
  })

  it('reads only the receipts after its size, plus its last block', async () => {
    const store = countingStore()
    await appendN(store, 1000)
    const state = await openTreeState(store, { storage: createMemoryTreeStateStorage(), level: 4 })
    expect((await state.update()).leavesRead).toBe(1000)
    await appendN(store, 37)
    const r = await state.update()
    expect(r).toMatchObject({ previousSize: 1000, size: 1037, rebuilt: undefined, saved: true })
    expect(r.leavesRead).toBe(37) // checked in memory already: nothing re-read
    const reopened = await openTreeState(store, { storage: state.storage!, level: 4 })
    await appendN(store, 5)
    const r2 = await reopened.update()
    expect(r2.leavesRead).toBe(5 + (1037 % 16)) // the last (partial) block is read back
    expect((await reopened.update()).leavesRead).toBe(0)
  })

  it('keeps nothing without storage, and a memory store works through read()', async () => {
    const store = createMemoryStore()
    await appendN(store, 21)
    const state = await openTreeState(store)
    expect(state.loaded.status).toBe('no-storage')
    const r = await state.update()
    expect(r.saved).toBe(false)
    expect(hex(await state.root())).toBe(hex(merkleRoot(await leavesOf(store))))
  })
})

describe('tree state: proofs', () => {
  it('give the proofs of inclusionProofSync / consistencyProofSync, which verify', async () => {
    const store = createMemoryStore()
    await appendN(store, 45)
    const leaves = await leavesOf(store)
    for (const level of [1, 2, 3, 6]) {
      const state = await openTreeState(store, { level })
      for (const size of [1, 2, 7, 16, 17, 31, 32, 33, 45]) {
        const root = merkleRoot(leaves.slice(0, size))
        for (let seq = 0; seq < size; seq++) {
          const proof = await state.inclusionProof(seq, size)
          expect(hexes(proof)).toEqual(hexes(inclusionProofSync(leaves, seq, size)))
          expect(verifyInclusion(leaves[seq]!, seq, size, proof, root)).toBe(true)
        }
        for (let m = 0; m <= size; m++) {
          const proof = await state.consistencyProof(m, size)
          expect(hexes(proof)).toEqual(hexes(consistencyProofSync(leaves, m, size)))
          const rootM = merkleRoot(leaves.slice(0, m))
          expect(verifyConsistency(m, size, proof, rootM, root)).toBe(true)
        }
      }
      expect(hexes(await state.inclusionProof(44))).toEqual(hexes(inclusionProofSync(leaves, 44)))
      expect(hexes(await state.consistencyProof(9))).toEqual(hexes(consistencyProofSync(leaves, 9)))
    }
  })

  it('works on a file store whose blocks straddle segments', async () => {
    const store = await openFileStore(dir, { create: true, segmentBytes: 700 })
    await appendN(store, 150)
    const leaves = await leavesOf(store)
    const state = await openTreeState(store, { level: 3 })
    await state.update()
    const random = rng(3)
    for (let k = 0; k < 60; k++) {
      const size = 1 + Math.floor(random() * 150)
      const seq = Math.floor(random() * size)
      const m = Math.floor(random() * (size + 1))
      expect(hexes(await state.inclusionProof(seq, size))).toEqual(
        hexes(inclusionProofSync(leaves, seq, size)),
      )
      expect(hexes(await state.consistencyProof(m, size))).toEqual(
        hexes(consistencyProofSync(leaves, m, size)),
      )
    }
    const r = await state.receipt(77)
    expect(hex(hexToBytes(r.hash))).toBe(hex(leaves[77]!))
    expect(state.lastRebuild).toBeUndefined()
    await store.close()
  })

  it('updates itself when asked for a size beyond it, and refuses what the ledger lacks', async () => {
    const store = createMemoryStore()
    await appendN(store, 10)
    const state = await openTreeState(store, { level: 2 })
    await state.update()
    await appendN(store, 5)
    expect((await state.inclusionProof(12, 15)).length).toBeGreaterThan(0)
    expect(state.size).toBe(15)
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => state.inclusionProof(15), 'seq', /15 is not below the ledger's 15 receipts/],
      [() => state.inclusionProof(3, 16), 'size', /16 is beyond the ledger's 15/],
      [() => state.inclusionProof(5, 5), 'seq', /5 is not below the tree size 5/],
      [() => state.inclusionProof(-1), 'seq', /non-negative integer/],
      [() => state.consistencyProof(9, 4), 'm', /9 is greater than n 4/],
      [() => state.consistencyProof(3, 99), 'n', /99 is beyond/],
      [() => state.consistencyProof(16), 'm', /16 is beyond/],
      [() => state.root(1.5), 'size', /non-negative integer/],
      [() => state.receipt(15), 'seq', /not below/],
    ]
    for (const [call, path, message] of cases) {
      const error = await call().catch((e: unknown) => e)
      expect(error, path).toBeInstanceOf(InvalidInputError)
      expect((error as InvalidInputError).path).toBe(path)
      expect((error as Error).message).toMatch(message)
    }
    await expect(openTreeState(store, { level: 0 })).rejects.toThrow(/level/)
    await expect(openTreeState(store, { level: 25 })).rejects.toThrow(/level/)
  })

  it('reads at most ~2^(L+1) receipts and no whole segment for one proof of a large ledger', async () => {
    // Memory store: count every read.
    const mem = countingStore()
    await appendN(mem, 2 ** 16 + 77)
    const state = await openTreeState(mem, { storage: createMemoryTreeStateStorage() })
    await state.update()
    const leaves = await leavesOf(mem)
    const random = rng(11)
    for (let k = 0; k < 20; k++) {
      const seq = Math.floor(random() * leaves.length)
      mem.linesRead = 0
      const proof = await state.inclusionProof(seq)
      expect(mem.linesRead).toBeLessThanOrEqual(2 ** 9)
      expect(verifyInclusion(leaves[seq]!, seq, leaves.length, proof, merkleRoot(leaves))).toBe(
        true,
      )
      mem.linesRead = 0
      const size = seq + 1 + Math.floor(random() * (leaves.length - seq - 1))
      await state.consistencyProof(seq, size)
      expect(mem.linesRead).toBeLessThanOrEqual(2 ** 9)
    }

    // File store in one big segment: reads go through positions only.
    const store = await openFileStore(dir, { create: true })
    await appendN(store, 20_000)
    const fileLeaves = await leavesOf(store)
    await (await openTreeState(store)).update()
    const hooks = (store as unknown as Record<symbol, StoreHooks>)[STORE_HOOKS]!
    let positioned = 0
    let bytes = 0
    const counted = {
      location: store.location,
      head: () => store.head(),
      append: () => Promise.reject(new Error('no appends')),
      read: () => {
        throw new Error('read() scans a segment from its start: must not be used')
      },
      close: () => store.close(),
    } as unknown as LedgerStore
    Object.defineProperty(counted, STORE_HOOKS, {
      value: {
        ...hooks,
        async *readPositioned(from: number, to: number, at?: { seq: number; position: number }) {
          for await (const line of hooks.readPositioned!(from, to, at)) {
            positioned++
            bytes += line.bytes.length + 1
            yield line
          }
        },
      } satisfies StoreHooks,
    })
    const reopened = await openTreeState(counted)
    expect(reopened.loaded).toMatchObject({ status: 'loaded', size: 20_000 })
    const segment = (await stat(join(dir, 'segments', '00000000000000000000.jsonl'))).size
    for (const seq of [0, 1, 4_999, 12_345, 19_999]) {
      positioned = 0
      bytes = 0
      const proof = await reopened.inclusionProof(seq)
      expect(positioned, `seq ${seq}`).toBeLessThanOrEqual(2 ** 9)
      expect(bytes).toBeLessThan(segment / 10)
      expect(verifyInclusion(fileLeaves[seq]!, seq, 20_000, proof, merkleRoot(fileLeaves))).toBe(
        true,
      )
    }
    expect(reopened.lastRebuild).toBeUndefined()
    await store.close()
  })
})

describe('tree state: stored state is checked, never trusted blindly', () => {
  async function fileLedger(n: number, segmentBytes?: number) {
    const path = join(dir, `l${Math.random().toString(36).slice(2)}`)
    const store = await openFileStore(
      path,
      segmentBytes === undefined ? { create: true } : { create: true, segmentBytes },
    )
    await appendN(store, n, path)
    return { path, store, statePath: join(path, TREE_STATE_FILE) }
  }

  async function expectCorrect(state: TreeState, store: LedgerStore): Promise<void> {
    const leaves = await leavesOf(store)
    expect(state.size).toBe(leaves.length)
    expect(hex(await state.root())).toBe(hex(merkleRoot(leaves)))
    const seq = Math.floor(leaves.length / 2)
    expect(hexes(await state.inclusionProof(seq))).toEqual(hexes(inclusionProofSync(leaves, seq)))
  }

  it('writes tree-state.bin atomically and reuses it', async () => {
    const { store, statePath, path } = await fileLedger(300)
    const state = await openTreeState(store)
    expect(state.loaded.status).toBe('missing')
    expect(await state.update()).toMatchObject({ saved: true, size: 300, rebuilt: undefined })
    expect((await stat(statePath)).size).toBeGreaterThan(64)
    const again = await openTreeState(store)
    expect(again.loaded).toMatchObject({ status: 'loaded', size: 300 })
    const r = await again.update()
    expect(r.rebuilt).toBeUndefined()
    expect(r.leavesRead).toBeLessThanOrEqual(256)
    await expectCorrect(again, store)
    await store.close()
    // A read-only store never writes it.
    await rm(statePath)
    const ro = await openFileStore(path, { readOnly: true })
    const roState = await openTreeState(ro)
    expect(await roState.update()).toMatchObject({ saved: false, size: 300 })
    await expect(stat(statePath)).rejects.toThrow()
    await ro.close()
  })

  it('discards a damaged file (every single-byte change) and rebuilds', async () => {
    const { store, statePath } = await fileLedger(40)
    await (await openTreeState(store, { level: 2 })).update()
    const good = await readFile(statePath)
    for (let at = 0; at < good.length; at += 7) {
      const bad = Buffer.from(good)
      bad[at]! ^= 0x10
      await writeFile(statePath, bad)
      const state = await openTreeState(store, { level: 2 })
      expect(state.loaded.status, `byte ${at}`).toBe('discarded')
      const r = await state.update()
      expect(r.rebuilt).toMatch(/discarded: .*(checksum|magic)/)
      await expectCorrect(state, store)
    }
    await writeFile(statePath, good.subarray(0, good.length - 9))
    expect((await openTreeState(store, { level: 2 })).loaded.reason).toMatch(/checksum/)
    await writeFile(statePath, 'not a tree state')
    expect((await openTreeState(store, { level: 2 })).loaded.reason).toMatch(/magic/)
    await writeFile(statePath, good)
    expect((await openTreeState(store, { level: 3 })).loaded.reason).toMatch(/level 2, not 3/)
    await store.close()
  })

  it('rebuilds when the state belongs to another ledger', async () => {
    const a = await fileLedger(100)
    const b = await fileLedger(120)
    await (await openTreeState(a.store)).update()
    await copyFile(a.statePath, b.statePath)
    const state = await openTreeState(b.store)
    expect(state.loaded.status).toBe('loaded') // well formed…
    const r = await state.update()
    expect(r.rebuilt).toMatch(/receipt 99 is not the one the tree state was built on/)
    expect(state.lastRebuild).toBe(r.rebuilt)
    await expectCorrect(state, b.store)
    const small = await fileLedger(50)
    await copyFile(a.statePath, small.statePath)
    const s2 = await openTreeState(small.store)
    expect((await s2.update()).rebuilt).toMatch(/holds 50 receipts, fewer than the 100/)
    await expectCorrect(s2, small.store)
    for (const l of [a, b, small]) await l.store.close()
  })

  it('rebuilds when positions are stale (same receipts, other segments)', async () => {
    const a = await fileLedger(200)
    const copyDir = join(dir, 'resegmented')
    const b = await openFileStore(copyDir, { create: true, segmentBytes: 900 })
    const entries: { seq: number; bytes: Uint8Array; hash: string }[] = []
    for await (const line of a.store.read()) {
      entries.push({
        seq: line.seq,
        bytes: Buffer.from(line.bytes),
        hash: hex(leafHashBytes(line.bytes)),
      })
    }
    for (let i = 0; i < entries.length; i += 3) await b.append(entries.slice(i, i + 3))
    await (await openTreeState(a.store, { level: 3 })).update()
    await copyFile(a.statePath, join(copyDir, TREE_STATE_FILE))
    const state = await openTreeState(b, { level: 3 })
    const r = await state.update()
    expect(r.rebuilt).toMatch(/remembered position of receipt \d+/)
    await expectCorrect(state, b)
    await a.store.close()
    await b.close()
  })

  it('catches a forged block (valid checksum) when a proof reads it, then rebuilds', async () => {
    const store = createMemoryStore()
    await appendN(store, 64)
    const storage = createMemoryTreeStateStorage()
    const level = 2
    await (await openTreeState(store, { storage, level })).update()
    // Forge: change block 3's hash and recompute everything above it consistently.
    const leaves = await leavesOf(store)
    const blocks = Array.from({ length: 16 }, (_, b) => merkleRoot(leaves.slice(b * 4, b * 4 + 4)))
    blocks[3] = sha256('forged')
    const chunks = new Uint8Array(16 * 32)
    blocks.forEach((h, i) => {
      chunks.set(h, i * 32)
    })
    let layer = blocks
    while (layer.length > 1) {
      const up: Uint8Array[] = []
      for (let i = 0; i < layer.length; i += 2) up.push(nodeHashBytes(layer[i]!, layer[i + 1]!))
      layer = up
    }
    expect(perfectSubtrees(0, 64)).toHaveLength(1)
    storage.bytes = encodeTreeState({
      level,
      size: 64,
      headHash: leaves[63]!,
      range: [layer[0]!],
      chunks,
      positions: undefined,
    })
    const state = await openTreeState(store, { storage, level })
    expect((await state.update()).rebuilt).toBeUndefined() // its last block is intact
    const proof = await state.inclusionProof(13)
    expect(state.lastRebuild).toMatch(/receipts 12…15 do not match the stored tree state/)
    expect(hexes(proof)).toEqual(hexes(inclusionProofSync(leaves, 13)))
    expect(hex(await state.root())).toBe(hex(merkleRoot(leaves)))
  })

  it('rebuilds when new receipts do not link to the head it ends with', async () => {
    const a = createMemoryStore()
    const b = createMemoryStore()
    await appendN(a, 20, 'a')
    await appendN(b, 30, 'b')
    let current: LedgerStore = a
    const swapping: LedgerStore = {
      location: 'memory:swapping',
      head: () => current.head(),
      append: (e) => current.append(e),
      read: (from, to) => current.read(from, to),
      close: async () => {},
    }
    const state = await openTreeState(swapping, { level: 2 })
    await state.update()
    current = b // the ledger was replaced by another, longer one
    const r = await state.update()
    expect(r.rebuilt).toMatch(/receipt 20 does not link to receipt 19/)
    expect(hex(await state.root())).toBe(hex(merkleRoot(await leavesOf(b))))
  })

  it('reports progress and honours an abort signal', async () => {
    const store = createMemoryStore()
    await appendN(store, 100)
    const seen: number[] = []
    const state = await openTreeState(store, {
      progressEvery: 30,
      onProgress: (p) => {
        seen.push(p.done)
        expect(p.total).toBe(100)
      },
    })
    await state.update()
    expect(seen).toEqual([30, 60, 90, 100])
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    const aborted = await openTreeState(store, { progressEvery: 10, signal: controller.signal })
    await expect(aborted.update()).rejects.toThrow('stop')
  })

  it('rebuilds on request', async () => {
    const store = createMemoryStore()
    await appendN(store, 33)
    const state = await openTreeState(store, { level: 2 })
    await state.update()
    const r = await state.rebuild()
    expect(r).toMatchObject({ rebuilt: 'a rebuild was asked for', size: 33, leavesRead: 33 })
  })
})
