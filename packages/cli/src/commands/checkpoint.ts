/**
 * `baton checkpoint <dir> --key FILE|- [--origin O] [--out FILE] [--json]`:
 * brings the ledger's tree state up to date (reading only the receipts
 * appended since the last time) and signs a C2SP checkpoint of the whole
 * ledger. The signer key comes from `--key` (repeatable: sign with old and
 * new keys during a rotation) or `BATON_SIGNER_KEY`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type FileHandle, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { InvalidInputError, signCheckpoint } from '@baton/ledger'
import { readSignerKeys } from '../_key-args.js'
import { openUpdatedTree, updateJson } from '../_tree-update.js'
import { EXIT_OK, UsageError } from '../errors.js'
import { count } from '../format.js'
import { type CliIo, println } from '../io.js'

/** Options of `baton checkpoint`. */
export interface CheckpointOptions {
  /** Signer key files (`-`: standard input); default: `BATON_SIGNER_KEY`. */
  readonly key?: readonly string[]
  /** The log's origin line; default the first key's name. */
  readonly origin?: string
  /** Write the signed note to this file (atomically) instead of standard output. */
  readonly out?: string
  /** Recompute the tree state from every receipt instead of updating it. */
  readonly rebuild?: boolean
  readonly json: boolean
}

/** Writes `text` to `path` atomically (temp file, fsync, rename). */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  let fh: FileHandle | undefined
  try {
    fh = await open(tmp, 'wx', 0o644)
    await fh.writeFile(text, 'utf8')
    await fh.sync()
    await fh.close()
    fh = undefined
    await rename(tmp, path)
  } catch (error) {
    await fh?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    throw new UsageError(
      `--out ${path}: cannot write it (${error instanceof Error ? error.message : String(error)})`,
    )
  }
}

/** Runs `baton checkpoint`. */
export async function checkpointCommand(
  io: CliIo,
  dir: string,
  options: CheckpointOptions,
): Promise<number> {
  const signers = await readSignerKeys(io, options.key)
  const origin = options.origin ?? signers[0]!.name
  const { store, state, update } = await openUpdatedTree(io, dir, options.json, {
    rebuild: options.rebuild === true,
  })
  let note: string
  let root: Uint8Array
  try {
    root = await state.root()
    try {
      note = signCheckpoint({ origin, size: state.size, root }, signers)
    } catch (error) {
      if (error instanceof InvalidInputError && error.path === 'origin') {
        throw new UsageError(`--origin: ${error.reason}`)
      }
      throw error
    }
  } finally {
    await store.close()
  }
  const out = options.out === undefined ? undefined : resolve(io.cwd, options.out)
  if (out !== undefined) await writeAtomic(out, note)
  if (options.json) {
    println(
      io.stdout,
      JSON.stringify(
        {
          ledger: store.location,
          origin,
          size: state.size,
          root: Buffer.from(root).toString('base64'),
          signedBy: signers.map((s) => s.name),
          note,
          ...(out === undefined ? {} : { out }),
          treeState: updateJson(update),
        },
        null,
        2,
      ),
    )
  } else if (out !== undefined) {
    println(io.stdout, `Checkpoint of ${count(state.size)} receipts written to ${out}`)
    println(io.stdout, `Root: ${Buffer.from(root).toString('base64')}`)
  } else {
    io.stdout.write(note)
  }
  return EXIT_OK
}
