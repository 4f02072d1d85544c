/**
 * The verifier's bookkeeping: given receipts in the order they are stored,
 * decides which are in place, which are duplicates, forks, out of order or
 * missing, and checks every `prev` link — in constant memory.
 *
 * The rules (the reference verifier in the tests implements the same rules
 * on whole arrays):
 *
 * 1. Receipts should appear in `seq` order starting at `start.seq`. A line
 *    that cannot be parsed as a canonical receipt is `malformed` and is taken
 *    to occupy the next expected `seq`.
 * 2. A receipt whose `seq` is ahead of the next expected one (`e`) is held
 *    for one line. If the next line is receipt `e`, or receipt `e + 1` while
 *    the held one is further ahead, the held receipt is out of place
 *    (`reorder`) and is set aside until its turn. Otherwise it is in place
 *    and the `seq`s it skipped are missing (`gap`, one problem per range).
 * 3. A receipt whose `seq` was already passed is a `duplicate` (same bytes as
 *    the receipt seen at that `seq`), a `fork` (different bytes), or, if that
 *    `seq` was missing, a late `reorder` (which fills the gap). Beyond the
 *    comparison window the verifier can no longer tell; it reports `reorder`.
 * 4. Links are judged in `seq` order. Link `x` holds when receipt `x`'s
 *    `prev` equals receipt `x - 1`'s leaf hash (or `start.prev` for the first
 *    receipt); it cannot be judged when either side is missing, malformed or
 *    out of order. A broken link `x` followed by an intact link `x + 1` means
 *    receipt `x - 1`'s bytes changed after `x` was written: `hash-mismatch`
 *    at `x - 1`. Otherwise (two broken links in a row, the next link unknown,
 *    or `x` the first receipt) it is a `broken-link` at `x`, and a second
 *    broken link right after it is explained by it and not reported again.
 *
 * 5. With a checkpoint of size `n` (`rootSize`), the leaves of the RFC 9162
 *    root are the receipts settled in place at `seq`s `0 … n - 1` (normal
 *    or set-aside early ones, in `seq` order). When one of those `seq`s is
 *    missing, malformed or filled only by a late receipt, there is no root.
 *    An anchored ledger (`startSeq > 0`) starts from the anchor's compact
 *    range of `0 … startSeq - 1` (`rootStart`) instead of those leaves.
 *
 * Each line gets at most one problem, so `valid = checked - line problems`.
 *
 * @internal
 * @module
 */
import { nodeHashBytes } from './hash.js'
import { emptyTreeRoot } from './merkle-verify.js'

/** The kinds of problem verification reports. */
export type ProblemKind =
  | 'hash-mismatch'
  | 'broken-link'
  | 'gap'
  | 'duplicate'
  | 'reorder'
  | 'fork'
  | 'malformed'
  | 'truncated'
  | 'bad-signature'

/** Every problem kind, in the order reports list them. */
export const PROBLEM_KINDS: readonly ProblemKind[] = [
  'hash-mismatch',
  'broken-link',
  'gap',
  'duplicate',
  'reorder',
  'fork',
  'malformed',
  'truncated',
  'bad-signature',
]

/** One integrity problem found by verification. */
export interface VerifyProblem {
  /** What is wrong. */
  readonly kind: ProblemKind
  /** The receipt `seq` concerned (for a gap: the first missing `seq`). */
  readonly seq?: number
  /** 1-based line number within `file` (or within the source when there are no files). */
  readonly line?: number
  /** File or object key holding the line, when the source has files. */
  readonly file?: string
  /** What the ledger should have had here (a hash, a `seq`, …). */
  readonly expected?: string
  /** What it has. */
  readonly actual?: string
  /** A sentence for people. */
  readonly message: string
}

/** A parsed receipt line as the checker sees it. */
export interface Entry {
  readonly seq: number
  readonly hash: string
  readonly prev: string
  readonly line: number
  readonly file: string | undefined
}

/** How many of the latest receipts keep their exact hash (a power of two). */
const RECENT = 64

const HEX_VALUE = new Uint8Array(128)
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i

/** 32 bits of a hex hash: digits `[from, from + 8)`. */
function fingerprint(hash: string, from: number): number {
  let v = 0
  for (let i = from; i < from + 8; i++) v = (v << 4) | HEX_VALUE[hash.charCodeAt(i)]!
  return v
}

