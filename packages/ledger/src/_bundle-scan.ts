/**
 * Reads one export bundle once and checks it against its manifest entry:
 * size and SHA-256 of the stored bytes, gzip, every receipt (with `verify`,
 * anchored at the previous bundle's last receipt), and the Merkle root the
 * previous entry's compact range reaches with this bundle's leaves.
 *
 * For restores it also works out how much of a damaged bundle can still be
 * trusted. Receipts are authentic when the signed root says so; a prefix of
 * a damaged bundle can only be checked against the root if the damage is one
 * receipt `X` whose line is still in place: then the leaf hash of `X` is
 * known from elsewhere (the `prev` of receipt `X + 1`, or the entry's
 * `lastHash` when `X` is last), and if the prefix's leaves, that leaf and
 * the rest of the bundle's leaves give the signed root, the prefix is
 * exactly what was signed. Since a changed line breaks the link after it
 * (content changed) or both links around it (its `prev` changed), `X` is
 * either the line before the first broken link or the line at it; both are
 * tried, in one pass. Anything else (lines lost or added, a broken gzip
 * stream, several damaged receipts) keeps nothing of the bundle.
 *
 * @internal
 * @module
 */
import {
  gunzipChunks,
  LineSplitter,
  prevOf,
  prevOffset,
  StreamDigest,
  tsOffset,
} from './_bundle-codec.js'
import type { VerifyProblem } from './_chain-check.js'
import { hexDecode, hexEquals, MerkleAccumulator } from './_merkle-acc.js'
import { isBatonError } from './errors.js'
import type { ExportTarget } from './export-target.js'
import { hexToBytes, leafHashBytes } from './hash.js'
import type { ManifestEntry } from './manifest.js'
import type { CompactRange } from './merkle.js'
import { isReceiptTimestamp } from './receipt.js'
import { type VerifyReport, verify } from './verify.js'

/** What {@link scanBundle} needs besides the entry. */
export interface ScanInput {
  /** Where the bundle is. */
  readonly target: ExportTarget
  /** Its manifest entry. */
  readonly entry: ManifestEntry
  /** Leaf hash of receipt `firstSeq - 1` (ZERO_HASH for 0). */
  readonly anchor: string
  /** Compact range `[0, firstSeq)`, if known; not modified. */
  readonly range: CompactRange | undefined
  /** The signed root of size `lastSeq + 1`, if the checkpoint opened. */
  readonly root: Uint8Array | undefined
  /** Most problems `verify` lists. */
  readonly maxProblems: number
  /** Work out the trusted prefix of a damaged bundle (restore). */
  readonly salvage: boolean
  /** Receives the bundle's JSONL bytes as they are read (restore spools them). */
  readonly sink?: ((chunk: Uint8Array) => Promise<void>) | undefined
  /** Called with the size of each stored chunk read (progress). */
  readonly onBytes?: ((bytes: number) => void) | undefined
  /** Called with the receipts checked so far in this bundle, about every 64 Ki. */
  readonly onReceipts?: ((receipts: number) => void) | undefined
  /** Aborts the scan. */
  readonly signal?: AbortSignal | undefined
}

/** What {@link scanBundle} found. */
export interface BundleScan {
  /** Stored bytes read. */
  readonly bytes: number
  /** SHA-256 of the stored bytes. */
  readonly sha256: string
  /** The receipts' verification (lines located within the bundle). */
  readonly report: VerifyReport
  /** Problems with the bundle, its receipts located by `file` (the bundle key). */
  readonly problems: readonly VerifyProblem[]
  /** Problems per kind, exact (the list may be cut short by `maxProblems`). */
  readonly counts: Readonly<Record<string, number>>
  /** True when nothing is wrong with the bundle. */
  readonly ok: boolean
  /** Receipts `[firstSeq, goodThrough]` are proven authentic (with `salvage`); `firstSeq - 1` when none. */
  readonly goodThrough: number
  /** `ts` of receipt `goodThrough + 1` when its line still shows one (with `salvage`). */
  readonly firstLostTs: string | undefined
}

const same = (a: Uint8Array, b: Uint8Array | undefined): boolean =>
  b !== undefined && Buffer.compare(a, b) === 0

