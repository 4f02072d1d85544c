/**
 * Opening the ledger a command names: a directory (the file store), or a
 * URL an adapter package serves (`s3://bucket/prefix`, `firestore://…`,
 * `postgres://…`; see `_adapters.ts`).
 *
 * @module
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type FileStore, type LedgerStore, openFileStore } from '@baton/ledger'
import { loadAdapter, parseUrl, schemeOf } from './_adapters.js'
import { UsageError } from './errors.js'
import type { CliIo } from './io.js'

/** Options of {@link openLedgerDir} and {@link openLedger}. */
export interface OpenLedgerOptions {
  /** Only reads follow. */
  readonly readOnly?: boolean
  /** The argument that named the ledger, for messages (default `<dir>`). */
  readonly name?: string
}

/** Opens the file ledger at `dir` (relative to the working directory). */
export function openLedgerDir(
  io: CliIo,
  dir: string,
  options: OpenLedgerOptions = {},
): Promise<FileStore> {
  return openFileStore(resolve(io.cwd, dir), options.readOnly === true ? { readOnly: true } : {})
}

/**
 * Opens the ledger at `spec`: a directory or `file:` URL (the file store),
 * or a URL whose scheme an adapter package serves.
 *
 * @throws {@link UsageError} for an unknown scheme, an adapter that is not
 *   installed or cannot hold ledgers, or a malformed URL.
 */
export async function openLedger(
  io: CliIo,
  spec: string,
  options: OpenLedgerOptions = {},
): Promise<LedgerStore> {
  const name = options.name ?? '<dir>'
  const scheme = schemeOf(spec)
  if (scheme === undefined) return openLedgerDir(io, spec, options)
  if (scheme === 'file') {
    let dir: string
    try {
      dir = fileURLToPath(spec)
    } catch {
      throw new UsageError(`${name} ${spec}: not a valid file: URL`)
    }
    return openLedgerDir(io, dir, options)
  }
  const adapter = await loadAdapter(scheme, name, spec)
  if (adapter.openLedger === undefined) {
    throw new UsageError(`${name} ${spec}: ${scheme}:// cannot hold a ledger`)
  }
  const endpoint = io.env.BATON_ENDPOINT
  return adapter.openLedger(parseUrl(name, spec), {
    name,
    env: io.env,
    ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
    ...(endpoint === undefined ? {} : { endpoint }),
  })
}
