/**
 * Walks an export manifest in order and checks every entry against the
 * previous one and against the verifier keys, in constant memory (one
 * previous entry is kept). Shared by `verifyExport` and `restore`.
 *
 * @internal
 * @module
 */
import type { VerifyProblem } from './_chain-check.js'
import { openCheckpoint, type VerifiedCheckpoint } from './checkpoint.js'
import { isBatonError } from './errors.js'
import { type ExportTarget, readExportObject } from './export-target.js'
import { sha256Hex, ZERO_HASH } from './hash.js'
import type { NoteVerifier } from './keys.js'
import {
  MANIFEST_ENTRY_EXTENSION,
  MANIFEST_PREFIX,
  MAX_MANIFEST_ENTRY_BYTES,
  type ManifestEntry,
  manifestEntryDigest,
  manifestEntryRange,
  manifestKeyIndex,
  parseManifestEntry,
} from './manifest.js'
import { CompactRange } from './merkle.js'

/** One manifest entry as the walk saw it. */
export interface WalkedEntry {
  /** Its manifest key. */
  readonly key: string
  /** The index its key names. */
  readonly index: number
  /** The entry, when it parsed. */
  readonly entry: ManifestEntry | undefined
  /** Its checkpoint, when it opened with the keys. */
  readonly checkpoint: VerifiedCheckpoint | undefined
  /** Problems with the entry itself (not its bundle). */
  readonly problems: readonly VerifyProblem[]
  /**
   * True when this entry and every one before it check out: signed,
   * bound to its checkpoint, chained, continuous, range matching the root.
   * What it says can then be trusted.
   */
  readonly trusted: boolean
  /** Leaf hash of receipt `firstSeq - 1` per the previous entry (ZERO_HASH for the first), if known. */
  readonly anchor: string | undefined
  /** Compact range `[0, firstSeq)` per the previous entry, if known. */
  readonly range: CompactRange | undefined
}

