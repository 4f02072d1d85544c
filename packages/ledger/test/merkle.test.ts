import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../src/errors.js'
import { hexToBytes } from '../src/hash.js'
import {
  CompactRange,
  consistencyProofRanges,
  consistencyProofSync,
  inclusionProofRanges,
  inclusionProofSync,
  merkleRoot,
  perfectSubtrees,
} from '../src/merkle.js'
import {
  consistencyProofLength,
  EMPTY_TREE_ROOT_HEX,
  emptyTreeRoot,
  inclusionProofLength,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle-verify.js'
import {
  hex,
  hexes,
  makeLeaves,
  refLeaf,
  refMth,
  refPath,
  refProof,
  rng,
} from './merkle-reference.js'

// Published RFC 6962 / 9162 test data (transparency-dev/merkle, proof/verify_test.go):
// the eight standard leaves, the root of every prefix, and known proofs.
const DATA = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
]
const LEAVES = DATA.map((d) => refLeaf(Buffer.from(d, 'hex')))
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
const H = {
  '96a2': '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '5f08': '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
  '6b47': '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  bc1a: 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ca85: 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  d37e: 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  fac5: 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  '6e34': '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '0ebc': '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
  b086: 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
}
// [index (0-based), size, proof]
const INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, [H['96a2'], H['5f08'], H['6b47']]],
  [5, 8, [H.bc1a, H.ca85, H.d37e]],
  [2, 3, [H.fac5]],
  [1, 5, [H['6e34'], H['5f08'], H.bc1a]],
]
// [m, n, proof]
const CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, [H['96a2'], H['5f08'], H['6b47']]],
  [6, 8, [H['0ebc'], H.ca85, H.d37e]],
  [2, 5, [H['5f08'], H.bc1a]],
  [6, 7, [H['0ebc'], H.b086, H.d37e]],
]

function expectInvalid(fn: () => unknown, path: string, message?: string): void {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError)
    expect((e as InvalidInputError).path).toBe(path)
    if (message !== undefined) expect((e as Error).message).toBe(message)
    return
  }
  throw new Error(`expected InvalidInputError on ${path}`)
}

describe('published RFC 6962 test vectors', () => {
  it('has the empty-tree root', () => {
    expect(hex(merkleRoot([]))).toBe(EMPTY_TREE_ROOT_HEX)
    expect(hex(emptyTreeRoot())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    expect(hex(new CompactRange().root())).toBe(EMPTY_TREE_ROOT_HEX)
  })

  it('computes the root of every prefix of the eight leaves', () => {
    for (let size = 1; size <= 8; size++) {
      expect(hex(merkleRoot(LEAVES.slice(0, size)))).toBe(ROOTS[size - 1])
    }
    expect(hex(merkleRoot(LEAVES))).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    )
  })

  it.each(INCLUSION)(
    'generates and verifies inclusion proof of leaf %i in size %i',
    (index, size, want) => {
      const proof = inclusionProofSync(LEAVES, index, size)
      expect(hexes(proof)).toEqual(want)
      const root = hexToBytes(ROOTS[size - 1]!)
      expect(verifyInclusion(LEAVES[index]!, index, size, want.map(hexToBytes), root)).toBe(true)
    },
  )

  it.each(CONSISTENCY)('generates and verifies consistency proof %i -> %i', (m, n, want) => {
    expect(hexes(consistencyProofSync(LEAVES, m, n))).toEqual(want)
    const rootM = hexToBytes(ROOTS[m - 1]!)
    const rootN = hexToBytes(ROOTS[n - 1]!)
    expect(verifyConsistency(m, n, want.map(hexToBytes), rootM, rootN)).toBe(true)
  })
})

