/**
 * Resolving the export target a command names: a local directory, as a path
 * or a `file:` URL. Object stores plug in here by URL scheme (`s3://`,
 * `gs://`) when their adapter packages exist; until then they are refused
 * with a clear error.
 *
 * @module
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDirectoryTarget, type ExportTarget } from '@baton/ledger'
import { UsageError } from './errors.js'
import type { CliIo } from './io.js'

/** Object-store schemes that will be served by adapter packages. */
const ADAPTER_SCHEMES: Readonly<Record<string, string>> = {
  s3: '@baton/adapters-aws',
  gs: '@baton/adapters-gcp',
}

/** Options of {@link resolveTarget}. */
export interface ResolveTargetOptions {
  /** The option or argument that named the target, for messages (`--to`, `<target>`). */
  readonly name: string
  /** The target must already exist (reading it); default false (an export creates it). */
  readonly mustExist?: boolean
}

/**
 * The {@link ExportTarget} for `spec`: a path (relative to the working
 * directory) or a `file:` URL.
 *
 * @throws {@link UsageError} naming the argument for an unsupported scheme,
 *   a malformed URL, or (with `mustExist`) a missing directory.
 */
export async function resolveTarget(
  io: CliIo,
  spec: string,
  options: ResolveTargetOptions,
): Promise<ExportTarget> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(spec)?.[1]?.toLowerCase()
  let dir: string
  if (scheme === undefined || /^[a-z]:[\\/]/i.test(spec)) {
    dir = resolve(io.cwd, spec)
  } else if (scheme === 'file') {
    try {
      dir = fileURLToPath(spec)
    } catch (error) {
      throw new UsageError(
        `${options.name} ${spec}: not a valid file: URL (${error instanceof Error ? error.message : String(error)})`,
      )
    }
  } else if (scheme in ADAPTER_SCHEMES) {
    throw new UsageError(
      `${options.name} ${spec}: ${scheme}:// targets come with ${ADAPTER_SCHEMES[scheme]}, which is not available yet; use a local directory`,
    )
  } else {
    throw new UsageError(
      `${options.name} ${spec}: unknown target scheme "${scheme}:"; use a directory path or a file: URL`,
    )
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
