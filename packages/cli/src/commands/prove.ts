/**
 * `baton prove inclusion <dir> <seq> [--size N]` and
 * `baton prove consistency <dir> <m> <n>`: RFC 9162 proofs from the
 * ledger's tree state, which is brought up to date first (reading only the
 * receipts appended since it was saved); a proof then reads a few hundred
 * receipts, not the whole ledger.
 *
 * Text output: the sizes and roots, then the proof hashes in base64, one
 * per line, nearest the leaf first. `--json` prints everything a client that
 * never sees the ledger needs to check the proof against a signed
 * checkpoint (`baton verify-proof`, or `verifyInclusion` /
 * `verifyConsistency` of `@baton/ledger`).
 *
 * @module
 */
import type { TreeState } from '@baton/ledger'
import { openUpdatedTree, updateJson } from '../_tree-update.js'
import { EXIT_OK, UsageError } from '../errors.js'
import { count } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton prove inclusion`. */
export interface ProveInclusionOptions {
  /** Tree size the proof is for (e.g. a checkpoint's); default the whole ledger. */
  readonly size?: number
  readonly json: boolean
}

/** Options of `baton prove consistency`. */
export interface ProveConsistencyOptions {
  readonly json: boolean
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** Notes a rebuild that a proof itself triggered (a stored block did not match the ledger). */
function noteRebuild(io: CliIo, state: TreeState, before: string | undefined): void {
  if (state.lastRebuild !== undefined && state.lastRebuild !== before) {
    io.stderr.write(`baton: note: the tree state was rebuilt from scratch: ${state.lastRebuild}\n`)
  }
}

/** Runs `baton prove inclusion`. */
export async function proveInclusionCommand(
  io: CliIo,
  dir: string,
  seq: number,
  options: ProveInclusionOptions,
): Promise<number> {
  if (options.size !== undefined && seq >= options.size) {
    throw new UsageError(`<seq> ${seq} is not below --size ${options.size}`)
  }
  const { store, state, update } = await openUpdatedTree(io, dir, options.json)
  let out: Record<string, unknown>
  let proof: Uint8Array[]
  try {
    const size = options.size ?? state.size
    if (options.size !== undefined && options.size > state.size) {
      throw new UsageError(`--size ${options.size} is beyond the ledger's ${state.size} receipts`)
    }
    if (seq >= size) {
      throw new UsageError(`<seq> ${seq} is not below the ledger's ${size} receipts`)
    }
    const before = state.lastRebuild
    proof = await state.inclusionProof(seq, size)
    const root = await state.root(size)
    const receipt = await state.receipt(seq)
    noteRebuild(io, state, before)
    out = {
      type: 'inclusion',
      ledger: store.location,
      seq,
      size,
      leafHash: receipt.hash,
      receipt: Buffer.from(receipt.bytes).toString('utf8'),
      root: b64(root),
      proof: proof.map(b64),
      treeState: updateJson(update),
    }
  } finally {
    await store.close()
  }
  if (options.json) println(io.stdout, JSON.stringify(out, null, 2))
  else {
    println(
      io.stdout,
      `Inclusion proof: receipt ${seq} in the tree of ${count(out.size as number)} receipts`,
    )
    println(io.stdout, `Leaf hash: ${out.leafHash as string}`)
    println(io.stdout, `Root: ${out.root as string}`)
    println(io.stdout, `Proof (${proof.length} hashes, base64, nearest the leaf first):`)
    for (const h of out.proof as string[]) println(io.stdout, h)
  }
  return EXIT_OK
}

/** Runs `baton prove consistency`. */
export async function proveConsistencyCommand(
  io: CliIo,
  dir: string,
  m: number,
  n: number,
  options: ProveConsistencyOptions,
): Promise<number> {
  if (m > n) throw new UsageError(`<m> ${m} is greater than <n> ${n}`)
  const { store, state, update } = await openUpdatedTree(io, dir, options.json)
  let out: Record<string, unknown>
  let proof: Uint8Array[]
  try {
    if (n > state.size) {
      throw new UsageError(`<n> ${n} is beyond the ledger's ${state.size} receipts`)
    }
    const before = state.lastRebuild
    proof = await state.consistencyProof(m, n)
    const rootM = await state.root(m)
    const rootN = await state.root(n)
    noteRebuild(io, state, before)
    out = {
      type: 'consistency',
      ledger: store.location,
      m,
      n,
      rootM: b64(rootM),
      rootN: b64(rootN),
      proof: proof.map(b64),
      treeState: updateJson(update),
    }
  } finally {
    await store.close()
  }
  if (options.json) println(io.stdout, JSON.stringify(out, null, 2))
  else {
    println(io.stdout, `Consistency proof: ${count(m)} → ${count(n)} receipts`)
    println(io.stdout, `Root of ${count(m)}: ${out.rootM as string}`)
    println(io.stdout, `Root of ${count(n)}: ${out.rootN as string}`)
    println(io.stdout, `Proof (${proof.length} hashes, base64):`)
    for (const h of out.proof as string[]) println(io.stdout, h)
  }
  return EXIT_OK
}
