/**
 * An {@link ExportTarget} over a local directory: the embedded default for
 * daily exports, and the model the object-store targets follow.
 *
 * A key is a relative path under the directory (`manifest/…/x.json` is the
 * file `<dir>/manifest/…/x.json`). `put` writes the body to a temporary file
 * under `<dir>/.baton-tmp/`, fsyncs it, then `link()`s it into place, which
 * is atomic and fails if the name exists (create-only, even between
 * processes), then fsyncs the directory. A crash leaves either the whole
 * object or nothing at the key (and perhaps a temporary file, removed by
 * nothing but harmless: it is never listed).
 *
 * The first segment `.baton-tmp` is reserved. A directory cannot hold both
 * a key and keys below it (`a` and `a/b`); such a `put` is refused with an
 * {@link InvalidInputError}.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type FileHandle, link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { errnoCode, fsyncDir, ioError, writeAt } from './_file-io.js'
import { InvalidInputError } from './errors.js'
import {
  assertExportKey,
  compareExportKeys,
  type ExportBody,
  type ExportObjectInfo,
  type ExportTarget,
  ExportTargetError,
  exportKeyProblem,
} from './export-target.js'

/** The directory (first key segment) where a directory target keeps temporary files. */
export const DIRECTORY_TARGET_TMP = '.baton-tmp'

/** Bytes per chunk yielded by `get`. */
const READ_CHUNK = 256 * 1024

/** An {@link ExportTarget} over a local directory. */
export interface DirectoryTarget extends ExportTarget {
  /** Absolute path of the directory. */
  readonly dir: string
}

function checkKey(key: unknown): asserts key is string {
  assertExportKey(key)
  if (key === DIRECTORY_TARGET_TMP || key.startsWith(`${DIRECTORY_TARGET_TMP}/`)) {
    throw new InvalidInputError('key', `the segment ${DIRECTORY_TARGET_TMP} is reserved`)
  }
}

/**
 * Writes `body` to `fh`; errors of the body's iterator propagate unchanged.
 * Each chunk is copied into a buffer of our own and written while the next
 * chunk is produced (its producer may refill the chunk once we ask for the
 * next: see `ExportTarget.put`), so producing and writing overlap.
 */
async function writeBody(fh: FileHandle, path: string, body: ExportBody): Promise<number> {
  let pos = 0
  let own = Buffer.alloc(0)
  let inflight: Promise<void> | undefined
  const settle = async (): Promise<void> => {
    const w = inflight
    inflight = undefined
    try {
      await w
    } catch (error) {
      throw ioError('write', path, error)
    }
  }
  const write = async (chunk: unknown): Promise<void> => {
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidInputError('body', `chunks must be Uint8Arrays, got ${typeof chunk}`)
    }
    await settle()
    if (chunk.length === 0) return
    if (own.length < chunk.length) own = Buffer.allocUnsafeSlow(Math.max(chunk.length, 1 << 16))
    own.set(chunk)
    inflight = writeAt(fh, own.subarray(0, chunk.length), pos)
    inflight.catch(() => undefined) // observed by settle()
    pos += chunk.length
  }
  try {
    if (body instanceof Uint8Array) await write(body)
    else if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
      for await (const chunk of body) await write(chunk)
    } else if (typeof body === 'object' && body !== null && Symbol.iterator in body) {
      for (const chunk of body) await write(chunk)
    } else {
      throw new InvalidInputError('body', 'must be a Uint8Array or an iterable of them')
    }
    await settle()
  } finally {
    await inflight?.catch(() => undefined)
  }
  return pos
}

/**
 * Creates a target over directory `dir` (resolved against the working
 * directory). Nothing is touched until the first `put`, which creates the
 * directory if missing; reading a missing directory finds no objects.
 *
 * @throws {@link InvalidInputError} (`dir`) when `dir` is not a non-empty string.
 *
 * @example
 * ```ts
 * const target = createDirectoryTarget('/var/backups/baton')
 * await exportLedger(store, target, { date: '2026-01-25', signers: [signer] })
 * ```
 */
