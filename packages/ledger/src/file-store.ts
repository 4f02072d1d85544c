/**
 * A {@link LedgerStore} in a directory of append-only JSONL segment files,
 * safe for many writer processes on one machine.
 *
 * Layout (DESIGN.md, "File store layout"):
 *
 * ```
 * dir/baton-ledger.json            format marker, layout version, segment size
 * dir/baton-ledger.lock            the writer lock
 * dir/segments/<first seq>.jsonl   first seq zero-padded to 20 digits;
 *                                  one canonical receipt per line, each ending in \n
 * ```
 *
 * A ledger created with an anchor (`{create: true, anchor}`) records it in
 * `baton-ledger.json` and begins at it: its first segment is named by the
 * anchor's `seq`, its empty head is `{size: anchor.seq, hash: anchor.prev}`,
 * and reads start there (see `anchor.ts`).
 *
 * Every commit (one {@link LedgerStore.append} call, i.e. one group-committed
 * batch of the {@link Ledger}) runs under an exclusive writer lock: it checks
 * whether another writer appended since it last looked, refuses a batch
 * whose first `seq` is not the head with a {@link ConflictError}, and
 * otherwise writes the whole batch with one `write` and one `fdatasync`
 * before resolving. The lock is held only for that, so several processes can
 * append to one ledger; the losers of a race retry through the ledger.
 *
 * A crash can leave a torn last line (bytes after the last `\n`); the store
 * truncates it when it opens or when a commit finds it, and reports it
 * ({@link FileStoreOptions.onRecover}, {@link FileStore.recovered}). A
 * complete line is never dropped, and an acknowledged receipt is never lost.
 *
 * @module
 */
import { join, resolve } from 'node:path'
import { readChunks } from './_file-io.js'
import {
  assertCreatable,
  type LedgerMeta,
  LOCK_FILE,
  META_FILE,
  readMeta,
  SEGMENTS_DIR,
  writeNewLedger,
} from './_file-layout.js'
import { openWriterLock, type WriterLock } from './_file-lock.js'
import { readPositioned } from './_file-positioned.js'
import { readLines, segmentSizes } from './_file-read.js'
import { createSegmentLog, joinBatch } from './_file-segments.js'
import { attachStoreHooks } from './_store-hooks.js'
import { type Anchor, anchorHead, checkAnchor, sameAnchor } from './anchor.js'
import { InvalidInputError, isBatonError, LedgerError } from './errors.js'
import type { EncodedReceipt, LedgerStore, RawSegment, StoredLine, StoreHead } from './store.js'
import { createFileTreeStateStorage, TREE_STATE_FILE } from './tree-state.js'

export { segmentFileName } from './_file-layout.js'

/** Default {@link FileStoreOptions.segmentBytes}: 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024

/** Default {@link FileStoreOptions.lockTimeoutMs}: 10 seconds. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000

/** Bytes read per step by `rawSegments()`: large chunks keep verify near the hashing floor. */
const RAW_CHUNK = 1024 * 1024

/** A torn tail the store truncated. */
export interface FileStoreRecovery {
  /** Absolute path of the segment file that was truncated. */
  readonly file: string
  /** Byte offset where the file now ends: the first byte that was dropped. */
  readonly offset: number
  /** How many bytes were dropped (all after the last `\n`; never a complete line). */
  readonly bytesDropped: number
}

/** Options for {@link openFileStore}. */
export interface FileStoreOptions {
  /**
   * Create a new, empty ledger when `dir` holds none (the directory is made
   * if missing). A non-empty directory that is not a ledger is refused.
   * Default `false`: a missing ledger fails with `NOT_FOUND`.
   */
  readonly create?: boolean
  /**
   * Size in bytes after which a new segment file is started (checked before
   * each batch; a batch is never split). Used only when creating: an
   * existing ledger keeps the size recorded in its `baton-ledger.json`.
   * Default {@link DEFAULT_SEGMENT_BYTES} (64 MiB).
   */
  readonly segmentBytes?: number
  /**
   * How long to wait for the writer lock while another live process holds
   * it, in milliseconds, before failing with `LOCKED`. A holder that died
   * releases the lock at once. Default {@link DEFAULT_LOCK_TIMEOUT_MS}.
   */
  readonly lockTimeoutMs?: number
  /**
   * Open for reading only, writing nothing at all (for `baton verify` and
   * `inspect`): no lock is taken or created, a torn tail is left in place
   * (ignored by `head` and `read`, visible to `rawSegments` so the verifier
   * reports it), and `append` rejects with `IO`. Cannot be combined with
   * `create`. Default `false`.
   */
  readonly readOnly?: boolean
  /**
   * Called (synchronously; exceptions are ignored) each time a torn tail is
   * truncated, on open or during a commit. Also recorded in
   * {@link FileStore.recovered}.
   */
  readonly onRecover?: (recovery: FileStoreRecovery) => void
  /**
   * When creating: begin the new ledger at this anchor instead of receipt 0
   * (recorded in `baton-ledger.json`; see `anchor.ts`). When opening an
   * existing ledger: it must begin at this same anchor (`seq`, `prev` and
   * `range`), else `INVALID_INPUT` naming `anchor`. Checked with
   * `checkAnchor`. Default (or `undefined`): no anchor (and an existing ledger opens with
   * whatever anchor it records).
   */
  readonly anchor?: Anchor | undefined
}

