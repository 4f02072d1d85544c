/**
 * On-disk layout of a file ledger: the format marker file, segment names,
 * and creating a new ledger directory.
 *
 * ```
 * dir/baton-ledger.json            {"format":"baton-ledger","segmentBytes":67108864,"version":1}
 *                                  plus "anchor":{"prev":…,"range":[…],"seq":N,"source":…}
 *                                  for a ledger that begins at an anchor
 * dir/baton-ledger.lock            the writer lock (see _file-lock.ts)
 * dir/segments/<first seq>.jsonl   20-digit zero-padded first seq; one canonical receipt per line
 *                                  (the first segment is named by the anchor's seq, else 0)
 * ```
 *
 * @internal
 * @module
 */
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { errnoCode, fsyncDir, ioError, writeFileAtomic } from './_file-io.js'
import { type Anchor, checkAnchor } from './anchor.js'
import { canonicalize } from './canonical.js'
import { CorruptLedgerError, InvalidInputError, isBatonError } from './errors.js'

/** Name of the format marker file in a ledger directory. */
export const META_FILE = 'baton-ledger.json'
/** Name of the writer lock file in a ledger directory. */
export const LOCK_FILE = 'baton-ledger.lock'
/** Name of the directory holding the segment files. */
export const SEGMENTS_DIR = 'segments'
/** The `format` value of the marker file. */
export const LEDGER_FORMAT = 'baton-ledger'
/** The layout version this code reads and writes. */
export const LAYOUT_VERSION = 1

const SEGMENT_RE = /^(\d{20})\.jsonl$/
const TEMP_META_RE = /^\.baton-ledger\.json\..*\.tmp$/

/** The contents of `baton-ledger.json`. */
export interface LedgerMeta {
  /** Always {@link LEDGER_FORMAT}. */
  readonly format: typeof LEDGER_FORMAT
  /** Always {@link LAYOUT_VERSION}. */
  readonly version: typeof LAYOUT_VERSION
  /** A new segment is started before a batch once the current one holds this many bytes. */
  readonly segmentBytes: number
  /** Where the ledger begins, when not at receipt 0 (see `anchor.ts`). */
  readonly anchor?: Anchor
}

/** One segment file. */
export interface SegmentRef {
  /** File name, e.g. `00000000000000000042.jsonl`. */
  readonly name: string
  /** Absolute path. */
  readonly path: string
  /** `seq` of its first receipt, from the name. */
  readonly first: number
}

/** The file name of the segment whose first receipt is `first`. */
export function segmentFileName(first: number): string {
  return `${String(first).padStart(20, '0')}.jsonl`
}

/** Reads and checks the marker file; `undefined` when there is none. */
export async function readMeta(path: string): Promise<LedgerMeta | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw ioError('read', path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new CorruptLedgerError(
      `not a baton ledger marker file: ${error instanceof Error ? error.message : String(error)}`,
      { file: path },
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptLedgerError('not a baton ledger marker file: expected a JSON object', {
      file: path,
    })
  }
  const m = value as Record<string, unknown>
  if (m.format !== LEDGER_FORMAT) {
    throw new CorruptLedgerError(`format is ${JSON.stringify(m.format)}, not "${LEDGER_FORMAT}"`, {
      file: path,
    })
  }
  if (m.version !== LAYOUT_VERSION) {
    throw new CorruptLedgerError(
      `unsupported layout version ${JSON.stringify(m.version)}; this @baton/ledger reads version ${LAYOUT_VERSION}`,
      { file: path },
    )
  }
  const segmentBytes = m.segmentBytes
  if (typeof segmentBytes !== 'number' || !Number.isSafeInteger(segmentBytes) || segmentBytes < 1) {
    throw new CorruptLedgerError(
      `segmentBytes is ${JSON.stringify(segmentBytes)}, not a positive integer`,
      { file: path },
    )
  }
  let anchor: Anchor | undefined
  if (m.anchor !== undefined) {
    try {
      anchor = checkAnchor(m.anchor)
    } catch (error) {
      if (!isBatonError(error, 'INVALID_INPUT')) throw error
      throw new CorruptLedgerError(`the ledger's anchor is unusable: ${error.message}`, {
        file: path,
      })
    }
  }
  return {
    format: LEDGER_FORMAT,
    version: LAYOUT_VERSION,
    segmentBytes,
    ...(anchor === undefined ? {} : { anchor }),
  }
}

