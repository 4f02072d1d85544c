/**
 * Reading a file ledger's segments: lines by position, and raw sizes for
 * `LedgerStore.rawSegments`.
 *
 * @internal
 * @module
 */
import { type FileHandle, open } from 'node:fs/promises'
import { ioError, readChunks } from './_file-io.js'
import { listSegments } from './_file-layout.js'
import { CorruptLedgerError } from './errors.js'
import type { StoredLine } from './store.js'

/** Bytes read per step when streaming segments. */
export const READ_CHUNK = 256 * 1024

/**
 * Streams the lines with `start <= seq < end` from the segments of `segDir`;
 * `seq` is counted by position from each segment's first seq. Every line
 * below `end` must be complete (the caller took `end` from the head), and
 * `start` must not be below the first segment's first seq (the anchor).
 */
export async function* readLines(
  segDir: string,
  start: number,
  end: number,
): AsyncGenerator<StoredLine> {
  if (start >= end) return
  const segs = await listSegments(segDir)
  let i = segs.findLastIndex((s) => s.first <= start)
  if (i < 0) throw new CorruptLedgerError(`no segment holds seq ${start}`, { file: segDir })
  let seq = segs[i]!.first
  for (; i < segs.length && seq < end; i++) {
    const seg = segs[i]!
    if (seg.first !== seq) {
      throw new CorruptLedgerError(`expected the segment to start at seq ${seq}`, {
        file: seg.path,
      })
    }
    let carry: Buffer | undefined
    for await (const chunk of readChunks(seg.path, READ_CHUNK)) {
      let pos = 0
      for (;;) {
        const nl = chunk.indexOf(10, pos)
        if (nl < 0) break
        const piece = chunk.subarray(pos, nl)
        const bytes = carry === undefined ? piece : Buffer.concat([carry, piece])
        carry = undefined
        pos = nl + 1
        if (seq >= start) yield { seq, bytes }
        if (++seq >= end) return
      }
      if (pos < chunk.length) {
        const rest = chunk.subarray(pos)
        carry = carry === undefined ? rest : Buffer.concat([carry, rest])
      }
    }
  }
  if (seq < end) {
    throw new CorruptLedgerError(`the segments end at seq ${seq}, before the head ${end}`, {
      file: segDir,
    })
  }
}

/** Each segment's path and current size. */
export async function segmentSizes(segDir: string): Promise<{ path: string; size: number }[]> {
  const segs = await listSegments(segDir)
  return Promise.all(
    segs.map(async (s) => {
      let fh: FileHandle | undefined
      try {
        fh = await open(s.path, 'r')
        return { path: s.path, size: (await fh.stat()).size }
      } catch (error) {
        throw ioError('stat', s.path, error)
      } finally {
        await fh?.close().catch(() => undefined)
      }
    }),
  )
}