/** Options for {@link initFileStore}: those of {@link FileStoreOptions} except `create`. */
export type InitFileStoreOptions = Omit<FileStoreOptions, 'create'>

/** A {@link LedgerStore} over a directory of segment files. Open one with {@link openFileStore}. */
export interface FileStore extends LedgerStore {
  /** Absolute path of the ledger directory. */
  readonly dir: string
  /** The ledger's segment size, from its `baton-ledger.json`. */
  readonly segmentBytes: number
  /** Absolute path of the writer lock file. */
  readonly lockPath: string
  /** Torn tails this instance truncated (on open and since), oldest first; always empty when read-only. */
  readonly recovered: readonly FileStoreRecovery[]
  /**
   * Each segment's raw bytes as stored, as of the call, with `size`; names
   * are absolute paths. Sizes are taken under the writer lock (not when
   * read-only), so no half-written batch is included.
   */
  rawSegments(): AsyncIterable<RawSegment>
}

function checkOptions(dir: unknown, options: unknown): asserts options is FileStoreOptions {
  if (typeof dir !== 'string' || dir === '') {
    throw new InvalidInputError('dir', 'must be a non-empty path string')
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'must be an object')
  }
  const o = options as Record<string, unknown>
  if (o.create !== undefined && typeof o.create !== 'boolean') {
    throw new InvalidInputError('create', 'must be a boolean')
  }
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') {
    throw new InvalidInputError('readOnly', 'must be a boolean')
  }
  if (o.readOnly === true && o.create === true) {
    throw new InvalidInputError('readOnly', 'cannot be combined with create')
  }
  const sb = o.segmentBytes
  if (sb !== undefined && (typeof sb !== 'number' || !Number.isSafeInteger(sb) || sb < 1)) {
    throw new InvalidInputError('segmentBytes', `must be a positive integer, got ${String(sb)}`)
  }
  const lt = o.lockTimeoutMs
  if (lt !== undefined && (typeof lt !== 'number' || !Number.isFinite(lt) || lt < 0)) {
    throw new InvalidInputError('lockTimeoutMs', `must be a non-negative number, got ${String(lt)}`)
  }
  if (o.onRecover !== undefined && typeof o.onRecover !== 'function') {
    throw new InvalidInputError('onRecover', 'must be a function')
  }
  if (o.anchor !== undefined) checkAnchor(o.anchor)
}

/**
 * Opens the file ledger in `dir`, creating it first when `options.create` is
 * set. Recovers a torn tail left by a crash (see {@link FileStoreRecovery}).
 *
 * @throws {@link LedgerError} `NOT_FOUND` (no ledger and no `create`),
 *   `CORRUPT` (bad marker file or segments), `LOCKED`, `IO`.
 * @throws {@link InvalidInputError} for a bad option, or when `create` meets a
 *   non-empty directory that is not a ledger.
 *
 * @example
 * ```ts
 * const store = await openFileStore('/var/lib/baton/ledger', { create: true })
 * const ledger = createLedger({ store })
 * ```
 */
export function openFileStore(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
  return openStore(dir, options, false)
}

/**
 * Creates a new, empty file ledger in `dir` (made if missing; must be empty)
 * and opens it; with `options.anchor`, one that begins at that anchor. For
 * `baton init` and restores.
 *
 * @throws {@link LedgerError} `ALREADY_EXISTS` when `dir` already holds a ledger.
 * @throws {@link InvalidInputError} when `dir` is not empty, or for a bad option.
 */
export function initFileStore(dir: string, options: InitFileStoreOptions = {}): Promise<FileStore> {
  return openStore(dir, { ...options, create: true }, true)
}

async function openStore(
  dir: string,
  options: FileStoreOptions,
  exclusive: boolean,
): Promise<FileStore> {
  checkOptions(dir, options)
  const root = resolve(dir)
  const metaPath = join(root, META_FILE)
  const alreadyExists = (): LedgerError =>
    new LedgerError('ALREADY_EXISTS', `a baton ledger already exists in ${root}`)

  const anchor = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  const checkAnchorOf = (found: LedgerMeta): void => {
    if (anchor === undefined || sameAnchor(found.anchor, anchor)) return
    throw new InvalidInputError(
      'anchor',
      found.anchor === undefined
        ? `the ledger in ${root} begins at receipt 0, not at an anchor (seq ${anchor.seq}); use a new directory for a ledger that begins at an anchor`
        : `the ledger in ${root} begins at another anchor (seq ${found.anchor.seq}, prev ${found.anchor.prev.slice(0, 12)}…) than the one given (seq ${anchor.seq}, prev ${anchor.prev.slice(0, 12)}…)`,
    )
  }

  let meta = await readMeta(metaPath)
  if (meta !== undefined && !exclusive) checkAnchorOf(meta)
  if (meta === undefined) {
    if (options.create !== true) {
      throw new LedgerError(
        'NOT_FOUND',
        `no baton ledger in ${root} (${META_FILE} is missing); create one with { create: true } or baton init`,
      )
    }
    await assertCreatable(root)
  } else if (exclusive) {
    throw alreadyExists()
  }
  if (options.readOnly === true && meta !== undefined) {
    return createFileStore(root, meta, undefined, options)
  }

  const lock = openWriterLock(
    join(root, LOCK_FILE),
    options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
  )
  try {
    await lock.acquire()
    try {
      if (meta === undefined) {
        // Re-check under the lock: another process may have created it meanwhile.
        meta = await readMeta(metaPath)
        if (meta !== undefined && exclusive) throw alreadyExists()
        if (meta !== undefined) checkAnchorOf(meta)
        meta ??= await writeNewLedger(root, options.segmentBytes ?? DEFAULT_SEGMENT_BYTES, anchor)
      }
      return await createFileStore(root, meta, lock, options)
    } finally {
      lock.release()
    }
  } catch (error) {
    lock.close()
    throw error
  }
}