const MISSING = 0
const NORMAL = 1
const EXCLUDED = 2
const BROKEN = 0
const OK = 1
const UNKNOWN = 2

/** Options of the chain checker. */
export interface ChainCheckOptions {
  readonly startSeq: number
  readonly startPrev: string
  readonly window: number
  readonly maxProblems: number
  /** A `seq` whose leaf hash to remember in {@link ChainCheck.watched} (-1 for none). */
  readonly watchSeq: number
  /**
   * Compute the RFC 9162 root of the first `rootSize` receipts as they
   * settle (0: none; needs `startSeq` 0, or `rootStart`). See {@link ChainCheck.root}.
   */
  readonly rootSize?: number
  /**
   * The compact range of leaves `[0, startSeq)` (an anchor's), largest
   * subtree first: the root then extends it with the receipts from
   * `startSeq` on, which must not exceed `rootSize`.
   */
  readonly rootStart?: readonly Uint8Array[] | undefined
}

/** @internal */
export class ChainCheck {
  readonly counts: Record<ProblemKind, number>
  readonly problems: VerifyProblem[] = []
  omitted = 0
  lineProblems = 0
  /** Next `seq` to settle. */
  expected: number
  /** Leaf hash of receipt `expected - 1` when link `expected` can be judged, else null. */
  linkHash: string | null
  /** Leaf hash of receipt `watchSeq` once settled (null if it was missing or malformed). */
  watched: string | null | undefined = undefined

  private readonly startSeq: number
  private readonly watchSeq: number
  private readonly rootSize: number
  /**
   * The compact range of the leaves fed so far, as a stack of perfect
   * subtree roots (sizes: the binary digits of `rootCount`). A lean
   * `CompactRange`: no copies or checks on this per-receipt path.
   */
  private readonly rootStack: Uint8Array[] = []
  private rootCount = 0
  /** First `seq` below `rootSize` that settled without a receipt (-1: none yet). */
  private rootHole = -1
  private readonly window: number
  private readonly maxProblems: number
  private readonly rSeq: Float64Array
  /**
   * A 64-bit fingerprint (first 16 hex digits) of each window slot's leaf
   * hash, as two int32s. Numbers, not strings: strings kept alive for a whole
   * window survive young-generation collections and made the heap grow with
   * the window (see BENCHMARKS.md). Exact hashes are kept for the last
   * {@link RECENT} receipts only.
   */
  private readonly rFp0: Int32Array
  private readonly rFp1: Int32Array
  /** 1 when the slot holds a receipt (0: missing or malformed). */
  private readonly rHas: Uint8Array
  private readonly recentSeq = new Float64Array(RECENT).fill(-1)
  private readonly recentHash: (string | undefined)[] = new Array(RECENT)
  private readonly rLine: Float64Array
  private readonly rFile: (string | undefined)[]
  private readonly early = new Map<number, Entry>()
  private held: Entry | null = null
  private pending: {
    seq: number
    expected: string
    actual: string
    line: number
    file: string | undefined
  } | null = null
  private gaps: [number, number][] = []

  constructor(options: ChainCheckOptions) {
    this.startSeq = options.startSeq
    this.watchSeq = options.watchSeq
    this.rootSize = options.rootSize ?? 0
    if (this.rootSize > 0 && options.startSeq > 0) {
      this.rootStack.push(...(options.rootStart ?? []))
      this.rootCount = options.startSeq
    }
    this.expected = options.startSeq
    this.linkHash = options.startPrev
    this.window = options.window
    this.maxProblems = options.maxProblems
    this.rSeq = new Float64Array(options.window).fill(-1)
    this.rFp0 = new Int32Array(options.window)
    this.rFp1 = new Int32Array(options.window)
    this.rHas = new Uint8Array(options.window)
    this.rLine = new Float64Array(options.window)
    this.rFile = new Array(options.window)
    this.counts = Object.fromEntries(PROBLEM_KINDS.map((k) => [k, 0])) as Record<
      ProblemKind,
      number
    >
  }

