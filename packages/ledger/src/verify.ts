/**
 * Streaming ledger verification in constant memory.
 *
 * {@link verify} reads a ledger's stored bytes once, line by line, and
 * checks that every line is the canonical bytes of a valid receipt, that
 * `seq`s run in order without gaps, duplicates or forks, and that every
 * `prev` is the leaf hash of the receipt before it. It reports counts and
 * the location of each problem, and says `VERIFIED` only when all of it
 * holds. See `_chain-check.ts` for the exact rules that classify problems.
 *
 * Memory stays constant whatever the ledger's size: one read buffer (grown
 * only for a longer line), a window of recent hashes for duplicate and fork
 * detection, and a bounded list of problems.
 *
 * Where WebAssembly SIMD is available the read buffer is the memory of a
 * WebAssembly scanner (`_scan-wasm.ts`) that accepts the common case of a
 * canonical receipt faster than `scanReceiptAt`; every line it does not
 * accept goes through the JavaScript scanner exactly as before.
 *
 * @module
 */
import { ChainCheck, type ProblemKind, type VerifyProblem } from './_chain-check.js'
import { isHex64, newLineFields, scanLine, scanReceiptAt } from './_scan.js'
import { acquireWasmScanner } from './_scan-wasm.js'
import { type Anchor, anchorRange, checkAnchor } from './anchor.js'
import { openCheckpoint, type VerifiedCheckpoint } from './checkpoint.js'
import { InvalidInputError, isBatonError, LedgerError } from './errors.js'
import { bytesToHex, leafHashInPlace, ZERO_HASH } from './hash.js'
import type { NoteVerifier } from './keys.js'
import { emptyTreeRoot } from './merkle-verify.js'
import { explainLine, isHashHex } from './receipt.js'
import type { LedgerStore, RawSegment } from './store.js'

export { PROBLEM_KINDS, type ProblemKind, type VerifyProblem } from './_chain-check.js'

/** What {@link verify} reads: a store, or the raw bytes of one JSONL ledger file in chunks. */
export type VerifySource = LedgerStore | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/** Progress of a running verification. */
export interface VerifyProgress {
  /** Lines examined so far. */
  readonly checked: number
  /** Bytes examined so far. */
  readonly bytes: number
  /** Total bytes to examine, when known (from `options.totalBytes` or the store's segment sizes). */
  readonly totalBytes: number | undefined
}

/** A signed checkpoint to hold a ledger to, with the keys trusted to sign it. */
export interface VerifyCheckpoint {
  /** The signed note: a C2SP tlog-checkpoint in a C2SP signed note. */
  readonly note: string | Uint8Array
  /**
   * Trusted verifier keys (e.g. from `parseVerifierKey`), at least one. The
   * note must carry a valid signature from one of them; signatures from
   * other keys are ignored (so keys rotate by signing with old and new).
   */
  readonly keys: readonly NoteVerifier[]
}

/** How a ledger compared with a checkpoint (in {@link VerifyReport.checkpoint}). */
export interface CheckpointCheck {
  /**
   * `matches`: the note verified, the ledger holds at least `size`
   * receipts and its first `size` have the checkpoint's root.
   * `bad-signature`: the note did not verify (nothing else was compared);
   * `truncated`: the ledger holds fewer than `size` receipts; `fork`: its
   * first `size` receipts do not have the checkpoint's root.
   */
  readonly status: 'matches' | 'bad-signature' | 'truncated' | 'fork'
  /** The checkpoint's origin line; `null` when the note did not verify. */
  readonly origin: string | null
  /** The checkpoint's tree size; `null` when the note did not verify. */
  readonly size: number | null
  /** The checkpoint's root, hex; `null` when the note did not verify. */
  readonly root: string | null
  /**
   * The RFC 9162 root of the ledger's first `size` receipts, hex; `null`
   * when not computed (bad signature, too few receipts, or one of them
   * missing or malformed).
   */
  readonly ledgerRoot: string | null
  /** Names of the trusted keys whose signatures verified. */
  readonly signedBy: readonly string[]
}

