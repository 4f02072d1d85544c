/**
 * The `baton` CLI's seam for `postgres://` (and `postgresql://`) ledgers:
 * `baton verify postgres://user@host:5432/db?ledger=orders`,
 * `baton append postgres://…`, `baton export postgres://… --to …`.
 *
 * URL parameters (removed before connecting): `ledger` (default
 * `default`), `table` (default `baton_receipts`). Everything else of the
 * URL is the connection string (`sslmode`, credentials, …); `PGPASSWORD`
 * and the other libpq variables apply as usual. `--endpoint` is not used.
 *
 * @module
 */
import type { LedgerStore } from '@baton/ledger'
import { openPostgresStore } from './ledger-store.js'

/** What the CLI passes when opening a URL (structurally the CLI's `CliAdapterOptions`). */
export interface CliAdapterOptions {
  /** The option or argument that named the URL, for messages. */
  readonly name: string
  /** `--endpoint`: not used by PostgreSQL URLs. */
  readonly endpoint?: string
  /** Only reads will follow: the ledger must exist (nothing is created). */
  readonly readOnly?: boolean
  /** The environment. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** Splits a `postgres://…?ledger=…&table=…` URL into the store's options. */
export function storeOptionsFromUrl(url: URL): {
  readonly connectionString: string
  readonly ledger: string
  readonly table: string
} {
  const copy = new URL(url.href)
  const ledger = copy.searchParams.get('ledger') ?? 'default'
  const table = copy.searchParams.get('table') ?? 'baton_receipts'
  copy.searchParams.delete('ledger')
  copy.searchParams.delete('table')
  if (copy.protocol === 'postgresql:') copy.protocol = 'postgres:'
  return { connectionString: copy.href, ledger, table }
}

/**
 * Opens the ledger at `url`; creates its tables and the ledger unless
 * `options.readOnly`.
 */
export async function openLedger(url: URL, options: CliAdapterOptions): Promise<LedgerStore> {
  const { connectionString, ledger, table } = storeOptionsFromUrl(url)
  return openPostgresStore({ connectionString, ledger, table, create: options.readOnly !== true })
}
