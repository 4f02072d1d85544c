/**
 * Ledgers and export targets behind a URL scheme (`s3://`, `gs://`,
 * `firestore://`, `postgres://`), served by adapter packages loaded only
 * when a command names one, so the CLI installs and starts without any
 * cloud SDK.
 *
 * An adapter package serves the CLI from its `./cli` entry point, a module
 * shaped as {@link CliAdapterModule} (structurally: the adapter packages do
 * not depend on the CLI).
 *
 * @module
 */
import type { ExportTarget, LedgerStore } from '@baton/ledger'
import { UsageError } from './errors.js'

/** What the CLI passes to an adapter when opening a URL. */
export interface CliAdapterOptions {
  /** The option or argument that named the URL, for messages (`<dir>`, `--to`). */
  readonly name: string
  /** `--endpoint`: an S3-compatible server, or an emulator host. */
  readonly endpoint?: string
  /** Only reads will follow (verify, inspect, export's source). */
  readonly readOnly?: boolean
  /** The environment (credentials and regions come from each cloud's standard chain). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** The `./cli` entry point of an adapter package. */
export interface CliAdapterModule {
  /** Opens (or, unless `readOnly`, creates) the ledger store at `url`. */
  openLedger?(url: URL, options: CliAdapterOptions): Promise<LedgerStore>
  /** The export target at `url`. */
  openTarget?(url: URL, options: CliAdapterOptions): Promise<ExportTarget>
}

/** URL schemes and the packages that serve them. */
const ADAPTER_SCHEMES: Readonly<Record<string, string>> = {
  s3: '@baton/adapters-aws',
  gs: '@baton/adapters-gcp',
  firestore: '@baton/adapters-gcp',
  postgres: '@baton/adapters-postgres',
  postgresql: '@baton/adapters-postgres',
}

/** The lower-cased URL scheme of `spec`, or `undefined` for a path (also `C:\…`). */
export function schemeOf(spec: string): string | undefined {
  if (/^[a-z]:[\\/]/i.test(spec)) return undefined
  return /^([a-z][a-z0-9+.-]*):/i.exec(spec)?.[1]?.toLowerCase()
}

/** Test seam: replaces the dynamic import of an adapter package's `./cli` entry. */
let importer: (specifier: string) => Promise<unknown> = (specifier) => import(specifier)

/** Replaces how adapter modules are imported (tests); returns the previous importer. */
export function setAdapterImporter(
  next: (specifier: string) => Promise<unknown>,
): (specifier: string) => Promise<unknown> {
  const previous = importer
  importer = next
  return previous
}

/**
 * The adapter module serving `scheme`.
 *
 * @throws {@link UsageError} naming `name` and `spec` when no package serves
 *   the scheme or the package is not installed.
 */
export async function loadAdapter(
  scheme: string,
  name: string,
  spec: string,
): Promise<CliAdapterModule> {
  const pkg = ADAPTER_SCHEMES[scheme]
  if (pkg === undefined) {
    throw new UsageError(
      `${name} ${spec}: unknown scheme "${scheme}:"; use a directory path, a file: URL, or one of ${Object.keys(
        ADAPTER_SCHEMES,
      )
        .map((s) => `${s}://`)
        .join(', ')}`,
    )
  }
  return importOptional<CliAdapterModule>(
    `${pkg}/cli`,
    `${name} ${spec}: ${scheme}:// is served by ${pkg}, which is not installed; install it next to @baton/cli`,
  )
}

/**
 * Imports a module of an optional package. A missing package becomes a
 * {@link UsageError} with `missing`; any other failure (a broken install, an
 * error while loading) is thrown as it is.
 */
export async function importOptional<T>(specifier: string, missing: string): Promise<T> {
  try {
    return (await importer(specifier)) as T
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new UsageError(missing)
    throw error
  }
}

/** Parses `spec` as a URL, naming the argument when it is not one. */
export function parseUrl(name: string, spec: string): URL {
  try {
    return new URL(spec)
  } catch {
    throw new UsageError(`${name} ${spec}: not a valid URL`)
  }
}
