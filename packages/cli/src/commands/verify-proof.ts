/**
 * `baton verify-proof <proof.json|-> --checkpoint FILE... --key VKEY...`:
 * what a client that never sees the ledger runs. It checks a proof printed
 * by `baton prove … --json` against signed checkpoints, with hashes only:
 *
 * - inclusion: the receipt's leaf hash (recomputed from the receipt text
 *   when the proof carries it), the proof and the root of a checkpoint of
 *   the proof's size;
 * - consistency: the roots of checkpoints of sizes `m` and `n` (none needed
 *   for `m = 0`).
 *
 * Exit codes: 0 VERIFIED, 1 the proof or a checkpoint does not verify,
 * 2 usage error or malformed input (a proof file that is not a proof, no
 * checkpoint of the proof's size, unreadable or malformed keys).
 *
 * @module
 */
import {
  assertConsistency,
  decodeReceipt,
  emptyTreeRoot,
  isBatonError,
  leafHash,
  openCheckpoint,
  parseJsonText,
  rootFromInclusionProof,
  type VerifiedCheckpoint,
} from '@baton/ledger'
import { readArgFile, readVerifierKeys } from '../_key-args.js'
import { EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { count } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton verify-proof`. */
export interface VerifyProofOptions {
  /** Signed checkpoint files. */
  readonly checkpoint?: readonly string[]
  /** Verifier keys (text, or files of one key per line). */
  readonly key?: readonly string[]
  readonly json: boolean
}

interface Outcome {
  readonly status: 'VERIFIED' | 'FAILED'
  readonly reason?: string
  readonly [field: string]: unknown
}

const HEX64 = /^[0-9a-f]{64}$/

/** Reads and checks the fields of a proof file, naming the bad one. */
function field(proof: Record<string, unknown>, name: string, source: string) {
  const bad = (why: string) => new UsageError(`${source}: ${name}: ${why}`)
  const value = proof[name]
  return {
    count(): number {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw bad('must be a non-negative integer')
      }
      return value
    },
    hashes(): Uint8Array[] {
      if (!Array.isArray(value)) throw bad('must be an array of base64 hashes')
      return value.map((h, i) => {
        const bytes = typeof h === 'string' ? Buffer.from(h, 'base64') : undefined
        if (bytes === undefined || bytes.length !== 32 || bytes.toString('base64') !== h) {
          throw new UsageError(`${source}: ${name}[${i}]: must be a 32-byte hash in base64`)
        }
        return new Uint8Array(bytes)
      })
    },
    optionalString(): string | undefined {
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw bad('must be a string')
      return value
    },
  }
}

function bySize(
  checkpoints: readonly VerifiedCheckpoint[],
  size: number,
  what: string,
): VerifiedCheckpoint {
  const found = checkpoints.find((c) => c.size === size)
  if (found === undefined) {
    const sizes = checkpoints.map((c) => count(c.size)).join(', ')
    throw new UsageError(
      `--checkpoint: none has size ${size} (${what}); given: ${sizes}. Ask for a proof at a checkpoint's size (baton prove inclusion --size N)`,
    )
  }
  return found
}

function checkInclusion(
  proof: Record<string, unknown>,
  source: string,
  checkpoints: readonly VerifiedCheckpoint[],
): Outcome {
  const seq = field(proof, 'seq', source).count()
  const size = field(proof, 'size', source).count()
  const hashes = field(proof, 'proof', source).hashes()
  const receipt = field(proof, 'receipt', source).optionalString()
  let leaf = field(proof, 'leafHash', source).optionalString()
  if (leaf !== undefined && !HEX64.test(leaf)) {
    throw new UsageError(`${source}: leafHash: must be 64 lowercase hex characters`)
  }
  const base = { type: 'inclusion', seq, size }
  if (receipt !== undefined) {
    const computed = leafHash(receipt)
    if (leaf !== undefined && leaf !== computed) {
      return {
        status: 'FAILED',
        ...base,
        reason: 'the receipt text does not have the leaf hash given',
      }
    }
    let receiptSeq: number | undefined
    try {
      receiptSeq = decodeReceipt(receipt).seq
    } catch (error) {
      return {
        status: 'FAILED',
        ...base,
        reason: `the receipt is not a canonical receipt: ${(error as Error).message}`,
      }
    }
    if (receiptSeq !== seq) {
      return { status: 'FAILED', ...base, reason: `the receipt has seq ${receiptSeq}, not ${seq}` }
    }
    leaf = computed
  }
  if (leaf === undefined) throw new UsageError(`${source}: needs a receipt or a leafHash`)
  if (seq >= size) throw new UsageError(`${source}: seq: ${seq} is not below size ${size}`)
  const cp = bySize(checkpoints, size, `the proof's size`)
  const full = {
    ...base,
    leafHash: leaf,
    origin: cp.origin,
    root: Buffer.from(cp.root).toString('base64'),
    signedBy: cp.signedBy.map((s) => s.name),
  }
  let root: Uint8Array
  try {
    root = rootFromInclusionProof(Buffer.from(leaf, 'hex'), seq, size, hashes)
  } catch (error) {
    return { status: 'FAILED', ...full, reason: (error as Error).message }
  }
  return Buffer.from(root).equals(Buffer.from(cp.root))
    ? { status: 'VERIFIED', ...full }
    : { status: 'FAILED', ...full, reason: `the proof leads to a root other than the checkpoint's` }
}

