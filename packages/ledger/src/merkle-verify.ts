/**
 * RFC 9162 (section 2.1.3.2 and 2.1.4.2) Merkle proof verification that
 * needs nothing but hashes: a client that never sees the ledger checks an
 * inclusion or consistency proof against the roots in signed checkpoints.
 *
 * All hashes are raw 32-byte SHA-256 digests (`Uint8Array`); use
 * `hexToBytes` for hex. Sizes and indexes are JavaScript numbers that must be
 * non-negative safe integers (below 2^53).
 *
 * Two styles are offered:
 * - `verifyInclusion` / `verifyConsistency` return `false` for anything that
 *   does not verify, including malformed arguments. They never throw, so an
 *   untrusted proof can be passed straight in.
 * - `rootFromInclusionProof` / `assertConsistency` throw an
 *   {@link InvalidInputError} whose `path` names what is wrong (`index`,
 *   `proof`, `proof[2]`, `rootN`, ...), for callers that report why.
 *
 * @module
 */
import { InvalidInputError } from './errors.js'
import { HASH_BYTES, nodeHashBytes, sha256 } from './hash.js'

/** Hex of the RFC 9162 root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT_HEX =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** The RFC 9162 root of the empty tree, SHA-256(""), as a fresh 32-byte array. */
export function emptyTreeRoot(): Uint8Array {
  return new Uint8Array(sha256(''))
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(name, `must be a non-negative safe integer, got ${String(value)}`)
  }
}

function checkHash(name: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidInputError(name, `must be a Uint8Array, got ${typeof value}`)
  }
  if (value.length !== HASH_BYTES) {
    throw new InvalidInputError(name, `must be ${HASH_BYTES} bytes, got ${value.length}`)
  }
}

function checkProof(proof: readonly Uint8Array[], expected: number, what: string): void {
  if (!Array.isArray(proof)) throw new InvalidInputError('proof', 'must be an array of hashes')
  if (proof.length !== expected) {
    throw new InvalidInputError(
      'proof',
      `has ${proof.length} hashes but ${what} needs exactly ${expected}`,
    )
  }
  for (const [i, p] of proof.entries()) checkHash(`proof[${i}]`, p)
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** Largest power of two strictly below `x` (x ≥ 2). No 32-bit bitwise maths: sizes may exceed 2^32. */
function splitPoint(x: number): number {
  let k = 1
  while (k * 2 < x) k *= 2
  return k
}

const odd = (x: number): boolean => x % 2 === 1
const half = (x: number): number => Math.floor(x / 2)

/**
 * Number of hashes in the RFC 9162 inclusion proof of leaf `index` in a tree
 * of `size` leaves (0 for a one-leaf tree).
 *
 * @throws {InvalidInputError} `index` or `size` is not a non-negative safe
 *   integer, or `index` is not below `size`.
 * @example inclusionProofLength(5, 8) // 3
 */
export function inclusionProofLength(index: number, size: number): number {
  checkCount('index', index)
  checkCount('size', size)
  if (index >= size) throw new InvalidInputError('index', `${index} is not below size ${size}`)
  let lo = 0
  let hi = size
  let count = 0
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo)
    if (index < lo + k) hi = lo + k
    else lo += k
    count++
  }
  return count
}

/**
 * Number of hashes in the RFC 9162 consistency proof from a tree of `m`
 * leaves to one of `n` leaves. It is 0 when `m == n` and, by baton's
 * convention (RFC 9162 only defines `0 < m`), when `m == 0`.
 *
 * @throws {InvalidInputError} `m` or `n` is not a non-negative safe integer,
 *   or `m > n`.
 * @example consistencyProofLength(6, 8) // 3
 */
export function consistencyProofLength(m: number, n: number): number {
  checkCount('m', m)
  checkCount('n', n)
  if (m > n) throw new InvalidInputError('m', `${m} is greater than n ${n}`)
  if (m === 0 || m === n) return 0
  let lo = 0
  let hi = n
  let count = 0
  let whole = true
  while (m !== hi) {
    const k = splitPoint(hi - lo)
    if (m <= lo + k) hi = lo + k
    else {
      lo += k
      whole = false
    }
    count++
  }
  return whole ? count : count + 1
}

