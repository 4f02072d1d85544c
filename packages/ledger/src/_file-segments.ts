/**
 * The file store's segment log: finding the head on disk, recovering a torn
 * tail, committing a batch (one write, one fdatasync), rolling segments, and
 * streaming lines back. Callers hold the writer lock around
 * {@link SegmentLog.discover} and {@link SegmentLog.commit}.
 *
 * @internal
 * @module
 */
import { fstatSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import {
  errnoCode,
  findTail,
  firstNewlineFrom,
  fsyncDir,
  ioError,
  pathExists,
  readRange,
  writeAt,
} from './_file-io.js'
import { listSegments, type SegmentRef, segmentFileName } from './_file-layout.js'
import { ConflictError, CorruptLedgerError, InvalidInputError } from './errors.js'
import { leafHash, ZERO_HASH } from './hash.js'
import { decodeReceipt } from './receipt.js'
import type { EncodedReceipt, StoreHead } from './store.js'

/** A torn tail that was truncated (see `FileStoreRecovery`). */
export interface TailRecovery {
  readonly file: string
  readonly offset: number
  readonly bytesDropped: number
}

/** The open end of the ledger: the last segment and the head. */
export interface SegmentLog {
  /** Receipts in the ledger as last seen. */
  readonly size: number
  /** Leaf hash of the last receipt as last seen. */
  readonly hash: string
  /** Re-reads the head from disk, truncating a torn tail. Needs the lock. */
  discover(): Promise<void>
  /** True if another writer may have appended since we last looked. */
  changed(): Promise<boolean>
  /** Writes a batch joined by {@link joinBatch} at the head. Needs the lock. */
  commit(entries: readonly EncodedReceipt[], buf: Buffer): Promise<void>
  /** Closes the open segment. */
  close(): Promise<void>
}

interface Current {
  readonly fh: FileHandle
  readonly name: string
  readonly path: string
  readonly first: number
  /** Known length of the complete lines: always just past a `\n` (or 0). */
  bytes: number
  /** File size when last looked at (differs from `bytes` only read-only, over a torn tail). */
  seen: number
}

/** The `seq` of a complete line read at `offset` of `file`, with a clear error. */
function lineSeq(line: Uint8Array, file: string, offset: number): number {
  try {
    return decodeReceipt(line).seq
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new CorruptLedgerError(`the line at byte ${offset} is not a receipt: ${reason}`, { file })
  }
}

/** Seq and hash of the last line of a closed (non-last) segment. */
async function lastOfSegment(seg: SegmentRef): Promise<{ seq: number; hash: string }> {
  let fh: FileHandle | undefined
  try {
    fh = await open(seg.path, 'r')
    const st = await fh.stat()
    const tail = await findTail(fh, st.size)
    if (tail.end !== st.size || tail.lineStart < 0) {
      throw new CorruptLedgerError('a closed segment does not end with a complete line', {
        file: seg.path,
      })
    }
    const line = await readRange(fh, tail.lineStart, tail.end - 1)
    return { seq: lineSeq(line, seg.path, tail.lineStart), hash: leafHash(line) }
  } catch (error) {
    throw ioError('read', seg.path, error)
  } finally {
    await fh?.close().catch(() => undefined)
  }
}

/** Joins a batch into one buffer of lines; checks seqs and that no entry holds a newline. */
export function joinBatch(entries: readonly EncodedReceipt[]): Buffer {
  const first = entries[0]!.seq
  let total = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.seq !== first + i) {
      throw new InvalidInputError(`entries[${i}].seq`, `must be ${first + i} (consecutive)`)
    }
    if (e.bytes.indexOf(10) >= 0) {
      throw new InvalidInputError(`entries[${i}].bytes`, 'must not contain a newline')
    }
    total += e.bytes.length + 1
  }
  return contiguousLines(entries, total) ?? copyLines(entries, total)
}

/**
 * The batch as it already lies in memory, when every entry is a view of one
 * buffer followed by a newline and the next entry (the ledger encodes
 * batches that way): no copy.
 */
function contiguousLines(entries: readonly EncodedReceipt[], total: number): Buffer | undefined {
  const head = entries[0]!.bytes
  const whole = new Uint8Array(
    head.buffer,
    head.byteOffset,
    Math.min(total, head.buffer.byteLength - head.byteOffset),
  )
  if (whole.length !== total) return undefined
  let at = 0
  for (const e of entries) {
    const b = e.bytes
    if (b.buffer !== head.buffer || b.byteOffset !== head.byteOffset + at) return undefined
    at += b.length
    if (whole[at] !== 10) return undefined
    at++
  }
  return Buffer.from(whole.buffer, whole.byteOffset, whole.length)
}

function copyLines(entries: readonly EncodedReceipt[], total: number): Buffer {
  const buf = Buffer.allocUnsafe(total)
  let at = 0
  for (const e of entries) {
    buf.set(e.bytes, at)
    at += e.bytes.length
    buf[at++] = 10
  }
  return buf
}

/**
 * Opens the segment log of `segDir`. Nothing is read until
 * {@link SegmentLog.discover}.
 *
 * @param report - called for each torn tail truncated; `undefined` opens
 *   read-only: files are opened for reading, a torn tail is left in place and
 *   ignored, and {@link SegmentLog.commit} must not be called.
 * @param base - the head of the empty ledger: `{size: anchor.seq, hash:
 *   anchor.prev}` for an anchored one (its first segment is named by that seq).
 */
