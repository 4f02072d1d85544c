/**
 * The `./cli` entry the baton CLI loads for `gs://` and `firestore://` URLs
 * (it matches the CLI's adapter module shape structurally; nothing here
 * imports the CLI):
 *
 * - `gs://bucket/prefix`: a {@link openGcsStore Cloud Storage ledger} or a
 *   {@link createGcsTarget Cloud Storage export target};
 * - `firestore://project/collection/document[?database=id]`: a
 *   {@link openFirestoreStore Firestore ledger} (not an export target).
 *
 * The endpoint is `--endpoint` / `BATON_ENDPOINT`, else the emulator
 * variables the Google Cloud tools use (`STORAGE_EMULATOR_HOST`,
 * `FIRESTORE_EMULATOR_HOST`); credentials come from the standard chain.
 *
 * @module
 */
import { ConfigError } from '@baton/core'
import type { ExportTarget, LedgerStore } from '@baton/ledger'
import { openFirestoreStore } from './firestore-store.js'
import { openGcsStore } from './gcs-store.js'
import { createGcsTarget } from './gcs-target.js'

/** What the CLI passes when it opens a URL (the shape of its `CliAdapterOptions`). */
export interface CliOptions {
  /** The option or argument that named the URL, for messages. */
  readonly name: string
  /** `--endpoint` / `BATON_ENDPOINT`. */
  readonly endpoint?: string
  /** Only reads will follow. */
  readonly readOnly?: boolean
  /** The environment. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Opens the ledger at a `gs://` or `firestore://` URL. */
export async function openLedger(url: URL, options: CliOptions): Promise<LedgerStore> {
  if (url.protocol === 'gs:') {
    const { bucket, prefix } = gsParts(url, options.name)
    const endpoint = options.endpoint ?? emulator(options.env.STORAGE_EMULATOR_HOST)
    return openGcsStore({ bucket, prefix, ...(endpoint === undefined ? {} : { endpoint }) })
  }
  if (url.protocol === 'firestore:') {
    const projectId = url.hostname
    const path = decodeURIComponent(url.pathname.replace(/^\/+/, ''))
    if (projectId === '' || path === '') {
      throw new ConfigError(
        options.name,
        `${url.href}: give firestore://<project>/<collection>/<document>`,
      )
    }
    const endpoint = options.endpoint ?? options.env.FIRESTORE_EMULATOR_HOST
    const databaseId = url.searchParams.get('database') ?? undefined
    return openFirestoreStore({
      projectId,
      path,
      ...(databaseId === undefined ? {} : { databaseId }),
      ...(endpoint === undefined || endpoint === '' ? {} : { endpoint }),
    })
  }
  throw new ConfigError(
    options.name,
    `${url.href}: @baton/adapters-gcp serves gs:// and firestore://`,
  )
}

/** The export target at a `gs://` URL. */
export async function openTarget(url: URL, options: CliOptions): Promise<ExportTarget> {
  if (url.protocol !== 'gs:') {
    throw new ConfigError(
      options.name,
      `${url.href}: export targets on Google Cloud are gs://bucket/prefix (Firestore holds ledgers, not exports)`,
    )
  }
  const { bucket, prefix } = gsParts(url, options.name)
  const endpoint = options.endpoint ?? emulator(options.env.STORAGE_EMULATOR_HOST)
  return createGcsTarget({ bucket, prefix, ...(endpoint === undefined ? {} : { endpoint }) })
}

function gsParts(url: URL, name: string): { bucket: string; prefix: string } {
  if (url.hostname === '') throw new ConfigError(name, `${url.href}: give gs://<bucket>/<prefix>`)
  return {
    bucket: url.hostname,
    prefix: decodeURIComponent(url.pathname.replace(/^\/+/, '').replace(/\/+$/, '')),
  }
}

/** `STORAGE_EMULATOR_HOST` may be given with or without a scheme. */
function emulator(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined
  return /^https?:\/\//.test(host) ? host : `http://${host}`
}