/** Options for {@link verify}. */
export interface VerifyOptions {
  /**
   * Where the source starts, for a part of a ledger (an export bundle, or
   * an anchored ledger): its first `seq` and the leaf hash of the receipt
   * before it, and optionally `range`, the hex compact range of leaves
   * `[0, seq)` (an {@link Anchor}), which lets a checkpoint be checked.
   * Default: the store's anchor when the source is an anchored store, else
   * `{ seq: 0, prev: ZERO_HASH }`.
   */
  readonly start?: {
    readonly seq: number
    readonly prev: string
    readonly range?: readonly string[] | undefined
  }
  /**
   * A head you trust (remembered earlier, or from a signed checkpoint): the
   * ledger must hold at least `size` receipts (else `truncated`) and receipt
   * `size - 1` must have leaf hash `hash` (else `fork`).
   */
  readonly trusted?: { readonly size: number; readonly hash: string }
  /**
   * A signed checkpoint: its note must verify with one of `keys` (else a
   * `bad-signature` problem, and nothing else is compared), the ledger must
   * hold at least its size (else `truncated`), and the RFC 9162 root of its
   * first `size` receipts, computed while streaming, must be the
   * checkpoint's root (else `fork`). For a ledger verified from seq 0, or
   * from an anchor (whose range then stands for the retired receipts: a
   * wrong range is a `fork`); a checkpoint smaller than the anchor cannot be
   * checked (`INVALID_INPUT`).
   */
  readonly checkpoint?: VerifyCheckpoint
  /** Most problems listed in the report (counts stay exact); default 1000. */
  readonly maxProblems?: number
  /** How many recent receipts are remembered to tell duplicates and forks apart; default 8192. */
  readonly window?: number
  /** Total bytes of the source, for progress when the source cannot tell. */
  readonly totalBytes?: number
  /** Called every `progressEvery` lines and once at the end. */
  readonly onProgress?: (progress: VerifyProgress) => void
  /** Lines between progress calls; default 65,536. */
  readonly progressEvery?: number
  /** Aborts the verification (rejects with the signal's reason). */
  readonly signal?: AbortSignal
}

/** The result of {@link verify}. */
export interface VerifyReport {
  /** `VERIFIED` only when no problem of any kind was found. */
  readonly status: 'VERIFIED' | 'FAILED'
  /** Lines examined (receipts and malformed lines). */
  readonly checked: number
  /** Lines with no problem. */
  readonly valid: number
  /** Receipts the source accounts for: the `seq` after the last one. */
  readonly size: number
  /** Leaf hash of receipt `size - 1`, or `ZERO_HASH` when empty; `null` if that receipt is bad or missing. */
  readonly head: string | null
  /** Bytes examined. */
  readonly bytes: number
  /** Problems per kind (exact, even when the list is cut short). */
  readonly counts: Readonly<Record<ProblemKind, number>>
  /** The problems, in the order found, at most `maxProblems`. */
  readonly problems: readonly VerifyProblem[]
  /** Problems found but not listed because of `maxProblems`. */
  readonly problemsOmitted: number
  /** Present when a checkpoint was given: how the ledger compared with it. */
  readonly checkpoint?: CheckpointCheck
  /**
   * Present when the verification began at an anchor (`seq > 0`): the first
   * `seq` checked and the `prev` it had to link to. Receipts before it are
   * retired, not checked here.
   */
  readonly anchor?: { readonly seq: number; readonly prev: string }
}

/** Longest line accepted (64 MiB); a longer one is reported as malformed. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024

function isStore(source: VerifySource): source is LedgerStore {
  return typeof (source as LedgerStore).head === 'function' && 'location' in source
}

const NEWLINE = new Uint8Array([10])

async function* storeLines(store: LedgerStore): AsyncIterable<Uint8Array> {
  for await (const line of store.read()) {
    yield line.bytes
    yield NEWLINE
  }
}

interface Segment {
  readonly name: string | undefined
  readonly size: number | undefined
  readonly chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
}

/**
 * The source as a list of segments. A store's segment list is collected up
 * front (its chunks stay lazy) so progress knows the total size from the start.
 */
async function segmentsOf(source: VerifySource): Promise<Segment[]> {
  if (!isStore(source)) return [{ name: undefined, size: undefined, chunks: source }]
  if (source.rawSegments === undefined) {
    return [{ name: undefined, size: undefined, chunks: storeLines(source) }]
  }
  const segments: Segment[] = []
  for await (const seg of source.rawSegments() as AsyncIterable<RawSegment>) {
    segments.push({ name: seg.name, size: seg.size, chunks: seg.chunks })
  }
  return segments
}

/**
 * True when the 64 bytes of `prev` at `at` hold no newline. The fast scans
 * skip over `prev` without looking at it, so a line torn inside `prev`
 * (a byte changed into `\n`) would otherwise be taken, with the next line,
 * for one receipt.
 */
