/**
 * The file store's writer lock: an exclusive lock shared by every process
 * (and every store instance) that opens the same ledger directory.
 *
 * ## Design
 *
 * The lock is a POSIX advisory record lock (`fcntl(F_SETLK)`) on
 * `baton-ledger.lock`, taken through SQLite's locking protocol
 * (`BEGIN EXCLUSIVE` … `COMMIT` on an empty database, via the `node:sqlite`
 * module built into Node.js). Node has no `flock`/`fcntl` binding of its own;
 * SQLite is the one kernel-lock implementation it ships.
 *
 * Why a kernel lock rather than a lock file with a pid or an mtime:
 *
 * - **A dead holder never blocks anyone.** The kernel drops a process's
 *   record locks when it exits, however it exits (`SIGKILL`, OOM kill,
 *   crash). There is no stale state to detect, so recovery after a crash is
 *   immediate and there is no heuristic that could wrongly decide that a
 *   slow-but-alive holder is dead (the failure mode of mtime-based locks such
 *   as `proper-lockfile`, where an event-loop stall longer than `stale` lets
 *   a second writer in and forks the ledger), and no pid-reuse or pid-namespace
 *   ambiguity (the failure modes of pid files).
 * - **In-process instances exclude each other too.** POSIX locks belong to a
 *   process, but SQLite tracks them per inode inside the process, so two store
 *   instances over one directory in the same process also contend.
 * - **Cheap.** Acquire + release is about a dozen non-blocking syscalls and,
 *   after the very first one (which writes the 4 KiB database header), no
 *   writes (measured ≈8 µs), so holding it only around each commit costs
 *   nothing next to the `fdatasync`.
 *
 * Waiting is asynchronous: the busy timeout is 0 (never blocks the event
 * loop) and {@link WriterLock.acquire} polls with a short jittered backoff
 * until `timeoutMs`, then fails with `LedgerError('LOCKED')` naming the file.
 *
 * Limits: the lock file must not be deleted while the ledger is in use, and
 * on network filesystems it is only as good as their `fcntl` locking.
 *
 * @internal
 * @module
 */
import type { DatabaseSync } from 'node:sqlite'
import { ioError } from './_file-io.js'
import { LedgerError } from './errors.js'

/** An exclusive, cross-process lock; see the module comment. */
export interface WriterLock {
  /** The lock file. */
  readonly path: string
  /** Waits (asynchronously) for the lock; `LOCKED` after the timeout. */
  acquire(): Promise<void>
  /** Releases the lock. Never throws. */
  release(): void
  /** Releases the lock if held and closes the lock file. */
  close(): void
}

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode
  if (code === SQLITE_BUSY || code === SQLITE_LOCKED) return true
  return error instanceof Error && /database is locked|database table is locked/.test(error.message)
}

function wait(attempt: number): Promise<void> {
  if (attempt < 3) return new Promise((resolve) => setImmediate(resolve))
  // 1 ms, 2 ms, then up to 4 ms, jittered so waiters do not poll in step.
  const ms = Math.min(4, 2 ** (attempt - 3)) * (0.5 + Math.random())
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function loadDatabase(path: string): typeof DatabaseSync {
  let mod: typeof import('node:sqlite') | undefined
  try {
    mod = process.getBuiltinModule('node:sqlite')
  } catch {
    mod = undefined
  }
  if (mod?.DatabaseSync === undefined) {
    throw new LedgerError(
      'IO',
      `cannot lock ${path}: the file store's writer lock needs the node:sqlite module (Node.js 22.13 or later)`,
    )
  }
  return mod.DatabaseSync
}

/**
 * Opens (creating if needed) the lock file at `path`. The lock is not taken.
 *
 * @param timeoutMs - how long {@link WriterLock.acquire} waits for a live holder.
 */
export function openWriterLock(path: string, timeoutMs: number): WriterLock {
  const Database = loadDatabase(path)
  let db: DatabaseSync
  try {
    db = new Database(path, { timeout: 0 })
  } catch (error) {
    throw ioError('open the writer lock', path, error)
  }
  let held = false
  let closed = false

  const release = (): void => {
    if (!held) return
    held = false
    try {
      db.exec('COMMIT')
    } catch {
      try {
        db.exec('ROLLBACK')
      } catch {
        // Nothing more to do: closing the database drops the lock.
      }
    }
  }

  return {
    path,
    async acquire() {
      if (closed) throw new LedgerError('CLOSED', `the writer lock ${path} is closed`)
      if (held) throw new LedgerError('LOCKED', `the writer lock ${path} is already held`)
      const deadline = performance.now() + timeoutMs
      for (let attempt = 0; ; attempt++) {
        try {
          db.exec('BEGIN EXCLUSIVE')
          held = true
          return
        } catch (error) {
          if (!isBusy(error)) {
            throw ioError(
              'take the writer lock (delete it if no process uses the ledger)',
              path,
              error,
            )
          }
        }
        if (performance.now() >= deadline) {
          throw new LedgerError(
            'LOCKED',
            `timed out after ${timeoutMs} ms waiting for the writer lock ${path}: another process is holding it`,
          )
        }
        await wait(attempt)
        if (closed) throw new LedgerError('CLOSED', `the writer lock ${path} is closed`)
      }
    },
    release,
    close() {
      if (closed) return
      release()
      closed = true
      try {
        db.close()
      } catch {
        // Already closed.
      }
    },
  }
}
