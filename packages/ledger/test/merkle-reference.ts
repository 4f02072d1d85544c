/**
 * Naive RFC 9162 section 2.1 reference (MTH, PATH, PROOF/SUBPROOF) written
 * straight from the recursive definitions, for cross-checking `merkle.ts`.
 * Deliberately independent of `src/`: its own hashing via `node:crypto`.
 */
import { createHash } from 'node:crypto'

function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** SHA-256(0x00 ‖ data). */
export function refLeaf(data: Uint8Array): Uint8Array {
  return sha(Uint8Array.of(0), data)
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function refNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha(Uint8Array.of(1), left, right)
}

/** k: the largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** MTH(D[n]) over leaf hashes. */
export function refMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha()
  if (d.length === 1) return d[0]!
  const k = split(d.length)
  return refNode(refMth(d.slice(0, k)), refMth(d.slice(k)))
}

/** PATH(m, D[n]). */
export function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return []
  const k = split(d.length)
  if (m < k) return [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
  return [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))]
}

function subproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [refMth(d)]
  const k = split(d.length)
  if (m <= k) return [...subproof(m, d.slice(0, k), b), refMth(d.slice(k))]
  return [...subproof(m - k, d.slice(k), false), refMth(d.slice(0, k))]
}

/** PROOF(m, D[n]) for 0 < m ≤ n. */
export function refProof(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  return subproof(m, d, true)
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` distinct leaf hashes, leaf i = SHA-256(0x00 ‖ "leaf-<salt>-<i>"). */
export function makeLeaves(count: number, salt = 0): Uint8Array[] {
  const enc = new TextEncoder()
  return Array.from({ length: count }, (_, i) => refLeaf(enc.encode(`leaf-${salt}-${i}`)))
}

/** Lowercase hex, for readable comparisons (Buffers and Uint8Arrays compare equal as hex). */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** Hex of every element. */
export function hexes(list: readonly Uint8Array[]): string[] {
  return list.map(hex)
}
