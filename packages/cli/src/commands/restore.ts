/**
 * `baton restore <target> --into <dir> [--up-to N] --key VKEY… [--json]`:
 * restore the newest state an export proves (or receipts `0..N`) into a new
 * or empty file ledger, and record what was restored, retired and lost as a
 * `ledger.restored` receipt.
 *
 * After retention has deleted the oldest bundles, the restored ledger begins
 * at an anchor (the end of the manifest entry before the newest run of
 * bundles still present): the command creates `--into` as a file ledger
 * with that anchor. An existing empty ledger can only be restored into when
 * it begins at the anchor the export needs.
 *
 * Exit codes: 0 restored, nothing lost (receipts retired by retention are
 * not lost); 1 corruption found (restored with loss, or nothing could be
 * proven); 2 usage or I/O error, a non-empty `--into`, or bundles gone.
 *
 * @module
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  type FileStore,
  isBatonError,
  type LedgerStore,
  openFileStore,
  planRestore,
  type RestoreInto,
  restore,
  sameAnchor,
} from '@baton/ledger'
import { restoreSummary } from '../_export-format.js'
import { readVerifierKeys } from '../_key-args.js'
import { resolveTarget } from '../_target.js'
import { describeError, EXIT_INTEGRITY, EXIT_OK, UsageError } from '../errors.js'
import { type CliIo, println } from '../io.js'
import { createProgress } from '../progress.js'

/** Options of `baton restore`. */
export interface RestoreCommandOptions {
  /** The ledger directory to restore into: missing, empty, or an empty ledger. */
  readonly into: string
  /** Restore receipts `0..upTo` only. */
  readonly upTo?: number
  /** Verifier keys (text, or files of one key per line). */
  readonly key?: readonly string[]
  /** Print JSON instead of the summary. */
  readonly json: boolean
  /** Problems listed in the readable summary. */
  readonly show: number
}

/** The entries of `dir`, or `undefined` when it does not exist. */
async function entriesOf(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Runs `baton restore`. */
export async function restoreCommand(
  io: CliIo,
  spec: string,
  options: RestoreCommandOptions,
): Promise<number> {
  const keys = await readVerifierKeys(io, options.key)
  const target = await resolveTarget(io, spec, { name: '<target>', mustExist: true })
  const dir = resolve(io.cwd, options.into)
  const existed = await stat(dir).then(
    () => true,
    () => false,
  )
  const upTo = options.upTo === undefined ? {} : { upTo: options.upTo }
  const listing = await entriesOf(dir)
  const hasLedger = listing?.includes('baton-ledger.json') === true
  if (listing !== undefined && listing.length > 0 && !hasLedger) {
    throw new UsageError(
      `--into ${dir} is not empty and holds no baton ledger; restore into a new or empty directory`,
    )
  }
  /** The store restored into: an existing (empty) ledger, or the one the restore creates. */
  let store: FileStore | undefined
  let into: RestoreInto
  if (hasLedger) {
    store = await openFileStore(dir)
    into = store
    try {
      const { size } = await store.head()
      const base = store.anchor?.seq ?? 0
      if (size === base) {
        const plan = await planRestore(target, { keys, ...upTo })
        if (!sameAnchor(store.anchor, plan.anchor)) {
          throw new UsageError(
            plan.anchor === undefined
              ? `--into ${dir} is a ledger that begins at an anchor (seq ${base}), but the export holds every bundle from receipt 0; restore into a new or empty directory`
              : `the export's bundles before receipt ${plan.anchor.seq} are gone (retention), so the restored ledger must begin at an anchor, and --into ${dir} ${store.anchor === undefined ? 'is a ledger that begins at receipt 0' : `begins at another anchor (seq ${base})`}; restore into a new or empty directory and baton restore creates the anchored ledger`,
          )
        }
      }
    } catch (error) {
      await store.close()
      throw error
    }
  } else {
    into = async (anchor): Promise<LedgerStore> => {
      store = await openFileStore(dir, {
        create: true,
        ...(anchor === undefined ? {} : { anchor }),
      })
      return store
    }
  }
  const progress = createProgress(io, 'Restoring', options.json, 'receipts')
  let result: Awaited<ReturnType<typeof restore>>
  let failed = true
  try {
    result = await restore(target, into, {
      keys,
      ...upTo,
      onProgress: (p) => progress.update(p.receipts, p.totalReceipts, p.receipts),
    })
    failed = false
  } catch (error) {
    if (!isBatonError(error, 'CORRUPT')) throw error
    io.stderr.write(`${describeError(error)}\n`)
    return EXIT_INTEGRITY
  } finally {
    progress.stop()
    const opened = store as FileStore | undefined
    if (opened !== undefined) {
      const base = opened.anchor?.seq ?? 0
      const size = failed ? (await opened.head().catch(() => ({ size: -1 }))).size : -1
      await opened.close()
      // A ledger this command created and wrote nothing to is removed again.
      if (failed && !hasLedger && size === base) {
        if (existed) {
          for (const name of (await entriesOf(dir)) ?? []) {
            await rm(join(dir, name), { recursive: true, force: true })
          }
        } else await rm(dir, { recursive: true, force: true })
      }
    }
  }
  const location = (store as FileStore | undefined)?.location ?? `file:${dir}`
  if (options.json) {
    println(
      io.stdout,
      JSON.stringify({ target: target.location, into: location, ...result }, null, 2),
    )
  } else {
    for (const line of restoreSummary(result, target.location, location, options.show)) {
      println(io.stdout, line)
    }
  }
  return result.lost.count === 0 ? EXIT_OK : EXIT_INTEGRITY
}
