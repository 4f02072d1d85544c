/**
 * Byte plumbing for export bundles: gzip in and out of async iterables,
 * SHA-256 and size of a stream as it passes, and reading the few envelope
 * fields the export needs straight from a receipt's canonical bytes.
 *
 * @internal
 * @module
 */
import { createHash } from 'node:crypto'
import { createGunzip, createGzip, type Gunzip, type Gzip } from 'node:zlib'
import { isHashHex, isReceiptTimestamp } from './receipt.js'

/**
 * Runs `source` through a zlib stream driven by hand: each input chunk is
 * written and its callback awaited (zlib has consumed it, so its producer
 * may refill it) before the next is pulled, and the output produced so far
 * is yielded in between. Memory stays at one input chunk plus zlib's state
 * and output. Errors of either side reject the iteration.
 */
async function* through(
  source: AsyncIterable<Uint8Array>,
  stream: Gzip | Gunzip,
): AsyncGenerator<Uint8Array> {
  const out: Buffer[] = []
  let failure: { error: unknown } | undefined
  let ended = false
  let wake: (() => void) | undefined
  stream.on('data', (chunk: Buffer) => {
    out.push(chunk)
  })
  stream.on('error', (error) => {
    failure ??= { error }
    wake?.()
  })
  stream.on('end', () => {
    ended = true
    wake?.()
  })
  // A stream that fails may never call the write callback: the error settles it too.
  const write = (chunk: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      if (failure !== undefined) {
        reject(failure.error)
        return
      }
      wake = () => reject(failure?.error ?? new Error('zlib stream ended early'))
      stream.write(chunk, (error) => (error ? reject(error) : resolve()))
    })
  try {
    for await (const chunk of source) {
      if (chunk.length === 0) continue
      await write(chunk)
      if (failure !== undefined) throw failure.error
      while (out.length > 0) yield out.shift()!
    }
    stream.end()
    while (!ended && failure === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve
        if (ended || failure !== undefined) resolve()
      })
      while (out.length > 0) yield out.shift()!
    }
    if (failure !== undefined) throw failure.error
    while (out.length > 0) yield out.shift()!
  } finally {
    stream.destroy()
  }
}

/** gzip of the bytes of `source` (whose chunks may be refilled once consumed). */
export function gzipChunks(
  source: AsyncIterable<Uint8Array>,
  level: number,
): AsyncIterable<Uint8Array> {
  return through(source, createGzip({ level, chunkSize: 64 * 1024 }))
}

/** The bytes gzipped in `source`; a corrupt stream rejects with a zlib error (`code` `Z_…`). */
export function gunzipChunks(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return through(source, createGunzip({ chunkSize: 64 * 1024 }))
}

/** SHA-256 and byte count of everything that passed through {@link StreamDigest.pass}. */
export class StreamDigest {
  readonly #hash = createHash('sha256')
  bytes = 0

  /** Yields `source` unchanged, hashing and counting it; `onChunk` sees each chunk's size. */
  async *pass(
    source: AsyncIterable<Uint8Array>,
    onChunk?: (bytes: number) => void,
  ): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.#hash.update(chunk)
      this.bytes += chunk.length
      onChunk?.(chunk.length)
      yield chunk
    }
  }

  /** The SHA-256 in hex (call once, at the end). */
  hex(): string {
    return this.#hash.digest('hex')
  }
}

const PREV_NEEDLE = Buffer.from('"prev":"')
const TS_NEEDLE = Buffer.from('"ts":"')

/**
 * Offset of the envelope's `prev` value in a receipt's canonical bytes, or
 * -1. The envelope's keys come after `data` in canonical order and nothing
 * after `prev` can contain `"prev":"`, so the last occurrence is the one.
 */
export function prevOffset(line: Buffer): number {
  const at = line.lastIndexOf(PREV_NEEDLE)
  return at < 0 || at + 8 + 64 > line.length ? -1 : at + 8
}

/** The envelope's `prev` as hex, or `undefined` when the line has none that is well-formed. */
export function prevOf(line: Buffer): string | undefined {
  const at = prevOffset(line)
  if (at < 0) return undefined
  const prev = line.toString('latin1', at, at + 64)
  return isHashHex(prev) ? prev : undefined
}

/** Offset of the envelope's `ts` value (24 characters), or -1 (see {@link prevOffset}). */
export function tsOffset(line: Buffer): number {
  const at = line.lastIndexOf(TS_NEEDLE)
  return at < 0 || at + 6 + 24 > line.length ? -1 : at + 6
}

/** The envelope's `ts`, or `undefined` when the line has no valid one. */
export function tsOf(line: Buffer): string | undefined {
  const at = tsOffset(line)
  if (at < 0) return undefined
  const ts = line.toString('latin1', at, at + 24)
  return isReceiptTimestamp(ts) ? ts : undefined
}

/**
 * Splits a byte stream into lines (without the `\n`), calling `onLine` for
 * each complete one; a line may be a view into a chunk, valid only during
 * the call. {@link LineSplitter.end} returns the bytes of a last line that
 * had no newline (0 when none).
 */
export class LineSplitter {
  #carry: Buffer | undefined
  readonly #onLine: (line: Buffer) => void

  constructor(onLine: (line: Buffer) => void) {
    this.#onLine = onLine
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let pos = 0
    for (let nl = buf.indexOf(10, pos); nl >= 0; nl = buf.indexOf(10, pos)) {
      const piece = buf.subarray(pos, nl)
      if (this.#carry === undefined) this.#onLine(piece)
      else {
        const line = Buffer.concat([this.#carry, piece])
        this.#carry = undefined
        this.#onLine(line)
      }
      pos = nl + 1
    }
    if (pos < buf.length) {
      const rest = buf.subarray(pos)
      this.#carry =
        this.#carry === undefined ? Buffer.from(rest) : Buffer.concat([this.#carry, rest])
    }
  }

  /** Bytes of an unterminated last line (dropped). */
  end(): number {
    const n = this.#carry?.length ?? 0
    this.#carry = undefined
    return n
  }
}
