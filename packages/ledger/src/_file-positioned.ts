/**
 * Positioned reads of a file ledger: lines with the byte offset where each
 * starts in its segment, and reads that start at a remembered offset
 * instead of scanning a (64 MiB) segment from its beginning. The tree state
 * (`tree-state.ts`) keeps the offset of every 2^L-th receipt and reads
 * small ranges through this.
 *
 * @internal
 * @module
 */
import { readChunks } from './_file-io.js'
import { listSegments } from './_file-layout.js'
import { type LinePosition, type PositionedLine, StalePositionError } from './_store-hooks.js'
import { CorruptLedgerError } from './errors.js'
import { decodeReceipt } from './receipt.js'

/** Bytes read per step. Small: positioned reads are for short ranges. */
const CHUNK = 64 * 1024

/**
 * Streams lines with `from <= seq < to` from the segments of `segDir`,
 * each with its byte offset in its segment. With `at` (a position recorded
 * earlier for receipt `at.seq <= from`), reading starts there after checking
 * that a line starts at that offset and holds receipt `at.seq`; lines before
 * `from` are still yielded (callers skip them) so they can be counted.
 * `bytes` is valid only until the next line is requested.
 *
 * @throws {StalePositionError} `at` does not point at receipt `at.seq`.
 * @throws {CorruptLedgerError} the segments do not hold `[from, to)`.
 */
export async function* readPositioned(
  segDir: string,
  from: number,
  to: number,
  at?: LinePosition,
): AsyncGenerator<PositionedLine> {
  if (from >= to) return
  const start = at !== undefined && at.seq <= from ? at : undefined
  const target = start?.seq ?? from
  const segs = await listSegments(segDir)
  let i = segs.findLastIndex((s) => s.first <= target)
  if (i < 0) throw new CorruptLedgerError(`no segment holds seq ${target}`, { file: segDir })
  let seq = start?.seq ?? segs[i]!.first
  let offset = start?.position ?? 0
  let checkFirst = start !== undefined
  const stale = (why: string): StalePositionError =>
    new StalePositionError(
      `the remembered position of receipt ${start!.seq} (byte ${start!.position}) ${why}`,
      { file: segs[i]!.path },
    )
  for (; i < segs.length && seq < to; i++) {
    const seg = segs[i]!
    if (!checkFirst && seg.first !== seq) {
      throw new CorruptLedgerError(`expected the segment to start at seq ${seq}`, {
        file: seg.path,
      })
    }
    // Starting mid-file: read from one byte early to see the newline before the line.
    let needNewline = checkFirst && offset > 0
    let carry: Buffer | undefined
    let lineStart = offset
    const readFrom = needNewline ? offset - 1 : offset
    for await (const chunk of readChunks(seg.path, CHUNK, Number.POSITIVE_INFINITY, readFrom)) {
      let p = 0
      if (needNewline) {
        if (chunk[0] !== 10) throw stale('is not the start of a line')
        needNewline = false
        p = 1
      }
      for (;;) {
        const nl = chunk.indexOf(10, p)
        if (nl < 0) break
        const piece = chunk.subarray(p, nl)
        const bytes = carry === undefined ? piece : Buffer.concat([carry, piece])
        carry = undefined
        if (checkFirst) {
          let got: number | undefined
          try {
            got = decodeReceipt(bytes).seq
          } catch {
            got = undefined
          }
          if (got !== seq)
            throw stale(`holds ${got === undefined ? 'no receipt' : `receipt ${got}`}`)
          checkFirst = false
        }
        yield { seq, bytes, position: lineStart }
        lineStart += bytes.length + 1
        p = nl + 1
        if (++seq >= to) return
      }
      if (p < chunk.length) {
        const rest = Buffer.from(chunk.subarray(p))
        carry = carry === undefined ? rest : Buffer.concat([carry, rest])
      }
    }
    if (checkFirst) throw stale('is past the end of its segment')
    offset = 0
  }
  if (seq < to) {
    throw new CorruptLedgerError(`the segments end at seq ${seq}, before ${to}`, { file: segDir })
  }
}
