/**
 * Filesystem helpers for the file store: error wrapping, durable writes, and
 * finding lines at either end of a segment without reading all of it.
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isBatonError, LedgerError } from './errors.js'

/** Bytes read per step when searching a file for a newline. */
const SEARCH_CHUNK = 64 * 1024

/** The `code` of a Node.js system error (`ENOENT`, `EEXIST`, …), if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** Wraps a filesystem failure as a `LedgerError('IO')` naming the action and path; baton errors pass through. */
export function ioError(action: string, path: string, cause: unknown): LedgerError {
  if (isBatonError(cause)) return cause as LedgerError
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new LedgerError('IO', `cannot ${action} ${path}: ${reason}`, { cause })
}

/** True if `path` exists; false on `ENOENT`; an `IO` error otherwise. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false
    throw ioError('stat', path, error)
  }
}

/**
 * Makes a directory's entries (created, renamed or removed files) durable.
 * Platforms that cannot open a directory (Windows) are skipped.
 */
export async function fsyncDir(path: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(path, 'r')
    await fh.sync()
  } catch (error) {
    const code = errnoCode(error)
    if (process.platform === 'win32' && (code === 'EISDIR' || code === 'EPERM')) return
    throw ioError('fsync directory', path, error)
  } finally {
    await fh?.close().catch(() => undefined)
  }
}

/** Writes `content` to `path` atomically: temp file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  let fh: FileHandle | undefined
  try {
    fh = await open(tmp, 'wx')
    await fh.writeFile(content)
    await fh.sync()
    await fh.close()
    fh = undefined
    await rename(tmp, path)
  } catch (error) {
    await fh?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    throw ioError('write', path, error)
  }
  await fsyncDir(dir)
}

/** Reads exactly `buf.length` bytes at `position` (fewer only at end of file); returns the count. */
export async function readAt(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let done = 0
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done
}

/** Writes all of `buf` at `position`, continuing after short writes. */
export async function writeAt(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done)
    if (bytesWritten <= 0) throw new Error('write made no progress')
    done += bytesWritten
  }
}

/** Offset of the last `\n` in `[0, before)`, or -1. Reads backwards in chunks. */
export async function lastNewlineBefore(fh: FileHandle, before: number): Promise<number> {
  let end = before
  const buf = Buffer.allocUnsafe(Math.min(SEARCH_CHUNK, Math.max(1, before)))
  while (end > 0) {
    const start = Math.max(0, end - buf.length)
    const n = await readAt(fh, buf.subarray(0, end - start), start)
    const k = buf.subarray(0, n).lastIndexOf(10)
    if (k >= 0) return start + k
    end = start
  }
  return -1
}

/** Offset of the first `\n` in `[from, limit)`, or -1. Reads forwards in chunks. */
export async function firstNewlineFrom(
  fh: FileHandle,
  from: number,
  limit: number,
): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(SEARCH_CHUNK, Math.max(1, limit - from)))
  for (let pos = from; pos < limit; ) {
    const n = await readAt(fh, buf.subarray(0, Math.min(buf.length, limit - pos)), pos)
    if (n === 0) break
    const k = buf.subarray(0, n).indexOf(10)
    if (k >= 0) return pos + k
    pos += n
  }
  return -1
}

/** Reads `[start, end)` of a file into a fresh buffer. */
export async function readRange(fh: FileHandle, start: number, end: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(end - start)
  const n = await readAt(fh, buf, start)
  return n === buf.length ? buf : buf.subarray(0, n)
}

/** Where the complete lines of a file end. */
export interface FileTail {
  /** Length of the file's complete lines: one past the last `\n`, or 0 when there is none. */
  readonly end: number
  /** Offset where the last complete line starts, or -1 when the file has no complete line. */
  readonly lineStart: number
}

/** Finds the last complete line of a file of `size` bytes, reading only its tail. */
export async function findTail(fh: FileHandle, size: number): Promise<FileTail> {
  const lastNl = await lastNewlineBefore(fh, size)
  if (lastNl < 0) return { end: 0, lineStart: -1 }
  const prevNl = await lastNewlineBefore(fh, lastNl)
  return { end: lastNl + 1, lineStart: prevNl + 1 }
}

/**
 * Reads a file's bytes from `start` up to `limit` (or its end), in chunks of
 * about `chunkBytes`. Each chunk is a fresh buffer the caller may keep,
 * unless a `shared` buffer is given: then it is refilled for every chunk, and
 * a chunk is valid only until the next one is requested (no garbage per
 * chunk or per file: what keeps a streaming verifier's memory flat).
 */
export async function* readChunks(
  path: string,
  chunkBytes: number,
  limit = Number.POSITIVE_INFINITY,
  start = 0,
  shared?: Buffer,
): AsyncGenerator<Buffer> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (error) {
    throw ioError('open', path, error)
  }
  try {
    for (let pos = start; pos < limit; ) {
      const size = Math.min(shared?.length ?? chunkBytes, limit - pos)
      const buf = shared === undefined ? Buffer.allocUnsafe(size) : shared.subarray(0, size)
      let n: number
      try {
        n = await readAt(fh, buf, pos)
      } catch (error) {
        throw ioError('read', path, error)
      }
      if (n === 0) return
      pos += n
      yield n === buf.length ? buf : buf.subarray(0, n)
      if (n < buf.length) return
    }
  } finally {
    await fh.close().catch(() => undefined)
  }
}