function noNewlineInPrev(buf: Uint8Array, at: number): boolean {
  for (let k = 0; k < 64; k++) if (buf[at + k] === 10) return false
  return true
}

function prevEquals(buf: Uint8Array, at: number, hash: string): boolean {
  for (let k = 0; k < 64; k++) if (buf[at + k] !== hash.charCodeAt(k)) return false
  return true
}

/**
 * Verifies a ledger by streaming its stored bytes once.
 *
 * @param source - a {@link LedgerStore} (its raw segments when it has them,
 *   so problems are located by file and line) or the bytes of a JSONL ledger.
 * @returns the report; `status` is `VERIFIED` only when every line checks.
 * @throws {@link InvalidInputError} for bad options; I/O errors from the source
 *   propagate unchanged (the CLI maps them to exit code 2).
 *
 * @example
 * ```ts
 * const report = await verify(await openFileStore('./ledger', { readOnly: true }))
 * if (report.status !== 'VERIFIED') console.table(report.problems)
 * ```
 */
export async function verify(
  source: VerifySource,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const storeAnchor: Anchor | undefined = isStore(source) ? source.anchor : undefined
  const start = options.start ?? storeAnchor ?? { seq: 0, prev: ZERO_HASH }
  if (!Number.isSafeInteger(start.seq) || start.seq < 0) {
    throw new InvalidInputError('start.seq', 'must be a non-negative integer')
  }
  if (!isHashHex(start.prev)) throw new InvalidInputError('start.prev', 'must be 64 lowercase hex')
  // The compact range [0, start.seq), when known: what a checkpoint's root is computed from.
  const startRange =
    start.seq === 0
      ? []
      : start.range === undefined
        ? undefined
        : anchorRange(
            checkAnchor({ seq: start.seq, prev: start.prev, range: start.range }, 'start'),
          ).hashes
  const trusted = options.trusted
  if (trusted !== undefined) {
    if (!Number.isSafeInteger(trusted.size) || trusted.size < 0) {
      throw new InvalidInputError('trusted.size', 'must be a non-negative integer')
    }
    if (!isHashHex(trusted.hash))
      throw new InvalidInputError('trusted.hash', 'must be 64 lowercase hex')
  }
  const given = options.checkpoint
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null) {
      throw new InvalidInputError('checkpoint', 'must be an object { note, keys }')
    }
    if (typeof given.note !== 'string' && !(given.note instanceof Uint8Array)) {
      throw new InvalidInputError('checkpoint.note', 'must be the signed note text or bytes')
    }
    if (!Array.isArray(given.keys) || given.keys.length === 0) {
      throw new InvalidInputError('checkpoint.keys', 'at least one trusted verifier key is needed')
    }
    if (startRange === undefined) {
      throw new InvalidInputError(
        'checkpoint',
        `can only be checked on a ledger verified from seq 0 or from an anchor with its range (start.seq is ${start.seq}, start.range is missing)`,
      )
    }
  }
  const window = options.window ?? 8192
  if (!Number.isInteger(window) || window < 2) throw new InvalidInputError('window', 'must be ≥ 2')
  const progressEvery = options.progressEvery ?? 65_536
  let opened: VerifiedCheckpoint | undefined
  let badSignature: string | undefined
  if (given !== undefined) {
    try {
      opened = openCheckpoint(given.note, given.keys)
    } catch (error) {
      if (!isBatonError(error, 'BAD_SIGNATURE')) throw error
      badSignature = error.message
    }
    if (opened !== undefined && opened.size < start.seq) {
      throw new InvalidInputError(
        'checkpoint',
        `its size ${opened.size} is before the anchor this ledger begins at (seq ${start.seq}): receipts 0–${start.seq - 1} are retired and cannot be checked here; use a checkpoint of size ${start.seq} or more`,
      )
    }
  }
  const check = new ChainCheck({
    startSeq: start.seq,
    startPrev: start.prev,
    window,
    maxProblems: options.maxProblems ?? 1000,
    watchSeq: trusted === undefined || trusted.size === 0 ? -1 : trusted.size - 1,
    rootSize: opened?.size ?? 0,
    rootStart: startRange,
  })
  if (badSignature !== undefined) {
    check.report(
      {
        kind: 'bad-signature',
        message: `the checkpoint does not verify: ${badSignature}`,
      },
      false,
    )
  }
  const fields = newLineFields()
  // The read buffer: the WebAssembly scanner's memory, or a plain buffer without it.
  const wasm = acquireWasmScanner(1 << 20)
  let buf = wasm === undefined ? Buffer.allocUnsafeSlow(1 << 20) : wasm.buf
  let checked = 0
  let bytes = 0
  let totalBytes = options.totalBytes
  let nextProgress = progressEvery
  const progress = (): void => options.onProgress?.({ checked, bytes, totalBytes })

  /** A line `[s, e)` that the fast scan did not accept: explain it, or take the slow path. */
  const slowLine = (s: number, e: number, line: number, file: string | undefined): void => {
    if (!scanLine(buf, s, e, fields)) {
      check.malformed(line, file, e === s ? 'empty line' : explainLine(buf.subarray(s, e)))
      return
    }
    settle(s, e, line, file)
  }

  /** The `prev` the WebAssembly scanner compares with (see `WasmScanner.expectPrev`). */
  let wasmPrev: string | null = null

  /**
   * A scanned receipt `[s, e)` (fields filled): hash it in place and settle it.
   * `prevOk`: the WebAssembly scanner found that its `prev` is `wasmPrev`.
   */
  const settle = (
    s: number,
    e: number,
    line: number,
    file: string | undefined,
    prevOk = false,
  ): void => {
    const hash = leafHashInPlace(buf, s, e)
    const seq = fields.seq
    if (
      check.canFast(seq) &&
      ((prevOk && wasmPrev === check.linkHash) || prevEquals(buf, fields.prevAt, check.linkHash!))
    ) {
      check.fastSettle(hash, line, file)
      if (wasm !== undefined) {
        wasm.expectPrev(hash)
        wasmPrev = hash
      }
      return
    }
    if (!isHex64(buf, fields.prevAt)) {
      check.malformed(line, file, 'prev is not 64 lowercase hex characters')
      return
    }
    check.receipt({
      seq,
      hash,
      prev: buf.toString('latin1', fields.prevAt, fields.prevAt + 64),
      line,
      file,
    })
  }

  try {
    const segments = await segmentsOf(source)
    if (options.totalBytes === undefined && segments.every((seg) => seg.size !== undefined)) {
      totalBytes = segments.reduce((sum, seg) => sum + seg.size!, 0)
    }
    for (const segment of segments) {
      const file = segment.name
      let line = 0
      let len = 1 // buf[0] is kept free so the first line can be hashed in place
      let skipping = false // inside an over-long line, dropping bytes until its newline
      for await (const chunk of segment.chunks) {
        options.signal?.throwIfAborted()
        bytes += chunk.length
        if (len + chunk.length > buf.length) {
          const capacity = Math.max(buf.length * 2, len + chunk.length)
          if (wasm === undefined) {
            const grown = Buffer.allocUnsafeSlow(capacity)
            buf.copy(grown, 0, 0, len)
            buf = grown
          } else {
            buf = wasm.grow(capacity) // keeps the contents
          }
        }
        buf.set(chunk, len)
        len += chunk.length
        const view = buf.subarray(0, len)
        let pos = 1
        while (pos < len) {
          let nl: number
          if (skipping) {
            nl = view.indexOf(10, pos)
            if (nl < 0) break
            line++
            checked++
            skipping = false
            check.malformed(line, file, `line longer than ${MAX_LINE_BYTES} bytes`)
          } else {
            // Fast path: scan the receipt in place; it must end right before a newline.
            // The WebAssembly scanner, when it accepts, finds what scanReceiptAt would.
            let prevOk = false
            nl = wasm === undefined ? -1 : wasm.scanAt(pos, len)
            if (nl >= 0) {
              fields.seq = wasm!.seq
              fields.prevAt = wasm!.prevAt
              prevOk = wasm!.prevExpected
            } else {
              nl = scanReceiptAt(buf, pos, len, fields)
            }
            if (
              nl > 0 &&
              nl < len &&
              buf[nl] === 10 &&
              (prevOk || noNewlineInPrev(buf, fields.prevAt))
            ) {
              line++
              checked++
              settle(pos, nl, line, file, prevOk)
            } else {
              nl = view.indexOf(10, pos)
              if (nl < 0) break // incomplete line: wait for the next chunk
              line++
              checked++
              slowLine(pos, nl, line, file)
            }
          }
          pos = nl + 1
          if (checked >= nextProgress) {
            nextProgress += progressEvery
            progress()
          }
        }
        if (pos > 1) {
          buf.copyWithin(1, pos, len)
          len -= pos - 1
        }
        if (len - 1 > MAX_LINE_BYTES) {
          skipping = true
          len = 1
        }
      }
      if (len > 1 || skipping) {
        line++
        checked++
        check.malformed(
          line,
          file,
          skipping
            ? `line longer than ${MAX_LINE_BYTES} bytes`
            : 'torn line: no newline at the end',
        )
      }
    }
  } finally {
    wasm?.release()
  }
  check.finish()

  if (trusted !== undefined) {
    if (check.expected < trusted.size) {
      check.report(
        {
          kind: 'truncated',
          seq: check.expected,
          expected: String(trusted.size),
          actual: String(check.expected),
          message: `the ledger holds ${check.expected} receipts but a trusted head says ${trusted.size}`,
        },
        false,
      )
    } else if (trusted.size > 0 && check.watched !== trusted.hash) {
      check.report(
        {
          kind: 'fork',
          seq: trusted.size - 1,
          expected: trusted.hash,
          actual: check.watched ?? '(missing or malformed)',
          message: `receipt ${trusted.size - 1} differs from the trusted head: the history diverges at or before it`,
        },
        false,
      )
    }
  }
  const checkpoint = given === undefined ? undefined : compareCheckpoint(check, opened, start.seq)
  progress()
  const problems = check.problems.length + check.omitted
  const size = check.expected
  const head = size === start.seq ? start.prev : (check.hashAt(size - 1) ?? null)
  return {
    status: problems === 0 ? 'VERIFIED' : 'FAILED',
    checked,
    valid: checked - check.lineProblems,
    size,
    head: size === 0 ? ZERO_HASH : head,
    bytes,
    counts: { ...check.counts },
    problems: check.problems,
    problemsOmitted: check.omitted,
    ...(checkpoint === undefined ? {} : { checkpoint }),
    ...(start.seq === 0 ? {} : { anchor: { seq: start.seq, prev: start.prev } }),
  }
}