/** Options of {@link walkManifest}. */
export interface WalkOptions {
  /** Trusted verifier keys for the checkpoints. */
  readonly keys: readonly NoteVerifier[]
  readonly signal?: AbortSignal | undefined
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Yields every manifest entry of `target` in order, checked. */
export async function* walkManifest(
  target: ExportTarget,
  options: WalkOptions,
): AsyncGenerator<WalkedEntry> {
  let expected = 0
  let prev:
    | {
        readonly index: number
        readonly bytes: Buffer
        readonly entry: ManifestEntry | undefined
        readonly range: CompactRange | undefined
        readonly trusted: boolean
      }
    | undefined
  let origin: string | undefined
  for await (const key of target.list(MANIFEST_PREFIX)) {
    options.signal?.throwIfAborted()
    const problems: VerifyProblem[] = []
    const problem = (p: Omit<VerifyProblem, 'file'>): void => {
      problems.push({ ...p, file: key })
    }
    const index = manifestKeyIndex(key)
    if (index === undefined) {
      problem({
        kind: 'malformed',
        message: `${key} is not a manifest entry key (manifest/<20 digits>.json)`,
      })
      yield {
        key,
        index: -1,
        entry: undefined,
        checkpoint: undefined,
        problems,
        trusted: false,
        anchor: undefined,
        range: undefined,
      }
      continue
    }
    const adjacent = prev !== undefined && prev.index === index - 1
    if (index > expected) {
      problem({
        kind: 'gap',
        message:
          index - expected === 1
            ? `manifest entry ${expected} is missing`
            : `manifest entries ${expected}–${index - 1} are missing`,
        expected: String(expected),
        actual: String(index),
      })
    }
    expected = index + 1

    let bytes: Buffer = Buffer.alloc(0)
    let entry: ManifestEntry | undefined
    try {
      const info = await target.head(key)
      if (info !== undefined && info.size > MAX_MANIFEST_ENTRY_BYTES) {
        throw new Error(`${info.size} bytes, more than any entry`)
      }
      bytes = await readExportObject(target, key)
      entry = parseManifestEntry(bytes, key)
    } catch (error) {
      if (isBatonError(error) && !isBatonError(error, 'CORRUPT')) throw error
      problem({ kind: 'malformed', line: 1, message: describe(error) })
    }

    let checkpoint: VerifiedCheckpoint | undefined
    let range: CompactRange | undefined
    if (entry !== undefined) {
      if (entry.index !== index) {
        problem({
          kind: 'reorder',
          message: `${key} holds manifest entry ${entry.index}: entries were moved`,
          expected: String(index),
          actual: String(entry.index),
        })
      }
      const wantPrev = index === 0 ? ZERO_HASH : adjacent ? sha256Hex(prev!.bytes) : undefined
      if (wantPrev !== undefined && entry.prevEntry !== wantPrev) {
        problem({
          kind: 'broken-link',
          message: `prevEntry is not the SHA-256 of manifest entry ${index - 1}: the manifest was edited before this entry`,
          expected: wantPrev,
          actual: entry.prevEntry,
        })
      }
      const wantFirst = index === 0 ? 0 : adjacent ? prev!.entry?.lastSeq : undefined
      if (wantFirst !== undefined && entry.firstSeq !== wantFirst + (index === 0 ? 0 : 1)) {
        const want = index === 0 ? 0 : wantFirst + 1
        problem({
          kind: entry.firstSeq > want ? 'gap' : 'duplicate',
          seq: Math.min(entry.firstSeq, want),
          message:
            entry.firstSeq > want
              ? `receipts ${want}–${entry.firstSeq - 1} are in no bundle (this bundle starts at ${entry.firstSeq})`
              : `this bundle starts at receipt ${entry.firstSeq}, inside the previous one (which ends at ${want - 1})`,
          expected: String(want),
          actual: String(entry.firstSeq),
        })
      }
      if (adjacent && prev!.entry !== undefined && entry.date < prev!.entry.date) {
        problem({
          kind: 'reorder',
          message: `date ${entry.date} is before the previous entry's ${prev!.entry.date}`,
        })
      }
      range = manifestEntryRange(entry)
      try {
        checkpoint = openCheckpoint(entry.checkpoint, options.keys)
      } catch (error) {
        if (!isBatonError(error, 'BAD_SIGNATURE')) throw error
        problem({ kind: 'bad-signature', message: `checkpoint: ${describe(error)}` })
      }
      if (checkpoint !== undefined) {
        if (checkpoint.size !== entry.lastSeq + 1) {
          problem({
            kind: 'malformed',
            message: `the checkpoint is for size ${checkpoint.size}, the entry ends at receipt ${entry.lastSeq}`,
          })
        }
        const bound = checkpoint.extensions.filter((e) =>
          e.startsWith(`${MANIFEST_ENTRY_EXTENSION} `),
        )
        const digest = manifestEntryDigest(entry)
        if (bound.length !== 1) {
          problem({
            kind: 'malformed',
            message: `the checkpoint has ${bound.length} "${MANIFEST_ENTRY_EXTENSION}" lines, not 1`,
          })
        } else if (bound[0] !== `${MANIFEST_ENTRY_EXTENSION} ${digest}`) {
          problem({
            kind: 'hash-mismatch',
            message: 'the entry was changed after its checkpoint was signed',
            expected: bound[0]!.slice(MANIFEST_ENTRY_EXTENSION.length + 1),
            actual: digest,
          })
        }
        origin ??= checkpoint.origin
        if (checkpoint.origin !== origin) {
          problem({
            kind: 'fork',
            message: `checkpoint origin ${JSON.stringify(checkpoint.origin)} differs from the manifest's ${JSON.stringify(origin)}`,
          })
        }
        if (Buffer.compare(range.root(), checkpoint.root) !== 0) {
          problem({
            kind: 'fork',
            seq: entry.lastSeq,
            message: "the entry's range does not hash to its checkpoint's root",
          })
          range = undefined
        }
      }
    }

    const trusted =
      problems.length === 0 &&
      checkpoint !== undefined &&
      (index === 0 || (adjacent && prev!.trusted))
    yield {
      key,
      index,
      entry,
      checkpoint,
      problems,
      trusted,
      anchor: entry?.firstSeq === 0 ? ZERO_HASH : adjacent ? prev!.entry?.lastHash : undefined,
      range:
        entry?.firstSeq === 0
          ? new CompactRange(0)
          : adjacent && prev!.range !== undefined
            ? prev!.range.clone()
            : undefined,
    }
    prev = { index, bytes, entry, range, trusted }
  }
}
