/**
 * Where daily exports go: the {@link ExportTarget} contract that every
 * object store implements (a local directory here; S3 and GCS with the
 * adapter packages), with the same create-only primitive the ledger stores
 * use.
 *
 * A target holds immutable objects under string keys. Keys are
 * `/`-separated paths of non-empty segments (`manifest/00000000000000000007.json`):
 * no leading or trailing `/`, no empty, `.` or `..` segment, no NUL or `\`.
 * Every target refuses other keys with an {@link InvalidInputError} naming
 * `key`, so what one target accepts, all accept.
 *
 * @module
 */
import { type BatonErrorOptions, InvalidInputError, LedgerError } from './errors.js'

/** What {@link ExportTarget.head} tells about an object. */
export interface ExportObjectInfo {
  /** Size in bytes. */
  readonly size: number
}

/** A body for {@link ExportTarget.put}: bytes, or chunks streamed in order. */
export type ExportBody = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>

/**
 * An object store that exports are written to. Objects are created once and
 * never overwritten; they may be deleted (retention).
 */
export interface ExportTarget {
  /** Where the target is, for messages and receipts: `file:/var/backups/baton`, `memory:drill`, `s3://bucket/prefix`. */
  readonly location: string

  /**
   * Creates the object `key` with the bytes of `body`, **create-only**: if
   * `key` already exists (or another `put` of it wins a race), rejects with
   * an {@link ExportTargetError} of code `CONFLICT` and the existing object
   * is left exactly as it was. A `body` that is an iterable is consumed once,
   * in order, in constant memory for streaming targets; if it throws, `put`
   * rejects with that error and nothing is stored at `key`. Its producer may
   * refill a chunk's buffer once the next chunk is requested, so a target
   * copies whatever it keeps longer.
   *
   * Resolves only once the object is durable and visible to `get`, `head`
   * and `list` (a whole object or nothing: never a partial one).
   *
   * @throws {@link InvalidInputError} (`key`) for a malformed key.
   * @throws {@link ExportTargetError} `CONFLICT`; {@link LedgerError} `IO` for storage failures.
   */
  put(key: string, body: ExportBody): Promise<void>

  /**
   * The object's bytes, in chunks of any size, in order. A target may refill
   * one buffer for every chunk, so a chunk is valid only until the next one
   * is requested: copy what you keep. A missing key
   * makes the iteration reject (on its first step) with an
   * {@link ExportTargetError} of code `NOT_FOUND`.
   *
   * @throws {@link InvalidInputError} (`key`) for a malformed key (on the first step).
   */
  get(key: string): AsyncIterable<Uint8Array>

  /**
   * The object's size, or `undefined` when there is no object at `key`
   * (a "directory" of other keys is not an object).
   *
   * @throws {@link InvalidInputError} (`key`) for a malformed key.
   */
  head(key: string): Promise<ExportObjectInfo | undefined>

  /**
   * Every key that starts with `prefix` (plain string prefix: `manifest/0`
   * matches `manifest/01.json`), each once, sorted by the bytes of its UTF-8
   * encoding (the order S3 and GCS list in). `''` lists everything.
   * Objects created or deleted during the listing may or may not appear.
   *
   * @throws {@link InvalidInputError} (`prefix`) when it is not a string (on the first step).
   */
  list(prefix: string): AsyncIterable<string>

  /**
   * Deletes the object at `key`. Deleting a key that does not exist is not
   * an error (as in S3), so retention can be re-run safely.
   *
   * @throws {@link InvalidInputError} (`key`) for a malformed key.
   */
  delete(key: string): Promise<void>
}

/** A create-only write found its key taken (`CONFLICT`), or a key is missing (`NOT_FOUND`). */
export class ExportTargetError extends LedgerError {
  /** The key concerned. */
  readonly key: string

  constructor(
    code: 'CONFLICT' | 'NOT_FOUND',
    key: string,
    message?: string,
    options?: BatonErrorOptions,
  ) {
    super(
      code,
      message ?? (code === 'CONFLICT' ? `${key} already exists` : `${key} does not exist`),
      options,
    )
    this.key = key
  }
}

/** Longest key accepted, in UTF-8 bytes (S3's and GCS's limit). */
export const MAX_EXPORT_KEY_BYTES = 1024

/** Why `key` is not a valid export key, or `undefined` when it is. */
export function exportKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return `must be a string, got ${typeof key}`
  if (key === '') return 'must not be empty'
  if (Buffer.byteLength(key) > MAX_EXPORT_KEY_BYTES) {
    return `longer than ${MAX_EXPORT_KEY_BYTES} bytes`
  }
  if (!key.isWellFormed()) return 'contains a lone surrogate'
  if (key.startsWith('/')) return `${JSON.stringify(key)} is absolute; keys are relative paths`
  if (key.includes('\0') || key.includes('\\')) {
    return `${JSON.stringify(key)} contains NUL or a backslash`
  }
  for (const segment of key.split('/')) {
    if (segment === '') return `${JSON.stringify(key)} has an empty path segment`
    if (segment === '.' || segment === '..') {
      return `${JSON.stringify(key)} has a "${segment}" path segment`
    }
  }
  return undefined
}

/** Checks an export key (see the module documentation for the rules). */
export function assertExportKey(key: unknown, path = 'key'): asserts key is string {
  const problem = exportKeyProblem(key)
  if (problem !== undefined) throw new InvalidInputError(path, problem)
}

/** Orders keys by the bytes of their UTF-8 encoding, as {@link ExportTarget.list} must. */
export function compareExportKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Collects an object's bytes into one buffer (for small objects such as manifest entries). */
export async function readExportObject(target: ExportTarget, key: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of target.get(key)) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts)
}
