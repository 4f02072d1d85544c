import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../src/errors.js'
import { consistencyProofSync, inclusionProofSync, merkleRoot } from '../src/merkle.js'
import {
  assertConsistency,
  emptyTreeRoot,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle-verify.js'
import { hex, makeLeaves, rng } from './merkle-reference.js'

const LEAVES = makeLeaves(64, 9)
const ROOTS = Array.from({ length: LEAVES.length + 1 }, (_, n) => merkleRoot(LEAVES.slice(0, n)))
const OTHER = makeLeaves(1, 99)[0]!

/** Copy of `proof` with one bit of element `i` flipped. */
function flip(proof: readonly Uint8Array[], i: number, bit: number): Uint8Array[] {
  const out = proof.map((p) => new Uint8Array(p))
  out[i]![bit >> 3]! ^= 1 << (bit & 7)
  return out
}

/** Every way we tamper with a proof: flips, removals, insertions, swaps. */
function tampered(proof: readonly Uint8Array[], r: () => number): [string, Uint8Array[]][] {
  const out: [string, Uint8Array[]][] = []
  for (let i = 0; i < proof.length; i++) {
    out.push([`flip bit in [${i}]`, flip(proof, i, Math.floor(r() * 256))])
    out.push([`remove [${i}]`, proof.filter((_, j) => j !== i)])
    out.push([`duplicate [${i}]`, [...proof.slice(0, i + 1), ...proof.slice(i)]])
  }
  for (let i = 0; i <= proof.length; i++)
    out.push([`insert at ${i}`, [...proof.slice(0, i), OTHER, ...proof.slice(i)]])
  for (let i = 0; i + 1 < proof.length; i++) {
    if (hex(proof[i]!) === hex(proof[i + 1]!)) continue
    const s = [...proof]
    ;[s[i], s[i + 1]] = [s[i + 1]!, s[i]!]
    out.push([`swap [${i}] and [${i + 1}]`, s])
  }
  return out
}

describe('verifyInclusion', () => {
  it('rejects every tampered proof, wrong index, size, leaf and root', () => {
    const r = rng(3)
    let checked = 0
    for (let n = 1; n <= 40; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProofSync(LEAVES, i, n)
        const leaf = LEAVES[i]!
        const root = ROOTS[n]!
        expect(verifyInclusion(leaf, i, n, proof, root)).toBe(true)
        for (const [what, bad] of tampered(proof, r)) {
          expect(verifyInclusion(leaf, i, n, bad, root), what).toBe(false)
          checked++
        }
        for (const j of [i - 1, i + 1, i ^ 2, n, -1]) {
          if (j !== i) expect(verifyInclusion(leaf, j, n, proof, root), `index ${j}`).toBe(false)
        }
        // Any other size, against that size's own true root.
        for (let s = 1; s <= 64; s++) {
          if (s !== n && i < s)
            expect(verifyInclusion(leaf, i, s, proof, ROOTS[s]!), `size ${s}`).toBe(false)
        }
        // Published corruptions with the original root: size * 2 and size / 2.
        expect(verifyInclusion(leaf, i, n * 2, proof, root)).toBe(false)
        expect(verifyInclusion(leaf, i, Math.floor(n / 2), proof, root)).toBe(false)
        expect(verifyInclusion(OTHER, i, n, proof, root)).toBe(false)
        expect(verifyInclusion(leaf, i, n, proof, ROOTS[n - 1]!)).toBe(false)
        expect(verifyInclusion(leaf, i, n, proof, emptyTreeRoot())).toBe(false)
        expect(verifyInclusion(leaf, i, n, [...proof, root], root)).toBe(false)
        expect(verifyInclusion(leaf, i, n, [root, ...proof], root)).toBe(false)
      }
    }
    expect(checked).toBeGreaterThan(10_000)
  })

  it('handles size 1, the last index and powers of two', () => {
    const leaf = LEAVES[0]!
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true)
    expect(verifyInclusion(leaf, 0, 1, [], OTHER)).toBe(false)
    expect(verifyInclusion(leaf, 0, 1, [leaf], leaf)).toBe(false)
    for (const n of [2, 4, 8, 16, 32, 64, 3, 7, 33, 63]) {
      const proof = inclusionProofSync(LEAVES, n - 1, n)
      expect(verifyInclusion(LEAVES[n - 1]!, n - 1, n, proof, ROOTS[n]!)).toBe(true)
    }
  })

  it('never throws on malformed input', () => {
    const proof = inclusionProofSync(LEAVES, 3, 10)
    const cases: [Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
      [LEAVES[3]!, 3, 0, proof, ROOTS[10]!],
      [LEAVES[3]!, 10, 10, proof, ROOTS[10]!],
      [LEAVES[3]!, Number.NaN, 10, proof, ROOTS[10]!],
      [LEAVES[3]!, 3, 2 ** 60, proof, ROOTS[10]!],
      [LEAVES[3]!.subarray(1), 3, 10, proof, ROOTS[10]!],
      [LEAVES[3]!, 3, 10, [proof[0]!.subarray(2), ...proof.slice(1)], ROOTS[10]!],
      [LEAVES[3]!, 3, 10, proof, ROOTS[10]!.subarray(0, 31)],
      [LEAVES[3]!, 3, 10, 'nope' as never, ROOTS[10]!],
      [LEAVES[3]!, 3, 10, proof, undefined as never],
    ]
    for (const args of cases) expect(verifyInclusion(...args)).toBe(false)
  })
})