/** Holds the settled ledger to an opened checkpoint (or records that it did not verify). */
function compareCheckpoint(
  check: ChainCheck,
  cp: VerifiedCheckpoint | undefined,
  startSeq: number,
): CheckpointCheck {
  if (cp === undefined) {
    return {
      status: 'bad-signature',
      origin: null,
      size: null,
      root: null,
      ledgerRoot: null,
      signedBy: [],
    }
  }
  const base = {
    origin: cp.origin,
    size: cp.size,
    root: bytesToHex(cp.root),
    signedBy: cp.signedBy.map((s) => s.name),
  }
  const where = `checkpoint ${JSON.stringify(cp.origin)} of size ${cp.size}`
  if (check.expected < cp.size) {
    check.report(
      {
        kind: 'truncated',
        seq: check.expected,
        expected: String(cp.size),
        actual: String(check.expected),
        message: `the ledger holds ${check.expected} receipts but the ${where} covers ${cp.size}`,
      },
      false,
    )
    return { status: 'truncated', ...base, ledgerRoot: null }
  }
  const root = cp.size === 0 ? emptyTreeRoot() : check.root()
  const ledgerRoot = root === null ? null : bytesToHex(root)
  if (ledgerRoot === base.root) return { status: 'matches', ...base, ledgerRoot }
  check.report(
    {
      kind: 'fork',
      ...(cp.size > 0 ? { seq: cp.size - 1 } : {}),
      expected: base.root,
      actual: ledgerRoot ?? '(no root: a receipt is missing or malformed)',
      message:
        ledgerRoot === null
          ? `receipt ${check.rootMissing} is missing or malformed, so the first ${cp.size} receipts cannot have the root of the ${where}`
          : startSeq === 0
            ? `the first ${cp.size} receipts do not have the root of the ${where}: the history diverges at or before receipt ${cp.size - 1}`
            : `the anchor's range (receipts 0–${startSeq - 1}) and receipts ${startSeq}–${cp.size - 1} do not have the root of the ${where}: the anchor or the history diverges at or before receipt ${cp.size - 1}`,
    },
    false,
  )
  return { status: 'fork', ...base, ledgerRoot }
}

/** Throws a `CORRUPT` {@link LedgerError} summarising a failed report; returns it when verified. */
export function assertVerified(report: VerifyReport): VerifyReport {
  if (report.status === 'VERIFIED') return report
  const first = report.problems[0]
  throw new LedgerError(
    'CORRUPT',
    `ledger failed verification: ${report.checked - report.valid} bad lines${first === undefined ? '' : `; first: ${first.message}`}`,
  )
}
