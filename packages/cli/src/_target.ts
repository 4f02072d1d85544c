/**
 * Resolving the export target a command names: a local directory, as a path
 * or a `file:` URL, or an object store by URL scheme (`s3://`, `gs://`),
 * served by its adapter package (see `_adapters.ts`).
 *
 * @module
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDirectoryTarget, type ExportTarget } from '@baton/ledger'
import { loadAdapter, parseUrl, schemeOf } from './_adapters.js'
import { UsageError } from './errors.js'
import type { CliIo } from './io.js'

/** Options of {@link resolveTarget}. */
export interface ResolveTargetOptions {
  /** The option or argument that named the target, for messages (`--to`, `<target>`). */
  readonly name: string
  /** The target must already exist (reading it); default false (an export creates it). */
  readonly mustExist?: boolean
}

/**
 * The {@link ExportTarget} for `spec`: a path (relative to the working
 * directory), a `file:` URL, or a URL an adapter package serves.
 *
 * @throws {@link UsageError} naming the argument for an unknown scheme, an
 *   adapter that is not installed, a malformed URL, or (with `mustExist`) a
 *   missing directory.
 */
export async function resolveTarget(
  io: CliIo,
  spec: string,
  options: ResolveTargetOptions,
): Promise<ExportTarget> {
  const scheme = schemeOf(spec)
  let dir: string
  if (scheme === undefined) {
    dir = resolve(io.cwd, spec)
  } else if (scheme === 'file') {
    try {
      dir = fileURLToPath(spec)
    } catch (error) {
      throw new UsageError(
        `${options.name} ${spec}: not a valid file: URL (${error instanceof Error ? error.message : String(error)})`,
      )
    }
  } else {
    const adapter = await loadAdapter(scheme, options.name, spec)
    if (adapter.openTarget === undefined) {
      throw new UsageError(`${options.name} ${spec}: ${scheme}:// cannot hold exports`)
    }
    const endpoint = io.env.BATON_ENDPOINT
    return adapter.openTarget(parseUrl(options.name, spec), {
      name: options.name,
      env: io.env,
      readOnly: options.mustExist === true,
      ...(endpoint === undefined ? {} : { endpoint }),
    })
  }
  if (options.mustExist === true) {
    const isDir = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    )
    if (!isDir) throw new UsageError(`${options.name} ${spec}: no such directory`)
  }
  return createDirectoryTarget(dir)
}