describe('rootFromInclusionProof', () => {
  it('returns the root as a copy, even for a one-leaf tree', () => {
    const leaf = LEAVES[0]!
    const root = rootFromInclusionProof(leaf, 0, 1, [])
    expect(hex(root)).toBe(hex(leaf))
    root.fill(0)
    expect(hex(leaf)).not.toBe(hex(root))
    expect(hex(rootFromInclusionProof(LEAVES[5]!, 5, 9, inclusionProofSync(LEAVES, 5, 9)))).toBe(
      hex(ROOTS[9]!),
    )
  })

  it('throws InvalidInputError saying what is wrong', () => {
    const proof = inclusionProofSync(LEAVES, 5, 8)
    const cases: [() => unknown, string, string][] = [
      [
        () => rootFromInclusionProof(LEAVES[0]!, 12, 10, proof),
        'index',
        'index: 12 is not below size 10',
      ],
      [() => rootFromInclusionProof(LEAVES[0]!, 0, 0, []), 'index', 'index: 0 is not below size 0'],
      [
        () => rootFromInclusionProof(LEAVES[0]!, -1, 8, proof),
        'index',
        'index: must be a non-negative safe integer, got -1',
      ],
      [
        () => rootFromInclusionProof(LEAVES[0]!, 1, 2 ** 53, proof),
        'size',
        'size: must be a non-negative safe integer, got 9007199254740992',
      ],
      [
        () => rootFromInclusionProof(LEAVES[5]!, 5, 8, proof.slice(1)),
        'proof',
        'proof: has 2 hashes but index 5 in a tree of size 8 needs exactly 3',
      ],
      [() => rootFromInclusionProof(LEAVES[5]!, 5, 8, [...proof, OTHER]), 'proof', ''],
      [
        () => rootFromInclusionProof(LEAVES[5]!, 5, 8, [proof[0]!, new Uint8Array(31), proof[2]!]),
        'proof[1]',
        'proof[1]: must be 32 bytes, got 31',
      ],
      [
        () => rootFromInclusionProof(new Uint8Array(0), 5, 8, proof),
        'leafHash',
        'leafHash: must be 32 bytes, got 0',
      ],
    ]
    for (const [fn, path, message] of cases) {
      try {
        fn()
        expect.unreachable(path)
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError)
        expect((e as InvalidInputError).code).toBe('INVALID_INPUT')
        expect((e as InvalidInputError).path).toBe(path)
        if (message !== '') expect((e as Error).message).toBe(message)
      }
    }
  })
})

