import { beforeAll, describe, expect, it } from 'vitest'
import { CorruptLedgerError, InvalidInputError } from '../src/errors.js'
import {
  CompactRange,
  consistencyProof,
  consistencyProofSync,
  inclusionProof,
  inclusionProofSync,
  type LeafSource,
  leafSourceFromArray,
  merkleRoot,
  type NodeCache,
  treeRoot,
} from '../src/merkle.js'
import { EMPTY_TREE_ROOT_HEX, verifyConsistency, verifyInclusion } from '../src/merkle-verify.js'
import { hex, hexes, makeLeaves, refMth, rng } from './merkle-reference.js'

/** Synthetic leaf hash i (not a real SHA-256 output; the tree maths does not care). */
function fillLeaf(buf: Uint8Array, i: number): Uint8Array {
  buf.fill(0xa5)
  new DataView(buf.buffer, buf.byteOffset, 32).setFloat64(0, i)
  return buf
}
const leafAt = (i: number): Uint8Array => fillLeaf(new Uint8Array(32), i)

/**
 * Counts leaf reads and records each requested range. Yields the same
 * scratch buffer every time, as a disk reader reusing a buffer would.
 */
class CountingSource implements LeafSource {
  reads = 0
  readonly calls: [number, number][] = []
  async *leafHashes(from: number, to: number): AsyncGenerator<Uint8Array> {
    this.calls.push([from, to])
    const buf = new Uint8Array(32)
    for (let i = from; i < to; i++) {
      this.reads++
      yield fillLeaf(buf, i)
    }
  }
  /** True when no leaf was requested twice. */
  disjoint(): boolean {
    const sorted = [...this.calls].sort((a, b) => a[0] - b[0])
    return sorted.every((c, i) => i === 0 || sorted[i - 1]![1] <= c[0])
  }
}

const N = 1_000_000
const SNAPSHOTS = [1, 2, 100_003, 777_777, N]

describe('streaming proofs over 1,000,000 leaves', () => {
  const levels: Uint8Array[] = []
  const roots = new Map<number, Uint8Array>()
  let lookups = 0
  /** Every perfect subtree of the 1M tree, levels ≥ `min`; level 0 is the leaf itself. */
  const cache = (min: number): NodeCache => ({
    nodeHash(level, index) {
      lookups++
      if (level < min) return undefined
      if (level === 0) return leafAt(index)
      const arr = levels[level]
      if (arr === undefined || (index + 1) * 32 > arr.length) return undefined
      return arr.subarray(index * 32, (index + 1) * 32)
    },
  })

  beforeAll(() => {
    for (let l = 1; 2 ** l <= N; l++) levels[l] = new Uint8Array(Math.floor(N / 2 ** l) * 32)
    const range = new CompactRange()
    const buf = new Uint8Array(32)
    let visits = 0
    for (let i = 0; i < N; i++) {
      range.append(fillLeaf(buf, i), (level, index, hash) => {
        levels[level]!.set(hash, index * 32)
        visits++
      })
      if (SNAPSHOTS.includes(range.end)) roots.set(range.end, range.root())
    }
    expect(visits).toBe(N - 7) // N minus popcount(N) interior nodes
  })

  it('reads no leaves and O(log n) nodes with a full node cache', async () => {
    for (const index of [0, 1, 499_999, 654_321, N - 2, N - 1]) {
      const source = new CountingSource()
      lookups = 0
      const proof = await inclusionProof(source, index, N, { cache: cache(0) })
      expect(source.reads).toBe(0)
      expect(lookups).toBeLessThanOrEqual(2 * Math.log2(N))
      expect(verifyInclusion(leafAt(index), index, N, proof, roots.get(N)!)).toBe(true)
    }
    for (const [m, n] of [
      [777_777, N],
      [100_003, 777_777],
      [1, N],
      [2, 100_003],
    ] as [number, number][]) {
      const source = new CountingSource()
      lookups = 0
      const proof = await consistencyProof(source, m, n, { cache: cache(0) })
      expect(source.reads).toBe(0)
      expect(lookups).toBeLessThanOrEqual(2 * Math.log2(n))
      expect(verifyConsistency(m, n, proof, roots.get(m)!, roots.get(n)!)).toBe(true)
    }
    const source = new CountingSource()
    expect(hex(await treeRoot(source, 777_777, { cache: cache(0) }))).toBe(hex(roots.get(777_777)!))
    expect(source.reads).toBe(0)
  })

  it('reads only a few leaves when the cache leaves level 0 (or low levels) to the leaf source', async () => {
    for (const [min, maxReads] of [
      [1, 1],
      [8, 2 ** 9],
    ] as [number, number][]) {
      for (const index of [0, 123_456, N - 1]) {
        const source = new CountingSource()
        const proof = await inclusionProof(source, index, N, { cache: cache(min) })
        expect(source.reads).toBeLessThanOrEqual(maxReads)
        expect(source.disjoint()).toBe(true)
        expect(verifyInclusion(leafAt(index), index, N, proof, roots.get(N)!)).toBe(true)
      }
      const source = new CountingSource()
      const proof = await consistencyProof(source, 100_003, 777_777, { cache: cache(min) })
      // Low subtrees sit on either side of the old edge m and at the new edge n.
      expect(source.reads).toBeLessThanOrEqual(3 * maxReads)
      expect(
        verifyConsistency(100_003, 777_777, proof, roots.get(100_003)!, roots.get(777_777)!),
      ).toBe(true)
    }
  })

  it('streams every other leaf exactly once without a cache', async () => {
    const source = new CountingSource()
    const index = 654_321
    const proof = await inclusionProof(source, index, N)
    expect(source.reads).toBe(N - 1)
    expect(source.calls).toEqual([
      [0, index],
      [index + 1, N],
    ])
    expect(verifyInclusion(leafAt(index), index, N, proof, roots.get(N)!)).toBe(true)

    const again = new CountingSource()
    const cproof = await consistencyProof(again, 2, 100_003)
    expect(again.reads).toBeLessThanOrEqual(100_003)
    expect(again.disjoint()).toBe(true)
    expect(verifyConsistency(2, 100_003, cproof, roots.get(2)!, roots.get(100_003)!)).toBe(true)
  })
})