describe('CompactRange', () => {
  it('appends to the same root as merkleRoot and reports its nodes', () => {
    const leaves = makeLeaves(13)
    const range = new CompactRange()
    for (const leaf of leaves) range.append(leaf)
    expect(range.begin).toBe(0)
    expect(range.end).toBe(13)
    expect(range.hashes).toHaveLength(3) // 8 + 4 + 1
    expect(hex(range.root())).toBe(hex(refMth(leaves)))
  })

  it('holds the MTH of every perfect subtree of any [begin, end)', () => {
    const leaves = makeLeaves(200, 1)
    const r = rng(7)
    for (let t = 0; t < 300; t++) {
      const begin = Math.floor(r() * 200)
      const end = begin + Math.floor(r() * (200 - begin + 1))
      const range = new CompactRange(begin)
      for (let i = begin; i < end; i++) range.append(leaves[i]!)
      const ids = perfectSubtrees(begin, end)
      const want = ids.map(({ level, index }) =>
        hex(refMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level))),
      )
      expect(hexes(range.hashes)).toEqual(want)
      // Covers the range exactly, left to right, each subtree aligned.
      let pos = begin
      for (const { level, index } of ids) {
        expect(index * 2 ** level).toBe(pos)
        pos += 2 ** level
      }
      expect(pos).toBe(end)
    }
  })

  it('merges adjacent ranges into the range built directly', () => {
    const leaves = makeLeaves(150, 2)
    const r = rng(11)
    for (let t = 0; t < 200; t++) {
      const [a, b, c] = [r(), r(), r()].map((x) => Math.floor(x * 151)).sort((x, y) => x - y) as [
        number,
        number,
        number,
      ]
      const left = new CompactRange(a)
      const right = new CompactRange(b)
      const whole = new CompactRange(a)
      for (let i = a; i < b; i++) left.append(leaves[i]!)
      for (let i = b; i < c; i++) right.append(leaves[i]!)
      for (let i = a; i < c; i++) whole.append(leaves[i]!)
      const visited: string[] = []
      left.merge(right, (level, index) => visited.push(`${level}:${index}`))
      expect(left.end).toBe(c)
      expect(hexes(left.hashes)).toEqual(hexes(whole.hashes))
      expect(right.begin).toBe(b) // untouched
      if (a === 0) expect(hex(left.root())).toBe(hex(refMth(leaves.slice(0, c))))
    }
  })

  it('visits every interior node once with its level, index and hash', () => {
    const leaves = makeLeaves(37, 3)
    const seen = new Map<string, string>()
    const range = new CompactRange()
    for (const leaf of leaves) {
      range.append(leaf, (level, index, hash) => {
        const key = `${level}:${index}`
        expect(seen.has(key)).toBe(false)
        seen.set(key, hex(hash))
      })
    }
    // 18 + 9 + 4 + 2 + 1 complete interior nodes in 37 leaves.
    expect(seen.size).toBe(34)
    for (const [key, h] of seen) {
      const [level, index] = key.split(':').map(Number) as [number, number]
      expect(h).toBe(hex(refMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level))))
    }
  })

  it('round-trips through fromHashes and clone, copying its inputs', () => {
    const leaves = makeLeaves(21, 4)
    const range = new CompactRange()
    for (const leaf of leaves.slice(0, 11)) range.append(leaf)
    const restored = CompactRange.fromHashes(0, 11, range.hashes)
    const copy = range.clone()
    const buf = Uint8Array.from(leaves[11]!)
    for (const r of [range, restored, copy]) r.append(buf)
    buf.fill(0) // the range copied it
    for (const leaf of leaves.slice(12)) {
      range.append(leaf)
      restored.append(leaf)
    }
    expect(hex(range.root())).toBe(hex(refMth(leaves)))
    expect(hex(restored.root())).toBe(hex(refMth(leaves)))
    expect(hex(copy.root())).toBe(hex(refMth(leaves.slice(0, 12))))
    range.hashes[0]!.fill(0) // a copy
    expect(hex(range.root())).toBe(hex(refMth(leaves)))
  })

  it('rejects bad arguments naming them', () => {
    expectInvalid(() => new CompactRange(-1), 'begin')
    expectInvalid(() => new CompactRange(1.5), 'begin')
    expectInvalid(() => new CompactRange().append(new Uint8Array(31)), 'leafHash')
    expectInvalid(() => new CompactRange(3).root(), 'begin')
    expectInvalid(
      () => new CompactRange(0).merge(new CompactRange(1)),
      'other',
      'other: must begin at 0, begins at 1',
    )
    expectInvalid(() => CompactRange.fromHashes(0, 3, makeLeaves(1)), 'hashes')
    expectInvalid(() => CompactRange.fromHashes(0, 2, [new Uint8Array(5)]), 'hashes[0]')
    expectInvalid(() => CompactRange.fromHashes(4, 2, []), 'begin')
    expectInvalid(() => merkleRoot([...makeLeaves(2), new Uint8Array(33)]), 'leaves[2]')
  })
})