  /** True when a receipt can take the fast path: in order, nothing pending. */
  canFast(seq: number): boolean {
    return (
      seq === this.expected &&
      this.held === null &&
      this.pending === null &&
      this.linkHash !== null &&
      this.early.size === 0
    )
  }

  /** Fast path: receipt `expected` whose link was checked by the caller and holds. */
  fastSettle(hash: string, line: number, file: string | undefined): void {
    const seq = this.expected
    const k = seq % this.window
    this.rSeq[k] = seq
    this.rFp0[k] = fingerprint(hash, 0)
    this.rFp1[k] = fingerprint(hash, 8)
    this.rHas[k] = 1
    this.recentSeq[seq & (RECENT - 1)] = seq
    this.recentHash[seq & (RECENT - 1)] = hash
    this.rLine[k] = line
    this.rFile[k] = file
    this.linkHash = hash
    this.expected = seq + 1
    if (seq === this.watchSeq) this.watched = hash
    if (seq < this.rootSize) this.leaf(seq, hash)
  }

  /**
   * The RFC 9162 root of the first `rootSize` receipts in settled order
   * (the receipt in place at each `seq`), or `null` when one of them is
   * missing or malformed, or the source ended before `rootSize`.
   */
  root(): Uint8Array | null {
    if (this.rootSize === 0 || this.rootHole >= 0 || this.rootCount !== this.rootSize) return null
    const stack = this.rootStack
    let r = stack[stack.length - 1]
    if (r === undefined) return emptyTreeRoot()
    for (let i = stack.length - 2; i >= 0; i--) r = nodeHashBytes(stack[i]!, r)
    return r
  }

  /** The first `seq` below `rootSize` without a receipt, or -1. */
  get rootMissing(): number {
    return this.rootHole
  }

  /** Feeds receipt `seq`'s leaf (`null`: none) to the root, in `seq` order. */
  private leaf(seq: number, hash: string | null): void {
    if (this.rootHole >= 0) return
    if (hash === null) {
      this.rootHole = seq
      return
    }
    const stack = this.rootStack
    stack.push(Buffer.from(hash, 'hex'))
    // Merge equal-sized subtrees: one merge per trailing 1 bit of the count.
    for (let n = ++this.rootCount; n % 2 === 0; n /= 2) {
      const right = stack.pop()!
      stack.push(nodeHashBytes(stack.pop()!, right))
    }
  }

  /** Records a problem (keeping at most `maxProblems` of them). */
  report(problem: VerifyProblem, onLine: boolean): void {
    this.counts[problem.kind]++
    if (onLine) this.lineProblems++
    if (this.problems.length < this.maxProblems) this.problems.push(problem)
    else this.omitted++
  }

  /** General path for a well-formed receipt. */
  receipt(entry: Entry): void {
    if (this.held !== null) this.resolveHeld(entry)
    const s = entry.seq
    if (s < this.expected) {
      this.late(entry)
      return
    }
    const early = this.early.get(s)
    if (early !== undefined) {
      this.sameSeq(entry, early)
      return
    }
    if (s === this.expected) {
      this.settle(s, NORMAL, entry)
      this.drainEarly()
      return
    }
    this.held = entry
  }

  /** A line that is not a canonical receipt: report it; it occupies the next `seq`. */
  malformed(line: number, file: string | undefined, reason: string, seq?: number): void {
    if (this.held !== null) this.resolveHeld(null)
    this.report(
      {
        kind: 'malformed',
        seq: this.expected,
        line,
        ...(file === undefined ? {} : { file }),
        ...(seq === undefined ? {} : { actual: String(seq) }),
        message: `line ${line}${file === undefined ? '' : ` of ${file}`} is not a canonical receipt: ${reason}`,
      },
      true,
    )
    this.settle(this.expected, MISSING, null)
    this.drainEarly()
  }

  /** Ends the input; afterwards `expected` is the size the ledger accounts for. */
  finish(): void {
    if (this.held !== null) this.resolveHeld(null)
    while (this.early.size > 0) {
      const next = Math.min(...this.early.keys())
      this.missing(this.expected, next - 1)
      this.drainEarly()
    }
    this.judge(UNKNOWN, this.expected)
    this.flushGaps(Number.POSITIVE_INFINITY)
  }