describe('LeafSource and NodeCache contracts', () => {
  const leaves = makeLeaves(300, 8)

  it('agrees with the sync variants for random sizes and random partial caches', async () => {
    const all = new Map<string, Uint8Array>()
    const range = new CompactRange()
    for (const leaf of leaves)
      range.append(leaf, (level, index, hash) => all.set(`${level}:${index}`, hash))
    const r = rng(17)
    for (let t = 0; t < 60; t++) {
      const n = 1 + Math.floor(r() * 300)
      const keep = new Set([...all.keys()].filter(() => r() < 0.5))
      const cache: NodeCache = {
        // Async on purpose: a cache may live on disk.
        nodeHash: async (level, index) =>
          keep.has(`${level}:${index}`) ? all.get(`${level}:${index}`) : undefined,
      }
      const source = leafSourceFromArray(leaves) // a sync iterable works too
      const i = Math.floor(r() * n)
      const m = Math.floor(r() * (n + 1))
      expect(hexes(await inclusionProof(source, i, n, { cache }))).toEqual(
        hexes(inclusionProofSync(leaves, i, n)),
      )
      expect(hexes(await consistencyProof(source, m, n, { cache }))).toEqual(
        hexes(consistencyProofSync(leaves, m, n)),
      )
      expect(hex(await treeRoot(source, n, { cache }))).toBe(hex(refMth(leaves.slice(0, n))))
    }
  })

  it('returns copies, never the cache’s own arrays', async () => {
    const stored = new Uint8Array(refMth(leaves.slice(0, 4)))
    const cache: NodeCache = {
      nodeHash: (level, index) => (level === 2 && index === 0 ? stored : undefined),
    }
    const proof = await inclusionProof(leafSourceFromArray(leaves), 4, 8, { cache })
    proof[proof.length - 1]!.fill(0)
    expect(hex(stored)).toBe(hex(refMth(leaves.slice(0, 4))))
  })

  it('reports a misbehaving source or cache as CorruptLedgerError', async () => {
    const short: LeafSource = { leafHashes: (from, to) => leaves.slice(from, to - 1) }
    const long: LeafSource = { leafHashes: (from, to) => leaves.slice(from, to + 1) }
    const bad: LeafSource = {
      leafHashes: (from, to) => leaves.slice(from, to).map((l, i) => (i === 1 ? l.subarray(1) : l)),
    }
    await expect(treeRoot(short, 10)).rejects.toThrow(
      new CorruptLedgerError('leaf source yielded 9 hashes for [0, 10), expected 10'),
    )
    await expect(treeRoot(long, 10)).rejects.toBeInstanceOf(CorruptLedgerError)
    await expect(inclusionProof(bad, 0, 10)).rejects.toBeInstanceOf(CorruptLedgerError)
    const badCache: NodeCache = { nodeHash: () => new Uint8Array(31) }
    await expect(
      inclusionProof(leafSourceFromArray(leaves), 0, 10, { cache: badCache }),
    ).rejects.toThrow(/node cache returned a bad hash for level \d+ index \d+/)
  })

  it('handles empty and one-leaf trees without reading', async () => {
    const source = new CountingSource()
    expect(hex(await treeRoot(source, 0))).toBe(EMPTY_TREE_ROOT_HEX)
    expect(await inclusionProof(source, 0, 1)).toEqual([])
    expect(await consistencyProof(source, 0, 5)).toEqual([])
    expect(await consistencyProof(source, 5, 5)).toEqual([])
    expect(source.reads).toBe(0)
    expect(hex(await treeRoot(source, 1))).toBe(hex(leafAt(0)))
    expect(hex(merkleRoot([leafAt(0)]))).toBe(hex(leafAt(0)))
  })

  it('rejects bad arguments with InvalidInputError naming them', async () => {
    const source = leafSourceFromArray(leaves)
    await expect(inclusionProof(source, 10, 10)).rejects.toThrow(
      new InvalidInputError('index', '10 is not below size 10'),
    )
    await expect(inclusionProof(source, 0, -3)).rejects.toMatchObject({ path: 'size' })
    await expect(consistencyProof(source, 4, 3)).rejects.toMatchObject({
      path: 'm',
      code: 'INVALID_INPUT',
    })
    await expect(consistencyProof(source, 1, 1.5)).rejects.toMatchObject({ path: 'n' })
    await expect(treeRoot(source, Number.POSITIVE_INFINITY)).rejects.toMatchObject({ path: 'size' })
  })
})