export function createSegmentLog(
  segDir: string,
  segmentBytes: number,
  location: string,
  report: ((recovery: TailRecovery) => void) | undefined,
  base: StoreHead = { size: 0, hash: ZERO_HASH },
): SegmentLog {
  let cur: Current | undefined
  let size = base.size
  let hash = base.hash

  const discover = async (): Promise<void> => {
    const segs = await listSegments(segDir)
    const last = segs.at(-1)
    if (last === undefined) throw new CorruptLedgerError('no segment files', { file: segDir })
    if (segs[0]!.first !== base.size) {
      throw new CorruptLedgerError(
        `the first segment starts at seq ${segs[0]!.first}, not ${base.size}${base.size === 0 ? '' : ' (the anchor the ledger begins at)'}`,
        { file: segs[0]!.path },
      )
    }
    let fresh = false
    if (cur === undefined || cur.name !== last.name) {
      let fh: FileHandle
      try {
        fh = await open(last.path, report === undefined ? 'r' : 'r+')
      } catch (error) {
        throw ioError('open', last.path, error)
      }
      await cur?.fh.close().catch(() => undefined)
      cur = { fh, name: last.name, path: last.path, first: last.first, bytes: 0, seen: 0 }
      fresh = true
    }
    const c = cur
    try {
      const st = await c.fh.stat()
      const tail = await findTail(c.fh, st.size)
      c.seen = st.size
      if (tail.end < st.size && report !== undefined) {
        await c.fh.truncate(tail.end)
        await c.fh.datasync()
        c.seen = tail.end
        report({ file: c.path, offset: tail.end, bytesDropped: st.size - tail.end })
      }
      c.bytes = tail.end
      if (tail.lineStart < 0) {
        // An empty segment: the head is the end of the previous one (or the anchor).
        if (c.first === base.size) {
          size = base.size
          hash = base.hash
          return
        }
        const prev = segs.at(-2)
        if (prev === undefined) throw new CorruptLedgerError('no segment before', { file: c.path })
        const end = await lastOfSegment(prev)
        if (end.seq + 1 !== c.first) {
          throw new CorruptLedgerError(
            `starts at seq ${c.first} but the previous segment ends at seq ${end.seq}`,
            { file: c.path },
          )
        }
        size = c.first
        hash = end.hash
        return
      }
      const line = await readRange(c.fh, tail.lineStart, tail.end - 1)
      const seq = lineSeq(line, c.path, tail.lineStart)
      if (seq < c.first) {
        throw new CorruptLedgerError(
          `the last line has seq ${seq}, before the segment's first seq ${c.first}`,
          { file: c.path },
        )
      }
      if (fresh && tail.lineStart > 0) {
        const nl = await firstNewlineFrom(c.fh, 0, tail.end)
        const firstSeq = lineSeq(await readRange(c.fh, 0, nl), c.path, 0)
        if (firstSeq !== c.first) {
          throw new CorruptLedgerError(`the first line has seq ${firstSeq}, not ${c.first}`, {
            file: c.path,
          })
        }
      }
      size = seq + 1
      hash = leafHash(line)
    } catch (error) {
      throw ioError('read', c.path, error)
    }
  }

  const changed = async (): Promise<boolean> => {
    const c = cur!
    let st: { size: number }
    try {
      // Synchronous: a local fstat never blocks, and it keeps the lock hold time short.
      st = fstatSync(c.fh.fd)
    } catch (error) {
      throw ioError('stat', c.path, error)
    }
    if (st.size !== c.seen) return true
    // Full segment: another writer may have started the next one.
    return c.bytes >= segmentBytes && (await pathExists(join(segDir, segmentFileName(size))))
  }

  /** Starts segment `size`; false if another writer already did. */
  const roll = async (): Promise<boolean> => {
    const name = segmentFileName(size)
    const path = join(segDir, name)
    let fh: FileHandle
    try {
      fh = await open(path, 'wx+')
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false
      throw ioError('create', path, error)
    }
    try {
      await fsyncDir(segDir)
    } catch (error) {
      await fh.close().catch(() => undefined)
      throw error
    }
    await cur!.fh.close().catch(() => undefined)
    cur = { fh, name, path, first: size, bytes: 0, seen: 0 }
    return true
  }

  const commit = async (entries: readonly EncodedReceipt[], buf: Buffer): Promise<void> => {
    const first = entries[0]!.seq
    if (await changed()) await discover()
    for (;;) {
      if (first !== size) {
        throw new ConflictError(
          first,
          0,
          first < size
            ? first < base.size
              ? `seq ${first} is retired in ${location}: the ledger begins at its anchor (seq ${base.size})`
              : `seq ${first} is already taken in ${location} (size ${size})`
            : `seq ${first} would leave a gap after ${size} in ${location}`,
        )
      }
      if (cur!.bytes < segmentBytes || (await roll())) break
      await discover()
    }
    const c = cur!
    try {
      await writeAt(c.fh, buf, c.bytes)
      await c.fh.datasync()
    } catch (error) {
      // Leave no unacknowledged bytes behind; if this fails too, the next
      // commit sees the size change and recovers from the file as it is.
      await c.fh
        .truncate(c.bytes)
        .then(() => c.fh.datasync())
        .catch(() => undefined)
      throw ioError('append to', c.path, error)
    }
    c.bytes += buf.length
    c.seen = c.bytes
    const last = entries.at(-1)!
    size = last.seq + 1
    hash = last.hash
  }

  return {
    get size() {
      return size
    },
    get hash() {
      return hash
    },
    discover,
    changed,
    commit,
    async close() {
      await cur?.fh.close().catch(() => undefined)
      cur = undefined
    },
  }
}