describe('verifyConsistency', () => {
  it('rejects every tampered proof, wrong sizes and wrong roots', () => {
    const r = rng(5)
    let checked = 0
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m < n; m++) {
        const proof = consistencyProofSync(LEAVES, m, n)
        const [rootM, rootN] = [ROOTS[m]!, ROOTS[n]!]
        expect(verifyConsistency(m, n, proof, rootM, rootN)).toBe(true)
        for (const [what, bad] of tampered(proof, r)) {
          expect(verifyConsistency(m, n, bad, rootM, rootN), what).toBe(false)
          checked++
        }
        expect(verifyConsistency(m, n, [], rootM, rootN)).toBe(false)
        expect(verifyConsistency(m, n, proof, rootN, rootM)).toBe(false)
        expect(verifyConsistency(m, n, proof, OTHER, rootN)).toBe(false)
        expect(verifyConsistency(m, n, proof, rootM, OTHER)).toBe(false)
        expect(verifyConsistency(n, m, proof, rootN, rootM)).toBe(false) // m > n
        for (const [m2, n2] of [
          [m - 1, n],
          [m + 1, n],
          [m ^ 2, n],
          [m, n * 2],
          [m, n + 1],
          [m, Math.floor(n / 2)],
        ] as [number, number][]) {
          if (m2 === m && n2 === n) continue
          // With the original roots (except n + 1: a root does not commit to its size, so a
          // proof for n can also fit n + 1 when the paths have the same shape; checkpoints
          // sign size and root together), and with the true roots of the claimed sizes.
          if (n2 !== n + 1) {
            expect(verifyConsistency(m2, n2, proof, rootM, rootN), `${m2} -> ${n2}`).toBe(false)
          }
          if (m2 >= 0 && m2 <= 64 && n2 <= 64) {
            expect(
              verifyConsistency(m2, n2, proof, ROOTS[m2]!, ROOTS[n2]!),
              `${m2} -> ${n2} true roots`,
            ).toBe(false)
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000)
  })

  it('needs an empty proof and equal roots when m == n', () => {
    for (const n of [1, 2, 5, 8, 64]) {
      expect(verifyConsistency(n, n, [], ROOTS[n]!, ROOTS[n]!)).toBe(true)
      expect(verifyConsistency(n, n, [], ROOTS[n]!, ROOTS[n - 1]!)).toBe(false)
      expect(verifyConsistency(n, n, [ROOTS[n]!], ROOTS[n]!, ROOTS[n]!)).toBe(false)
      expect(consistencyProofSync(LEAVES, n, n)).toEqual([])
    }
  })

  it('treats m == 0 as consistent with anything, given the empty-tree root and no proof', () => {
    const empty = emptyTreeRoot()
    expect(verifyConsistency(0, 0, [], empty, empty)).toBe(true)
    expect(verifyConsistency(0, 7, [], empty, ROOTS[7]!)).toBe(true)
    expect(verifyConsistency(0, 7, [], ROOTS[1]!, ROOTS[7]!)).toBe(false)
    expect(verifyConsistency(0, 0, [], empty, ROOTS[1]!)).toBe(false)
    expect(verifyConsistency(0, 7, [empty], empty, ROOTS[7]!)).toBe(false)
    expect(verifyConsistency(0, 7, [], empty, new Uint8Array(3))).toBe(false)
  })

  it('never throws on malformed input', () => {
    const proof = consistencyProofSync(LEAVES, 3, 10)
    expect(verifyConsistency(Number.NaN, 10, proof, ROOTS[3]!, ROOTS[10]!)).toBe(false)
    expect(verifyConsistency(3, 2 ** 53, proof, ROOTS[3]!, ROOTS[10]!)).toBe(false)
    expect(verifyConsistency(3, 10, 'x' as never, ROOTS[3]!, ROOTS[10]!)).toBe(false)
    expect(
      verifyConsistency(3, 10, [...proof.slice(1), new Uint8Array(2)], ROOTS[3]!, ROOTS[10]!),
    ).toBe(false)
    expect(verifyConsistency(3, 10, proof, ROOTS[3]!.subarray(1), ROOTS[10]!)).toBe(false)
  })
})

describe('assertConsistency', () => {
  it('names the culprit', () => {
    const proof = consistencyProofSync(LEAVES, 6, 8)
    const [r6, r7, r8] = [ROOTS[6]!, ROOTS[7]!, ROOTS[8]!]
    const cases: [() => unknown, string, string][] = [
      [() => assertConsistency(9, 8, proof, r6, r8), 'm', 'm: 9 is greater than n 8'],
      [() => assertConsistency(6, -8, proof, r6, r8), 'n', ''],
      [
        () => assertConsistency(6, 8, proof.slice(1), r6, r8),
        'proof',
        'proof: has 2 hashes but a consistency proof from size 6 to 8 needs exactly 3',
      ],
      [
        () => assertConsistency(6, 8, [proof[0]!, proof[1]!, new Uint8Array(1)], r6, r8),
        'proof[2]',
        '',
      ],
      [
        () => assertConsistency(6, 8, proof, r7, r8),
        'rootM',
        'rootM: is not the root of size 6 that the proof leads to',
      ],
      [
        () => assertConsistency(6, 8, proof, r6, r7),
        'rootN',
        'rootN: is not the root of size 8 that the proof leads to',
      ],
      [
        () => assertConsistency(6, 8, proof, r6, new Uint8Array(64)),
        'rootN',
        'rootN: must be 32 bytes, got 64',
      ],
      [() => assertConsistency(8, 8, [], r8, r7), 'rootN', ''],
      [
        () => assertConsistency(0, 8, [], r8, r8),
        'rootM',
        'rootM: is not the root of size 0 that the proof leads to',
      ],
    ]
    for (const [fn, path, message] of cases) {
      try {
        fn()
        expect.unreachable(path)
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInputError)
        expect((e as InvalidInputError).path).toBe(path)
        if (message !== '') expect((e as Error).message).toBe(message)
      }
    }
    expect(() => assertConsistency(6, 8, proof, r6, r8)).not.toThrow()
  })
})