/** The text of `baton-ledger.json` for `meta` (RFC 8785 canonical JSON and a newline). */
export function metaText(meta: LedgerMeta): string {
  return `${canonicalize({
    format: meta.format,
    segmentBytes: meta.segmentBytes,
    version: meta.version,
    ...(meta.anchor === undefined
      ? {}
      : { anchor: { ...meta.anchor, range: [...meta.anchor.range] } }),
  })}\n`
}

/** Lists the segment files of `segDir` in `seq` order (other files are ignored). */
export async function listSegments(segDir: string): Promise<SegmentRef[]> {
  let names: string[]
  try {
    names = await readdir(segDir)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new CorruptLedgerError('the segments directory is missing', { file: segDir })
    }
    throw ioError('list', segDir, error)
  }
  const out: SegmentRef[] = []
  for (const name of names) {
    const m = SEGMENT_RE.exec(name)
    if (m === null) continue
    out.push({ name, path: join(segDir, name), first: Number(m[1]) })
  }
  return out.sort((a, b) => a.first - b.first)
}

/**
 * Checks that `root` can become a new ledger: it is missing, empty, or holds
 * only what an interrupted creation leaves behind. Creates it if missing.
 *
 * @throws {@link InvalidInputError} (`dir`) when it holds anything else.
 */
export async function assertCreatable(root: string): Promise<void> {
  try {
    await mkdir(root, { recursive: true })
  } catch (error) {
    throw ioError('create directory', root, error)
  }
  let entries: string[]
  try {
    entries = await readdir(root)
  } catch (error) {
    throw ioError('list', root, error)
  }
  for (const entry of entries) {
    if (entry === LOCK_FILE || entry === `${LOCK_FILE}-journal` || TEMP_META_RE.test(entry))
      continue
    if (entry === SEGMENTS_DIR && (await isFreshSegmentsDir(join(root, entry)))) continue
    throw new InvalidInputError(
      'dir',
      `${root} is not empty and holds no baton ledger (found ${JSON.stringify(entry)}, no ${META_FILE}); use an empty or new directory`,
    )
  }
}

async function isFreshSegmentsDir(path: string): Promise<boolean> {
  try {
    const names = await readdir(path)
    if (names.length === 0) return true
    // One empty first segment (of any first seq: an anchored creation may have been interrupted).
    if (names.length > 1 || !SEGMENT_RE.test(names[0]!)) return false
    return (await stat(join(path, names[0]!))).size === 0
  } catch {
    return false
  }
}

/**
 * Writes the files of a new, empty ledger into `root` (which
 * {@link assertCreatable} accepted): the first segment (named by the
 * anchor's seq, else 0), then, as the commit point, the marker file. Call
 * with the writer lock held.
 */
export async function writeNewLedger(
  root: string,
  segmentBytes: number,
  anchor?: Anchor,
): Promise<LedgerMeta> {
  const segDir = join(root, SEGMENTS_DIR)
  const firstName = segmentFileName(anchor?.seq ?? 0)
  const first = join(segDir, firstName)
  try {
    await mkdir(segDir, { recursive: true })
    // An interrupted creation with another anchor may have left its (empty) first segment.
    for (const name of await readdir(segDir)) {
      if (name !== firstName && SEGMENT_RE.test(name)) await unlink(join(segDir, name))
    }
    const fh = await open(first, 'a')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch (error) {
    throw ioError('create', first, error)
  }
  await fsyncDir(segDir)
  await fsyncDir(root)
  const meta: LedgerMeta = {
    format: LEDGER_FORMAT,
    version: LAYOUT_VERSION,
    segmentBytes,
    ...(anchor === undefined ? {} : { anchor }),
  }
  await writeFileAtomic(join(root, META_FILE), metaText(meta))
  return meta
}
