import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hexDecode, hexEquals, MerkleAccumulator } from '../src/_merkle-acc.js'
import { CompactRange, merkleRoot } from '../src/index.js'

describe('MerkleAccumulator (the export hot path)', () => {
  it('gives the same roots and range hashes as CompactRange at every size', () => {
    const leaves = Array.from({ length: 70 }, () => new Uint8Array(randomBytes(32)))
    const acc = MerkleAccumulator.from()
    const range = new CompactRange()
    expect(Buffer.from(acc.root())).toEqual(Buffer.from(merkleRoot([])))
    for (const [i, leaf] of leaves.entries()) {
      acc.append(leaf)
      range.append(leaf)
      expect(acc.size).toBe(i + 1)
      expect(Buffer.from(acc.root())).toEqual(Buffer.from(range.root()))
      expect(acc.hexHashes()).toEqual(range.hashes.map((h) => Buffer.from(h).toString('hex')))
    }
    // Continuing from a range gives the same tree.
    const first = new CompactRange()
    for (const leaf of leaves.slice(0, 33)) first.append(leaf)
    const resumed = MerkleAccumulator.from(first)
    for (const leaf of leaves.slice(33)) resumed.append(leaf)
    expect(resumed.size).toBe(70)
    expect(Buffer.from(resumed.root())).toEqual(Buffer.from(merkleRoot(leaves)))
    expect(() => MerkleAccumulator.from(new CompactRange(3))).toThrow(/begin at 0/)
    const copy = acc.clone()
    copy.append(leaves[0]!)
    expect(acc.size).toBe(70)
    expect(Buffer.from(copy.root())).toEqual(Buffer.from(merkleRoot([...leaves, leaves[0]!])))
  })

  it('compares and decodes hex in place', () => {
    const h = new Uint8Array(randomBytes(32))
    const text = Buffer.from(`x"${Buffer.from(h).toString('hex')}"`)
    expect(hexEquals(text, 2, h)).toBe(true)
    expect(Buffer.from(hexDecode(text, 2)!)).toEqual(Buffer.from(h))
    expect(hexEquals(text, 3, h)).toBe(false)
    expect(hexEquals(text, 40, h)).toBe(false)
    expect(hexDecode(Buffer.from('Z'.repeat(64)), 0)).toBeUndefined()
    expect(hexDecode(Buffer.from('é'.repeat(40)), 0)).toBeUndefined()
  })
})