function checkConsistency(
  proof: Record<string, unknown>,
  source: string,
  checkpoints: readonly VerifiedCheckpoint[],
): Outcome {
  const m = field(proof, 'm', source).count()
  const n = field(proof, 'n', source).count()
  const hashes = field(proof, 'proof', source).hashes()
  if (m > n) throw new UsageError(`${source}: m: ${m} is greater than n ${n}`)
  const cpN = bySize(checkpoints, n, 'the new size n')
  const rootM = m === 0 ? emptyTreeRoot() : bySize(checkpoints, m, 'the old size m').root
  const base = {
    type: 'consistency',
    m,
    n,
    origin: cpN.origin,
    rootM: Buffer.from(rootM).toString('base64'),
    rootN: Buffer.from(cpN.root).toString('base64'),
  }
  try {
    assertConsistency(m, n, hashes, rootM, cpN.root)
    return { status: 'VERIFIED', ...base }
  } catch (error) {
    return { status: 'FAILED', ...base, reason: (error as Error).message }
  }
}

/** Runs `baton verify-proof`. */
export async function verifyProofCommand(
  io: CliIo,
  file: string,
  options: VerifyProofOptions,
): Promise<number> {
  if (options.checkpoint === undefined || options.checkpoint.length === 0) {
    throw new UsageError('--checkpoint: at least one signed checkpoint file is needed')
  }
  const keys = await readVerifierKeys(io, options.key)
  const source = file === '-' ? 'stdin' : file
  const parsed = parseJsonText(await readArgFile(io, '<proof>', file), { source })
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${source}: must be a JSON object (the output of baton prove --json)`)
  }
  const proof = parsed as Record<string, unknown>
  const checkpoints: VerifiedCheckpoint[] = []
  let outcome: Outcome | undefined
  for (const cpFile of options.checkpoint) {
    const note = await readArgFile(io, '--checkpoint', cpFile)
    try {
      checkpoints.push(openCheckpoint(note, keys))
    } catch (error) {
      if (!isBatonError(error, 'BAD_SIGNATURE')) throw error
      outcome = {
        status: 'FAILED',
        reason: `checkpoint ${cpFile} does not verify: ${error.message}`,
      }
      break
    }
  }
  if (outcome === undefined) {
    if (proof.type === 'inclusion') outcome = checkInclusion(proof, source, checkpoints)
    else if (proof.type === 'consistency') outcome = checkConsistency(proof, source, checkpoints)
    else throw new UsageError(`${source}: type: must be "inclusion" or "consistency"`)
  }
  if (options.json) println(io.stdout, JSON.stringify(outcome, null, 2))
  else {
    if (outcome.type === 'inclusion') {
      println(
        io.stdout,
        `Inclusion of receipt ${outcome.seq as number} in ${outcome.origin as string} at ${count(outcome.size as number)} receipts`,
      )
    } else if (outcome.type === 'consistency') {
      println(
        io.stdout,
        `Consistency of ${outcome.origin as string} from ${count(outcome.m as number)} to ${count(outcome.n as number)} receipts`,
      )
    }
    if (outcome.reason !== undefined) println(io.stdout, `Reason: ${outcome.reason}`)
    println(io.stdout, `Proof: ${outcome.status}`)
  }
  return outcome.status === 'VERIFIED' ? EXIT_OK : EXIT_INTEGRITY
}