/**
 * Builds the store and discovers its head; called with the lock held, or
 * with no lock at all for a read-only store.
 */
async function createFileStore(
  root: string,
  meta: LedgerMeta,
  lock: WriterLock | undefined,
  options: FileStoreOptions,
): Promise<FileStore> {
  const segDir = join(root, SEGMENTS_DIR)
  const location = `file:${root}`
  const recovered: FileStoreRecovery[] = []
  const anchor = meta.anchor
  const base = anchor?.seq ?? 0
  const log = createSegmentLog(
    segDir,
    meta.segmentBytes,
    location,
    lock === undefined
      ? undefined
      : (recovery) => {
          recovered.push(recovery)
          try {
            options.onRecover?.(recovery)
          } catch {
            // A reporting callback must not undo a completed recovery.
          }
        },
    anchorHead(anchor),
  )
  let closed = false
  let queue: Promise<unknown> = Promise.resolve()

  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', `the file store ${root} is closed`)
  }

  /** Runs `fn` after every earlier call (in-process serialisation). */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn)
    queue = run.catch(() => undefined)
    return run
  }

  /** Runs `fn` holding the cross-process writer lock (read-only: without it). */
  const locked = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (lock === undefined) return fn()
    await lock.acquire()
    try {
      return await fn()
    } finally {
      lock.release()
    }
  }

  // A read-only store opens even when its end cannot be read (a corrupt last
  // line): verification reads the raw segments and must be able to report it.
  // head() and read() then fail with the same error.
  let undiscovered = false

  const head = async (): Promise<StoreHead> => {
    assertOpen()
    return serial(async () => {
      if (undiscovered) {
        await log.discover()
        undiscovered = false
      }
      // Unchanged files need no lock; a change is re-read under it (it may be a torn tail).
      else if (await log.changed()) await locked(log.discover)
      return { size: log.size, hash: log.hash }
    })
  }

  try {
    await log.discover()
  } catch (error) {
    if (lock !== undefined || !isBatonError(error, 'CORRUPT')) {
      await log.close()
      throw error
    }
    undiscovered = true
  }

  const store: FileStore = {
    location,
    ...(anchor === undefined ? {} : { anchor }),
    dir: root,
    segmentBytes: meta.segmentBytes,
    lockPath: join(root, LOCK_FILE),
    recovered,
    head,
    async append(entries: readonly EncodedReceipt[]): Promise<void> {
      assertOpen()
      if (lock === undefined) {
        throw new LedgerError('IO', `cannot append to ${root}: the file store is open read-only`)
      }
      if (!Array.isArray(entries)) throw new InvalidInputError('entries', 'must be an array')
      if (entries.length === 0) return
      const buf = joinBatch(entries)
      return serial(() => locked(() => log.commit(entries, buf)))
    },
    async *read(from = 0, to?: number): AsyncIterable<StoredLine> {
      const { size } = await head()
      yield* readLines(segDir, Math.max(base, from), Math.min(to ?? size, size))
    },
    async *rawSegments(): AsyncIterable<RawSegment> {
      assertOpen()
      // Sizes are taken under the lock, so no half-written batch is included.
      const sizes = await serial(() => locked(() => segmentSizes(segDir)))
      // One read buffer for every chunk of every segment (see RawSegment.chunks).
      const shared = Buffer.allocUnsafeSlow(RAW_CHUNK)
      for (const s of sizes) {
        yield {
          name: s.path,
          size: s.size,
          chunks: readChunks(s.path, RAW_CHUNK, s.size, 0, shared),
        }
      }
    },
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await serial(async () => {
        await log.close()
        lock?.close()
      })
    },
  }
  // For the tree state (tree-state.ts): positioned reads and where to keep it.
  return attachStoreHooks(store, {
    readPositioned(from, to, at) {
      assertOpen()
      return readPositioned(segDir, Math.max(base, from), to, at)
    },
    treeStateStorage: () =>
      createFileTreeStateStorage(join(root, TREE_STATE_FILE), { readOnly: lock === undefined }),
  })
}