describe('cross-check against the naive RFC 9162 reference', () => {
  it('matches MTH, PATH and PROOF for every index and m at sizes 1..70', () => {
    const leaves = makeLeaves(70, 5)
    for (let n = 1; n <= 70; n++) {
      const d = leaves.slice(0, n)
      const root = merkleRoot(d)
      expect(hex(root)).toBe(hex(refMth(d)))
      for (let i = 0; i < n; i++) {
        const proof = inclusionProofSync(leaves, i, n)
        expect(hexes(proof)).toEqual(hexes(refPath(i, d)))
        expect(proof).toHaveLength(inclusionProofLength(i, n))
        expect(verifyInclusion(d[i]!, i, n, proof, root)).toBe(true)
      }
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProofSync(leaves, m, n)
        expect(hexes(proof)).toEqual(hexes(refProof(m, d)))
        expect(proof).toHaveLength(consistencyProofLength(m, n))
        expect(verifyConsistency(m, n, proof, merkleRoot(d.slice(0, m)), root)).toBe(true)
      }
      expect(consistencyProofSync(leaves, 0, n)).toEqual([])
      expect(verifyConsistency(0, n, [], emptyTreeRoot(), root)).toBe(true)
    }
  })

  it('matches at random sizes up to 5000', () => {
    const leaves = makeLeaves(5000, 6)
    const r = rng(42)
    const sizes = [
      1024,
      4096,
      4097,
      5000,
      ...Array.from({ length: 12 }, () => 1 + Math.floor(r() * 5000)),
    ]
    for (const n of sizes) {
      const d = leaves.slice(0, n)
      const root = merkleRoot(d)
      expect(hex(root)).toBe(hex(refMth(d)))
      for (const i of [0, n - 1, Math.floor(r() * n), Math.floor(r() * n)]) {
        const proof = inclusionProofSync(d, i)
        expect(hexes(proof)).toEqual(hexes(refPath(i, d)))
        expect(verifyInclusion(d[i]!, i, n, proof, root)).toBe(true)
      }
      for (const m of [1, n, Math.ceil(r() * n), Math.ceil(r() * n)]) {
        const proof = consistencyProofSync(d, m)
        expect(hexes(proof)).toEqual(hexes(refProof(m, d)))
        expect(verifyConsistency(m, n, proof, merkleRoot(d.slice(0, m)), root)).toBe(true)
      }
    }
  })

  it('plans proofs as disjoint subtrees without reading leaves', () => {
    expect(inclusionProofRanges(0, 1)).toEqual([])
    expect(inclusionProofRanges(6, 7)).toEqual([
      [4, 6],
      [0, 4],
    ])
    expect(consistencyProofRanges(3, 7)).toEqual([
      [2, 3],
      [3, 4],
      [0, 2],
      [4, 7],
    ])
    expect(consistencyProofRanges(4, 8)).toEqual([[4, 8]])
    expect(consistencyProofRanges(0, 8)).toEqual([])
    expect(consistencyProofRanges(8, 8)).toEqual([])
    // Sizes beyond 2^32 work (no 32-bit bitwise maths).
    const big = 2 ** 40 + 12345
    expect(inclusionProofRanges(big - 1, big)).toHaveLength(inclusionProofLength(big - 1, big))
    expect(consistencyProofRanges(2 ** 33 + 1, big)).toHaveLength(
      consistencyProofLength(2 ** 33 + 1, big),
    )
  })
})

describe('argument checks', () => {
  const leaves = makeLeaves(10)
  it('names the bad argument', () => {
    expectInvalid(
      () => inclusionProofSync(leaves, 12, 10),
      'index',
      'index: 12 is not below size 10',
    )
    expectInvalid(() => inclusionProofSync(leaves, 0, 0), 'index', 'index: 0 is not below size 0')
    expectInvalid(() => inclusionProofSync(leaves, -1, 10), 'index')
    expectInvalid(
      () => inclusionProofSync(leaves, 0, 11),
      'size',
      'size: 11 is greater than the 10 leaves given',
    )
    expectInvalid(() => inclusionProofSync(leaves, 0, Number.NaN), 'size')
    expectInvalid(() => consistencyProofSync(leaves, 5, 4), 'm', 'm: 5 is greater than n 4')
    expectInvalid(() => consistencyProofSync(leaves, 2, 11), 'n')
    expectInvalid(() => consistencyProofSync(leaves, 0.5, 4), 'm')
    expectInvalid(() => inclusionProofLength(3, 2 ** 53), 'size')
    expectInvalid(() => perfectSubtrees(-2, 4), 'begin')
    expectInvalid(
      () => inclusionProofSync([...leaves.slice(0, 3), new Uint8Array(1)], 0, 4),
      'leaves[3]',
    )
  })
})