export function createDirectoryTarget(dir: string): DirectoryTarget {
  if (typeof dir !== 'string' || dir === '') {
    throw new InvalidInputError('dir', 'must be a non-empty path string')
  }
  const root = resolve(dir)
  const tmpDir = join(root, DIRECTORY_TARGET_TMP)
  const pathOf = (key: string): string => join(root, ...key.split('/'))

  /** Creates the parents of `path` and returns the directories whose entries changed. */
  const makeParents = async (key: string, path: string): Promise<string[]> => {
    const parent = dirname(path)
    let first: string | undefined
    try {
      first = await mkdir(parent, { recursive: true })
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw new InvalidInputError(
          'key',
          `${JSON.stringify(key)}: a parent path is an object, and a directory target cannot hold both "a" and "a/b"`,
        )
      }
      throw ioError('create directory', parent, error)
    }
    if (first === undefined) return [parent]
    // Every directory from the parent of the first one created down to `parent`.
    const out = [dirname(first)]
    let at = dirname(first)
    for (const part of relative(dirname(first), parent).split(sep)) {
      at = join(at, part)
      out.push(at)
    }
    return out
  }

  async function head(key: string): Promise<ExportObjectInfo | undefined> {
    checkKey(key)
    const path = pathOf(key)
    try {
      const info = await stat(path)
      return info.isFile() ? { size: info.size } : undefined
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw ioError('stat', path, error)
    }
  }

  return {
    location: `file:${root}`,
    dir: root,

    async put(key: string, body: ExportBody): Promise<void> {
      checkKey(key)
      const dest = pathOf(key)
      if ((await head(key)) !== undefined) throw new ExportTargetError('CONFLICT', key)
      try {
        await mkdir(tmpDir, { recursive: true })
      } catch (error) {
        throw ioError('create directory', tmpDir, error)
      }
      const tmp = join(tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}.tmp`)
      let fh: FileHandle | undefined
      try {
        try {
          fh = await open(tmp, 'wx', 0o644)
        } catch (error) {
          throw ioError('create', tmp, error)
        }
        await writeBody(fh, tmp, body)
        try {
          await fh.sync()
        } catch (error) {
          throw ioError('fsync', tmp, error)
        }
        await fh.close()
        fh = undefined
        const changed = await makeParents(key, dest)
        try {
          await link(tmp, dest)
        } catch (error) {
          if (errnoCode(error) === 'EEXIST') {
            const info = await stat(dest).catch(() => undefined)
            if (info?.isDirectory() === true) {
              throw new InvalidInputError(
                'key',
                `${JSON.stringify(key)} is a directory of other keys in this target`,
              )
            }
            throw new ExportTargetError('CONFLICT', key)
          }
          throw ioError('link', dest, error)
        }
        for (const d of changed.reverse()) await fsyncDir(d)
      } finally {
        await fh?.close().catch(() => undefined)
        await unlink(tmp).catch(() => undefined)
      }
    },

    async *get(key: string): AsyncIterable<Uint8Array> {
      checkKey(key)
      const path = pathOf(key)
      let fh: FileHandle
      try {
        fh = await open(path, 'r')
        if (!(await fh.stat()).isFile()) {
          await fh.close()
          throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
        }
      } catch (error) {
        const code = errnoCode(error)
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
          throw new ExportTargetError('NOT_FOUND', key, `${key} does not exist in ${root}`)
        }
        throw ioError('open', path, error)
      }
      try {
        // Two buffers, refilled in turn (see ExportTarget.get: a chunk is valid
        // until the next is requested): the next read runs while the caller
        // works on the current chunk, and no garbage is made per chunk.
        const bufs = [Buffer.allocUnsafeSlow(READ_CHUNK), Buffer.allocUnsafeSlow(READ_CHUNK)]
        const readInto = (buf: Buffer, at: number): Promise<number> =>
          fh.read(buf, 0, buf.length, at).then(
            (r) => r.bytesRead,
            (error: unknown) => {
              throw ioError('read', path, error)
            },
          )
        let turn = 0
        let pos = 0
        let next: Promise<number> | undefined = readInto(bufs[0]!, 0)
        try {
          for (;;) {
            const n: number = await next!
            next = undefined
            if (n === 0) return
            const buf = bufs[turn]!
            pos += n
            turn ^= 1
            next = readInto(bufs[turn]!, pos)
            yield n === buf.length ? buf : buf.subarray(0, n)
          }
        } finally {
          await next?.catch(() => undefined)
        }
      } finally {
        await fh.close().catch(() => undefined)
      }
    },

    head,

    async *list(prefix: string): AsyncIterable<string> {
      if (typeof prefix !== 'string') {
        throw new InvalidInputError('prefix', `must be a string, got ${typeof prefix}`)
      }
      const slash = prefix.lastIndexOf('/')
      const start = slash < 0 ? '' : prefix.slice(0, slash)
      if (start !== '' && exportKeyProblem(start) !== undefined) return
      yield* walk(start, prefix)
    },

    async delete(key: string): Promise<void> {
      checkKey(key)
      const path = pathOf(key)
      try {
        await unlink(path)
      } catch (error) {
        const code = errnoCode(error)
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') {
          return
        }
        throw ioError('delete', path, error)
      }
      await fsyncDir(dirname(path))
    },
  }

  /** Keys under the directory `dirKey` that start with `prefix`, in key order. */
  async function* walk(dirKey: string, prefix: string): AsyncGenerator<string> {
    const path = dirKey === '' ? root : pathOf(dirKey)
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(path, { withFileTypes: true })
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw ioError('list', path, error)
    }
    // A directory `a` sorts as `a/`, so `a-b` (0x2d) comes before `a/x` (0x2f).
    const items = entries
      .filter((e) => e.isFile() || e.isDirectory())
      .filter((e) => !(dirKey === '' && e.name === DIRECTORY_TARGET_TMP))
      .map((e) => ({
        name: e.name,
        dir: e.isDirectory(),
        sortKey: e.isDirectory() ? `${e.name}/` : e.name,
      }))
      .sort((a, b) => compareExportKeys(a.sortKey, b.sortKey))
    for (const item of items) {
      const key = dirKey === '' ? item.name : `${dirKey}/${item.name}`
      if (item.dir) {
        const asDir = `${key}/`
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) yield* walk(key, prefix)
      } else if (key.startsWith(prefix) && exportKeyProblem(key) === undefined) {
        yield key
      }
    }
  }
}