  /** True if `seq` is settled, still in the window, and was a receipt (not missing or malformed). */
  isReceipt(seq: number): boolean {
    const k = seq % this.window
    return this.rSeq[k] === seq && this.rHas[k] === 1
  }

  /** Exact leaf hash of a settled receipt among the last {@link RECENT}, else undefined. */
  hashAt(seq: number): string | undefined {
    const r = seq & (RECENT - 1)
    return this.recentSeq[r] === seq && this.isReceipt(seq) ? this.recentHash[r] : undefined
  }

  /** The hash for messages: exact when recent, else its first 16 hex digits and `…`. */
  private hashText(seq: number): string {
    const exact = this.hashAt(seq)
    if (exact !== undefined) return exact
    const k = seq % this.window
    const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0')
    return `${hex(this.rFp0[k]!)}${hex(this.rFp1[k]!)}…`
  }

  private where(line: number, file: string | undefined): string {
    return `line ${line}${file === undefined ? '' : ` of ${file}`}`
  }

  private loc(line: number, file: string | undefined): { line: number; file?: string } {
    return file === undefined ? { line } : { line, file }
  }

  private late(entry: Entry): void {
    const k = entry.seq % this.window
    if (this.isReceipt(entry.seq)) {
      const same =
        this.rFp0[k] === fingerprint(entry.hash, 0) && this.rFp1[k] === fingerprint(entry.hash, 8)
      const first = {
        seq: entry.seq,
        hash: this.hashText(entry.seq),
        prev: '',
        line: this.rLine[k]!,
        file: this.rFile[k],
      }
      this.sameSeq(entry, first, same)
      return
    }
    const inGap = this.takeFromGaps(entry.seq)
    this.report(
      {
        kind: 'reorder',
        seq: entry.seq,
        ...this.loc(entry.line, entry.file),
        expected: String(this.expected),
        actual: String(entry.seq),
        message: inGap
          ? `${this.where(entry.line, entry.file)}: receipt ${entry.seq} appears after receipt ${this.expected - 1} (out of order)`
          : `${this.where(entry.line, entry.file)}: receipt ${entry.seq} appears long after its place (too far back to compare)`,
      },
      true,
    )
  }

  private sameSeq(entry: Entry, first: Entry, dup = entry.hash === first.hash): void {
    this.report(
      {
        kind: dup ? 'duplicate' : 'fork',
        seq: entry.seq,
        ...this.loc(entry.line, entry.file),
        expected: first.hash,
        actual: entry.hash,
        message: dup
          ? `${this.where(entry.line, entry.file)}: receipt ${entry.seq} repeats ${this.where(first.line, first.file)}`
          : `${this.where(entry.line, entry.file)}: a second, different receipt ${entry.seq} (fork of ${this.where(first.line, first.file)})`,
      },
      true,
    )
  }

  private resolveHeld(next: Entry | null): void {
    const held = this.held!
    this.held = null
    const e = this.expected
    const outOfPlace = next !== null && (next.seq === e || (next.seq === e + 1 && held.seq > e + 1))
    if (outOfPlace) {
      this.report(
        {
          kind: 'reorder',
          seq: held.seq,
          ...this.loc(held.line, held.file),
          expected: String(e),
          actual: String(held.seq),
          message: `${this.where(held.line, held.file)}: receipt ${held.seq} appears where receipt ${e} belongs (out of order)`,
        },
        true,
      )
      this.early.set(held.seq, held)
      return
    }
    this.missing(e, held.seq - 1)
    this.settle(held.seq, NORMAL, held)
    this.drainEarly()
  }

  /** Settles `[from, to]`, none of which arrived except set-aside early ones. */
  private missing(from: number, to: number): void {
    let x = from
    while (x <= to) {
      const early = this.early.get(x)
      if (early !== undefined) {
        this.early.delete(x)
        this.settle(x, EXCLUDED, early)
        x++
        continue
      }
      let end = to
      for (const s of this.early.keys()) if (s > x && s <= end) end = s - 1
      this.judge(UNKNOWN, x)
      if (x < this.rootSize) this.leaf(x, null)
      this.addGap(x, end)
      this.linkHash = null
      this.expected = end + 1
      x = end + 1
    }
  }