/** Reads and checks one bundle (see the module documentation). */
export async function scanBundle(input: ScanInput): Promise<BundleScan> {
  const { entry, salvage } = input
  const key = entry.key
  const n = entry.lastSeq - entry.firstSeq + 1
  const digest = new StreamDigest()
  let decodeError: string | undefined

  // Leaves: `lag` holds leaves [0, firstSeq + i - 1) while line i is read; `pending` is leaf i - 1.
  const lag = input.range === undefined ? undefined : MerkleAccumulator.from(input.range)
  let pending: Uint8Array | undefined
  const anchor = hexToBytes(input.anchor)
  let lines = 0
  // Salvage candidates, from the first broken link `b` on (see the module documentation).
  let b = -1
  let c1: MerkleAccumulator | undefined // X = b - 1
  let c2: MerkleAccumulator | undefined // X = b
  let c2NeedsLeaf = false
  // The `ts` bytes of the current and the previous line, parsed only when needed.
  const tsRaw = [Buffer.alloc(24), Buffer.alloc(24)]
  const tsHas = [false, false]
  let tsCur = 0
  const tsAt = (k: number): string | undefined => {
    if (!tsHas[k]) return undefined
    const ts = tsRaw[k]!.toString('latin1')
    return isReceiptTimestamp(ts) ? ts : undefined
  }
  let tsBefore: string | undefined // ts of line b - 1
  let tsAtB: string | undefined // ts of line b

  // Without salvage, the leaves are not hashed here: receipt i's `prev` is
  // taken as leaf i - 1 and the entry's `lastHash` as the last leaf. That is
  // exactly right when verify() (which hashes every line) finds the chain
  // intact up to `lastHash`, the only case in which the root is compared.
  const splitter = new LineSplitter((line) => {
    const i = lines++
    if (!salvage) {
      if (i > 0 && lag !== undefined) {
        lag.append(hexDecode(line, prevOffset(line)) ?? new Uint8Array(32))
      }
      return
    }
    const leaf = leafHashBytes(line)
    const linked = hexEquals(line, prevOffset(line), pending ?? anchor)
    /** This line's `prev` as bytes: the leaf hash of the line before, if it is authentic. */
    const pLeaf = (): Uint8Array | undefined => {
      const hex = prevOf(line)
      return hex === undefined ? undefined : hexToBytes(hex)
    }
    tsCur ^= 1
    const t = tsOffset(line)
    tsHas[tsCur] = t >= 0
    if (t >= 0) line.copy(tsRaw[tsCur]!, 0, t, t + 24)
    if (b < 0 && !linked) {
      b = i
      tsBefore = i >= 1 ? tsAt(tsCur ^ 1) : undefined
      tsAtB = tsAt(tsCur)
      if (lag !== undefined) {
        const x = pLeaf()
        if (i >= 1 && x !== undefined) {
          c1 = lag.clone()
          c1.append(x)
          c1.append(leaf)
        }
        c2 = lag.clone()
        if (pending !== undefined) c2.append(pending)
        c2NeedsLeaf = true
      }
    } else if (b >= 0) {
      if (c1 !== undefined) {
        if (linked) c1.append(leaf)
        else c1 = undefined
      }
      if (c2 !== undefined) {
        if (c2NeedsLeaf) {
          const x = pLeaf()
          if (x === undefined) c2 = undefined
          else {
            c2.append(x)
            c2.append(leaf)
            c2NeedsLeaf = false
          }
        } else if (linked) c2.append(leaf)
        else c2 = undefined
      }
    }
    if (lag !== undefined && pending !== undefined) lag.append(pending)
    pending = leaf
  })

  async function* plain(): AsyncGenerator<Uint8Array> {
    const stored = digest.pass(input.target.get(key), input.onBytes)
    const source = entry.encoding === 'gzip' ? gunzipChunks(stored) : stored
    try {
      for await (const chunk of source) {
        input.signal?.throwIfAborted()
        splitter.push(chunk)
        await input.sink?.(chunk)
        yield chunk
      }
    } catch (error) {
      if (isBatonError(error) || entry.encoding !== 'gzip' || input.signal?.aborted === true) {
        throw error
      }
      decodeError = error instanceof Error ? error.message : String(error)
    }
  }

  const report = await verify(plain(), {
    start: { seq: entry.firstSeq, prev: input.anchor },
    trusted: { size: entry.lastSeq + 1, hash: entry.lastHash },
    maxProblems: input.maxProblems,
    ...(input.onReceipts === undefined
      ? {}
      : { onProgress: (p: { readonly checked: number }) => input.onReceipts!(p.checked) }),
  })
  const torn = splitter.end() > 0
  const sha256 = digest.hex()

  const problems: VerifyProblem[] = []
  const counts: Record<string, number> = { ...report.counts }
  const add = (p: VerifyProblem): void => {
    counts[p.kind] = (counts[p.kind] ?? 0) + 1
    problems.push(p)
  }
  if (digest.bytes !== entry.bytes) {
    add({
      kind: digest.bytes < entry.bytes ? 'truncated' : 'hash-mismatch',
      file: key,
      message: `the bundle holds ${digest.bytes} bytes, the manifest says ${entry.bytes}`,
      expected: String(entry.bytes),
      actual: String(digest.bytes),
    })
  } else if (sha256 !== entry.sha256) {
    add({
      kind: 'hash-mismatch',
      file: key,
      message: "the bundle's SHA-256 differs from the manifest's: its bytes changed",
      expected: entry.sha256,
      actual: sha256,
    })
  }
  if (decodeError !== undefined) {
    add({ kind: 'malformed', file: key, message: `gzip: ${decodeError}` })
  }
  for (const p of report.problems) problems.push(p.file === undefined ? { ...p, file: key } : p)
  if (report.size > entry.lastSeq + 1) {
    add({
      kind: 'fork',
      file: key,
      seq: entry.lastSeq + 1,
      message: `the bundle holds receipts past ${entry.lastSeq}, where its manifest entry ends`,
    })
  }
  let full: MerkleAccumulator | undefined
  if (lag !== undefined && lines > 0) {
    full = lag.clone()
    full.append(salvage ? pending! : hexToBytes(entry.lastHash))
  }
  const rootOk = lines === n && !torn && full !== undefined && same(full.root(), input.root)
  if (
    report.status === 'VERIFIED' &&
    report.size === entry.lastSeq + 1 &&
    input.root !== undefined &&
    input.range !== undefined &&
    !rootOk
  ) {
    add({
      kind: 'fork',
      file: key,
      seq: entry.lastSeq,
      message:
        "the bundle's receipts do not extend the previous checkpoint's tree to this checkpoint's root",
    })
  }

  let goodThrough = entry.firstSeq - 1
  let firstLostTs: string | undefined
  if (rootOk) goodThrough = entry.lastSeq
  else if (salvage && lines === n && !torn && decodeError === undefined && lag !== undefined) {
    const tryRoot = (r: MerkleAccumulator | undefined): boolean =>
      r !== undefined && r.size === entry.lastSeq + 1 && same(r.root(), input.root)
    const lastLeaf = hexToBytes(entry.lastHash)
    if (b < 0) {
      // Every link holds: only the last receipt can be the damaged one.
      const c3 = lag.clone()
      c3.append(lastLeaf)
      if (tryRoot(c3)) {
        goodThrough = entry.lastSeq - 1
        firstLostTs = tsAt(tsCur)
      }
    } else {
      if (c2 !== undefined && c2NeedsLeaf) c2.append(lastLeaf) // X = b was the last line
      if (tryRoot(c2)) {
        goodThrough = entry.firstSeq + b - 1
        firstLostTs = tsAtB
      } else if (tryRoot(c1)) {
        goodThrough = entry.firstSeq + b - 2
        firstLostTs = tsBefore
      }
    }
  }
  // Nothing of the bundle kept: its first receipt's time comes from the (signed) entry.
  if (goodThrough === entry.firstSeq - 1) firstLostTs = entry.firstTs
  return {
    bytes: digest.bytes,
    sha256,
    report,
    problems,
    counts,
    ok: Object.values(counts).every((c) => c === 0),
    goodThrough,
    firstLostTs,
  }
}
