/**
 * Opening the ledger a command names.
 *
 * @module
 */
import { resolve } from 'node:path'
import { type FileStore, openFileStore } from '@baton/ledger'
import type { CliIo } from './io.js'

/** Opens the file ledger at `dir` (relative to the working directory). */
export function openLedgerDir(
  io: CliIo,
  dir: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<FileStore> {
  return openFileStore(resolve(io.cwd, dir), options.readOnly === true ? { readOnly: true } : {})
}
