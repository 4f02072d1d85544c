/**
 * The two {@link TreeStateStorage}s: in memory, and one file replaced
 * atomically (what the file store uses for `<dir>/tree-state.bin`).
 *
 * @internal
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { errnoCode, fsyncDir, ioError } from './_file-io.js'
import { InvalidInputError } from './errors.js'
import type { MemoryTreeStateStorage, TreeStateStorage } from './tree-state.js'

/** Creates an in-memory {@link TreeStateStorage} (for stores without files, and tests). */
export function createMemoryTreeStateStorage(name = 'memory:tree-state'): MemoryTreeStateStorage {
  const storage: MemoryTreeStateStorage = {
    name,
    bytes: undefined,
    async load() {
      return storage.bytes?.slice()
    },
    async save(bytes) {
      storage.bytes = bytes.slice()
    },
  }
  return storage
}

/**
 * A {@link TreeStateStorage} in one file, replaced atomically on save
 * (temp file, fsync, rename, fsync of the directory).
 *
 * @param options.readOnly - never write (for read-only stores).
 */
export function createFileTreeStateStorage(
  path: string,
  options: { readonly readOnly?: boolean } = {},
): TreeStateStorage {
  if (typeof path !== 'string' || path === '') {
    throw new InvalidInputError('path', 'must be a non-empty path string')
  }
  return {
    name: path,
    readOnly: options.readOnly === true,
    async load() {
      try {
        return new Uint8Array(await readFile(path))
      } catch (error) {
        const code = errnoCode(error)
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
        throw ioError('read', path, error)
      }
    },
    async save(bytes) {
      const dir = dirname(path)
      const tmp = join(
        dir,
        `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
      )
      let fh: FileHandle | undefined
      try {
        fh = await open(tmp, 'wx')
        await fh.writeFile(bytes)
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
    },
  }
}
