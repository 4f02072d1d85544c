import { readFile } from 'node:fs/promises'
import { errnoCode, ioError, writeFileAtomic } from './_file-io.js'
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
    save: (bytes) => writeFileAtomic(path, bytes),
  }
}
