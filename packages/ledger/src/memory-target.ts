/**
 * An in-memory {@link ExportTarget}: for tests, drills and dry runs of an
 * export or a restore.
 *
 * @module
 */
import { InvalidInputError } from './errors.js'
import {
  assertExportKey,
  compareExportKeys,
  type ExportBody,
  type ExportObjectInfo,
  type ExportTarget,
  ExportTargetError,
} from './export-target.js'

/** Options for {@link createMemoryTarget}. */
export interface MemoryTargetOptions {
  /** Name shown in messages after `memory:`; default `exports`. */
  readonly name?: string
  /** Bytes per chunk yielded by `get`; default 64 KiB. */
  readonly chunkBytes?: number
}

/** An {@link ExportTarget} that keeps objects in process memory. */
export interface MemoryTarget extends ExportTarget {
  /** The objects held, by key (a live view, for tests that tamper with exports). */
  readonly objects: Map<string, Uint8Array>
}

async function collect(body: ExportBody): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  const add = (chunk: unknown): void => {
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidInputError('body', `chunks must be Uint8Arrays, got ${typeof chunk}`)
    }
    parts.push(Uint8Array.from(chunk))
  }
  if (body instanceof Uint8Array) add(body)
  else if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
    for await (const chunk of body) add(chunk)
  } else if (typeof body === 'object' && body !== null && Symbol.iterator in body) {
    for (const chunk of body) add(chunk)
  } else {
    throw new InvalidInputError('body', 'must be a Uint8Array or an iterable of them')
  }
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * Creates an empty in-memory target. `put` is create-only and atomic: the
 * body is collected first and the key is claimed only if still free.
 *
 * @example
 * ```ts
 * const target = createMemoryTarget()
 * await exportLedger(store, target, { signers: [signer] })
 * const report = await verifyExport(target, { keys: [signer.verifier()] })
 * ```
 */
export function createMemoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const objects = new Map<string, Uint8Array>()
  const chunkBytes = options.chunkBytes ?? 64 * 1024
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new InvalidInputError('chunkBytes', 'must be a positive integer')
  }
  return {
    location: `memory:${options.name ?? 'exports'}`,
    objects,
    async put(key: string, body: ExportBody): Promise<void> {
      assertExportKey(key)
      if (objects.has(key)) throw new ExportTargetError('CONFLICT', key)
      const bytes = await collect(body)
      if (objects.has(key)) throw new ExportTargetError('CONFLICT', key)
      objects.set(key, bytes)
    },
    async *get(key: string): AsyncIterable<Uint8Array> {
      assertExportKey(key)
      const bytes = objects.get(key)
      if (bytes === undefined) throw new ExportTargetError('NOT_FOUND', key)
      for (let at = 0; at < bytes.length; at += chunkBytes) {
        yield bytes.slice(at, at + chunkBytes)
      }
    },
    async head(key: string): Promise<ExportObjectInfo | undefined> {
      assertExportKey(key)
      const bytes = objects.get(key)
      return bytes === undefined ? undefined : { size: bytes.length }
    },
    async *list(prefix: string): AsyncIterable<string> {
      if (typeof prefix !== 'string') {
        throw new InvalidInputError('prefix', `must be a string, got ${typeof prefix}`)
      }
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareExportKeys)
      yield* keys
    },
    async delete(key: string): Promise<void> {
      assertExportKey(key)
      objects.delete(key)
    },
  }
}