/**
 * Recomputes the tree root from an RFC 9162 inclusion proof (the algorithm of
 * section 2.1.3.2). Compare the result with a trusted root, or use
 * {@link verifyInclusion}.
 *
 * @param leafHash - the RFC 9162 leaf hash, SHA-256(0x00 ‖ canonical bytes).
 * @param index - 0-based index of the leaf (its `seq`).
 * @param size - number of leaves in the tree the proof is for.
 * @param proof - the audit path, nearest sibling first.
 * @returns the 32-byte root the proof leads to.
 * @throws {InvalidInputError} naming the bad argument: `index`/`size` not a
 *   non-negative safe integer, `index` not below `size`, `leafHash` or
 *   `proof[i]` not 32 bytes, or `proof` of the wrong length for that
 *   index and size (e.g. `proof: has 2 hashes but index 5 in a tree of size 8 needs exactly 3`).
 * @example
 * ```ts
 * const root = rootFromInclusionProof(leaf, 5, 8, proof)
 * if (bytesToHex(root) !== checkpointRootHex) throw new Error('not included')
 * ```
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  const expected = inclusionProofLength(index, size)
  checkHash('leafHash', leafHash)
  checkProof(proof, expected, `index ${index} in a tree of size ${size}`)
  let fn = index
  let sn = size - 1
  let r = leafHash
  for (const p of proof) {
    if (odd(fn) || fn === sn) {
      r = nodeHashBytes(p, r)
      while (!odd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      r = nodeHashBytes(r, p)
    }
    fn = half(fn)
    sn = half(sn)
  }
  // Unreachable when the length check passed; kept as the RFC's final check.
  if (sn !== 0) throw new InvalidInputError('proof', 'does not reach the root')
  return new Uint8Array(r)
}

/**
 * True when `proof` shows that `leafHash` is leaf `index` of the tree of
 * `size` leaves whose root is `root` (RFC 9162 section 2.1.3.2).
 *
 * Never throws: malformed arguments (wrong lengths, index ≥ size, non-integer
 * numbers) give `false`. Use {@link rootFromInclusionProof} to learn why.
 *
 * @example
 * ```ts
 * verifyInclusion(hexToBytes(receiptLeafHex), seq, checkpoint.size, proof, checkpoint.root)
 * ```
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    return (
      root instanceof Uint8Array &&
      equal(rootFromInclusionProof(leafHash, index, size, proof), root)
    )
  } catch {
    return false
  }
}

/**
 * Checks an RFC 9162 consistency proof (the algorithm of section 2.1.4.2):
 * that the tree of `m` leaves with root `rootM` is a prefix of the tree of
 * `n` leaves with root `rootN`.
 *
 * Edge cases (baton's convention where RFC 9162 requires `0 < m < n`):
 * - `m == n`: the proof must be empty and `rootM` must equal `rootN`.
 * - `m == 0`: the proof must be empty and `rootM` must be the empty-tree
 *   root ({@link EMPTY_TREE_ROOT_HEX}); every tree extends the empty one, so
 *   `rootN` is only checked to be 32 bytes.
 *
 * @throws {InvalidInputError} whose `path` names the culprit: `m`/`n` (not
 *   a non-negative safe integer, or `m > n`), `proof` (wrong length),
 *   `proof[i]`, `rootM` or `rootN` (not 32 bytes, or not the root the proof
 *   leads to: the trees are not consistent, e.g. a fork or rewritten history).
 */
export function assertConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): void {
  const expected = consistencyProofLength(m, n)
  checkHash('rootM', rootM)
  checkHash('rootN', rootN)
  checkProof(proof, expected, `a consistency proof from size ${m} to ${n}`)
  const mismatch = (path: 'rootM' | 'rootN', size: number) =>
    new InvalidInputError(path, `is not the root of size ${size} that the proof leads to`)
  if (m === 0 && !equal(rootM, emptyTreeRoot())) throw mismatch('rootM', 0)
  if (m === n && !equal(rootM, rootN)) throw mismatch('rootN', n)
  if (m === 0 || m === n) return
  // When m is a power of two the old tree is a subtree of the new one and
  // its root is the proof's implicit first element.
  const path = isPow2(m) ? [rootM, ...proof] : proof
  let fn = m - 1
  let sn = n - 1
  while (odd(fn)) {
    fn = half(fn)
    sn = half(sn)
  }
  let fr = path[0]!
  let sr = fr
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!
    if (sn === 0) throw new InvalidInputError('proof', 'is longer than the path to the root')
    if (odd(fn) || fn === sn) {
      fr = nodeHashBytes(c, fr)
      sr = nodeHashBytes(c, sr)
      while (!odd(fn) && fn !== 0) {
        fn = half(fn)
        sn = half(sn)
      }
    } else {
      sr = nodeHashBytes(sr, c)
    }
    fn = half(fn)
    sn = half(sn)
  }
  if (sn !== 0) throw new InvalidInputError('proof', 'does not reach the root')
  if (!equal(fr, rootM)) throw mismatch('rootM', m)
  if (!equal(sr, rootN)) throw mismatch('rootN', n)
}

function isPow2(x: number): boolean {
  let p = 1
  while (p < x) p *= 2
  return p === x
}

/**
 * True when `proof` shows that the tree of `m` leaves with root `rootM` is a
 * prefix of the tree of `n` leaves with root `rootN` (RFC 9162 section
 * 2.1.4.2; see {@link assertConsistency} for the `m == 0` and `m == n`
 * conventions).
 *
 * Never throws: malformed arguments (m > n, wrong lengths, ...) give `false`.
 *
 * @example
 * ```ts
 * if (!verifyConsistency(trusted.size, latest.size, proof, trusted.root, latest.root)) {
 *   throw new Error('ledger history was rewritten')
 * }
 * ```
 */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): boolean {
  try {
    assertConsistency(m, n, proof, rootM, rootN)
    return true
  } catch {
    return false
  }
}