  private drainEarly(): void {
    for (
      let e = this.early.get(this.expected);
      e !== undefined;
      e = this.early.get(this.expected)
    ) {
      this.early.delete(this.expected)
      this.settle(this.expected, EXCLUDED, e)
    }
  }

  /** Settles `seq === expected`. */
  private settle(seq: number, kind: number, entry: Entry | null): void {
    let link = UNKNOWN
    if (kind === NORMAL && this.linkHash !== null)
      link = entry!.prev === this.linkHash ? OK : BROKEN
    this.judge(link, seq, entry)
    const k = seq % this.window
    this.rSeq[k] = seq
    if (entry === null) this.rHas[k] = 0
    else {
      this.rFp0[k] = fingerprint(entry.hash, 0)
      this.rFp1[k] = fingerprint(entry.hash, 8)
      this.rHas[k] = 1
      this.recentSeq[seq & (RECENT - 1)] = seq
      this.recentHash[seq & (RECENT - 1)] = entry.hash
    }
    this.rLine[k] = entry?.line ?? -1
    this.rFile[k] = entry?.file
    this.linkHash = kind === NORMAL ? entry!.hash : null
    this.expected = seq + 1
    if (seq === this.watchSeq) this.watched = entry?.hash ?? null
    if (seq < this.rootSize) this.leaf(seq, entry?.hash ?? null)
    if (this.gaps.length > 0 && this.gaps[0]![1] < this.expected - this.window) {
      this.flushGaps(this.expected - this.window)
    }
  }

  /** Applies rule 4 to link `seq` with the pending broken link, if any. */
  private judge(link: number, seq: number, entry: Entry | null = null): void {
    const p = this.pending
    if (p !== null) {
      this.pending = null
      if (link === OK && p.seq > this.startSeq && this.isReceipt(p.seq - 1)) {
        const k = (p.seq - 1) % this.window
        const line = this.rLine[k]!
        const file = this.rFile[k]
        this.report(
          {
            kind: 'hash-mismatch',
            seq: p.seq - 1,
            ...this.loc(line, file),
            expected: p.actual,
            actual: p.expected,
            message: `${this.where(line, file)}: receipt ${p.seq - 1} was changed after receipt ${p.seq} was written (its hash no longer matches the next receipt's prev)`,
          },
          true,
        )
        return
      }
      this.report(
        {
          kind: 'broken-link',
          seq: p.seq,
          ...this.loc(p.line, p.file),
          expected: p.expected,
          actual: p.actual,
          message: `${this.where(p.line, p.file)}: receipt ${p.seq} does not link to receipt ${p.seq - 1} (prev ${p.actual.slice(0, 12)}… but hash is ${p.expected.slice(0, 12)}…)`,
        },
        true,
      )
      if (link === BROKEN) return
    }
    if (link === BROKEN) {
      this.pending = {
        seq,
        expected: this.linkHash!,
        actual: entry!.prev,
        line: entry!.line,
        file: entry!.file,
      }
    }
  }

  private addGap(from: number, to: number): void {
    const last = this.gaps.at(-1)
    if (last !== undefined && last[1] === from - 1) last[1] = to
    else this.gaps.push([from, to])
    if (this.gaps.length > this.window) this.flushGaps(this.gaps[1]![0])
  }

  private takeFromGaps(seq: number): boolean {
    for (let i = 0; i < this.gaps.length; i++) {
      const g = this.gaps[i]!
      if (seq < g[0] || seq > g[1]) continue
      if (g[0] === g[1]) this.gaps.splice(i, 1)
      else if (seq === g[0]) g[0]++
      else if (seq === g[1]) g[1]--
      else this.gaps.splice(i, 1, [g[0], seq - 1], [seq + 1, g[1]])
      return true
    }
    return false
  }

  /** Reports every gap range that ends before `before`. */
  private flushGaps(before: number): void {
    while (this.gaps.length > 0 && this.gaps[0]![1] < before) {
      const [from, to] = this.gaps.shift()!
      const n = to - from + 1
      this.report(
        {
          kind: 'gap',
          seq: from,
          expected: String(from),
          actual: String(to + 1),
          message:
            n === 1 ? `receipt ${from} is missing` : `receipts ${from}…${to} are missing (${n})`,
        },
        false,
      )
    }
  }
}
