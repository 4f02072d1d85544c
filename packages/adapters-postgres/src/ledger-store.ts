/**
 * A {@link LedgerStore} in a PostgreSQL table: one row per receipt, keyed by
 * `(ledger, seq)`. The primary key is the create-only primitive: an insert
 * at a taken `seq` fails (`unique_violation`) and becomes a `ConflictError`,
 * so any number of writers in any number of processes append to one ledger
 * without a coordinator. Rows hold the receipt's canonical bytes (`bytea`,
 * exactly as given) and its leaf hash (for the head); a batch is one
 * statement, so it is written whole or not at all.
 *
 * ```sql
 * CREATE TABLE baton_receipts (
 *   ledger text   NOT NULL,
 *   seq    bigint NOT NULL,
 *   hash   text   NOT NULL,   -- RFC 9162 leaf hash, hex
 *   bytes  bytea  NOT NULL,   -- canonical receipt bytes (RFC 8785)
 *   PRIMARY KEY (ledger, seq));
 * CREATE TABLE baton_receipts_ledgers (name text PRIMARY KEY, anchor jsonb, created_at timestamptz);
 * ```
 *
 * @module
 */
import {
  type Anchor,
  anchorHead,
  ConflictError,
  checkAnchor,
  checkAppendRange,
  type EncodedReceipt,
  InvalidInputError,
  LedgerError,
  type LedgerStore,
  type StoredLine,
  type StoreHead,
  sameAnchor,
} from '@baton/ledger'
import type pg from 'pg'
import {
  type ConnectionOptions,
  describePool,
  identifier,
  messageOf,
  poolFrom,
  positive,
  sqlState,
} from './_sql.js'
import { PostgresConfigError } from './errors.js'

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions extends ConnectionOptions {
  /** The ledger's name: one table holds many ledgers. Default `default`. */
  readonly ledger?: string
  /** The receipts table (lower-case identifier, optionally `schema.table`); default `baton_receipts`. Its ledgers table is `<table>_ledgers`. */
  readonly table?: string
  /** Create the tables and the ledger when missing (needs `CREATE` on the schema). Default false: a missing ledger is `NOT_FOUND`. */
  readonly create?: boolean
  /** With `create`: begin the new ledger at this anchor (see `@baton/ledger` anchors). An existing ledger must have the same anchor. */
  readonly anchor?: Anchor
  /** Rows per query when reading; default 1 000. */
  readonly readBatch?: number
}

/** A ledger store in PostgreSQL. */
export interface PostgresStore extends LedgerStore {
  /** The ledger's name in the table. */
  readonly ledger: string
  /** The receipts table, quoted. */
  readonly table: string
  /** The pool it queries through. */
  readonly pool: pg.Pool
}

interface HeadRow {
  seq_text: string
  hash: string
}

/**
 * Opens (with `create`, creates) a ledger stored in PostgreSQL.
 *
 * @throws {@link PostgresConfigError} naming a bad option; `LedgerError`
 *   `NOT_FOUND` when the ledger does not exist and `create` is false,
 *   `ALREADY_EXISTS` when it exists with another anchor, `IO` when the
 *   server cannot be reached.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore({ connectionString: process.env.DATABASE_URL, ledger: 'orders', create: true })
 * const ledger = createLedger({ store })
 * ```
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  if (typeof options !== 'object' || options === null) {
    throw new PostgresConfigError('options', 'must be an object')
  }
  const ledgerName = options.ledger ?? 'default'
  if (typeof ledgerName !== 'string' || ledgerName === '' || ledgerName.length > 200) {
    throw new PostgresConfigError('ledger', 'must be a non-empty string of at most 200 characters')
  }
  const tableName = options.table ?? 'baton_receipts'
  const table = identifier(tableName, 'table')
  const ledgers = identifier(`${tableName}_ledgers`, 'table')
  const readBatch =
    options.readBatch === undefined ? 1_000 : Math.floor(positive(options.readBatch, 'readBatch'))
  const requested = options.anchor === undefined ? undefined : checkAnchor(options.anchor)
  if (requested !== undefined && options.create !== true) {
    throw new PostgresConfigError(
      'anchor',
      'is only used with create: true (an existing ledger keeps its own)',
    )
  }
  const { pool, owned } = poolFrom(options, '')
  const location = `postgres://${describePool(pool)}?table=${tableName}&ledger=${encodeURIComponent(ledgerName)}`
  const io = (what: string, error: unknown): LedgerError =>
    error instanceof LedgerError
      ? error
      : new LedgerError('IO', `${location}: ${what}: ${messageOf(error)}`, { cause: error })

  let anchor: Anchor | undefined
  try {
    if (options.create === true) {
      const client = await pool.connect()
      const ignore = (): void => undefined
      client.on('error', ignore)
      try {
        await client.query('BEGIN')
        await client.query("SELECT pg_advisory_xact_lock(hashtext('baton.ledger-schema'))")
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${table} (ledger text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (ledger, seq))`,
        )
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${ledgers} (name text PRIMARY KEY, anchor jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
        )
        await client.query(
          `INSERT INTO ${ledgers} (name, anchor) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
          [ledgerName, requested === undefined ? null : JSON.stringify(requested)],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.off('error', ignore)
        client.release()
      }
    }
    let rows: { anchor: unknown }[]
    try {
      rows = (await pool.query(`SELECT anchor FROM ${ledgers} WHERE name = $1`, [ledgerName])).rows
    } catch (error) {
      if (sqlState(error) === '42P01') rows = []
      else throw error
    }
    if (rows[0] === undefined) {
      throw new LedgerError(
        'NOT_FOUND',
        `${location}: no ledger ${JSON.stringify(ledgerName)} (open it with create: true to create it)`,
      )
    }
    anchor = rows[0].anchor === null ? undefined : checkAnchor(rows[0].anchor, 'stored anchor')
    if (options.create === true && !sameAnchor(anchor, requested)) {
      throw new LedgerError(
        'ALREADY_EXISTS',
        `${location}: the ledger exists with ${anchor === undefined ? 'no anchor' : `an anchor at seq ${anchor.seq}`}, not the one given`,
      )
    }
  } catch (error) {
    if (owned) await pool.end().catch(() => undefined)
    if (error instanceof LedgerError || error instanceof InvalidInputError) throw error
    throw io('cannot open the ledger', error)
  }

  const start = anchorHead(anchor)
  const base = start.size
  let closed = false
  const assertOpen = (): void => {
    if (closed) throw new LedgerError('CLOSED', `${location}: the store is closed`)
  }

  const head = async (): Promise<StoreHead> => {
    assertOpen()
    let rows: HeadRow[]
    try {
      rows = (
        await pool.query<HeadRow>(
          `SELECT r.seq::text AS seq_text, r.hash FROM ${table} r WHERE r.ledger = $1 ORDER BY r.seq DESC LIMIT 1`,
          [ledgerName],
        )
      ).rows
    } catch (error) {
      throw io('cannot read the head', error)
    }
    const row = rows[0]
    return row === undefined ? start : { size: Number(row.seq_text) + 1, hash: row.hash }
  }

  const store: PostgresStore = {
    location,
    ledger: ledgerName,
    table,
    pool,
    ...(anchor === undefined ? {} : { anchor }),
    head,
    async append(entries: readonly EncodedReceipt[]): Promise<void> {
      assertOpen()
      if (entries.length === 0) return
      const first = checkAppendRange(entries, base)
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!
        if (!(e.bytes instanceof Uint8Array))
          throw new InvalidInputError(`entries[${i}].bytes`, 'must be a Uint8Array')
        if (typeof e.hash !== 'string')
          throw new InvalidInputError(`entries[${i}].hash`, 'must be a hex string')
      }
      let inserted: number
      try {
        const result = await pool.query(
          `WITH head AS (SELECT coalesce(max(seq) + 1, $5::bigint) AS size FROM ${table} WHERE ledger = $1)
           INSERT INTO ${table} (ledger, seq, hash, bytes)
           SELECT $1, s.seq, s.hash, s.bytes
           FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS s(seq, hash, bytes), head
           WHERE head.size = $6::bigint`,
          [
            ledgerName,
            entries.map((e) => e.seq),
            entries.map((e) => e.hash),
            entries.map((e) => Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength)),
            base,
            first,
          ],
        )
        inserted = result.rowCount ?? 0
      } catch (error) {
        if (sqlState(error) === '23505') {
          throw new ConflictError(first, 0, `seq ${first} is already taken (another writer won)`, {
            cause: error,
          })
        }
        throw io(`cannot append seq ${first}`, error)
      }
      if (inserted === entries.length) return
      if (inserted !== 0) {
        // One statement is atomic: a partial insert would be a server bug.
        throw new LedgerError('IO', `${location}: inserted ${inserted} of ${entries.length} rows`)
      }
      const { size } = await head()
      throw new ConflictError(
        first,
        0,
        first < size
          ? `seq ${first} is already taken (size ${size})`
          : `seq ${first} would leave a gap after ${size}`,
      )
    },
    async *read(from = 0, to?: number): AsyncIterable<StoredLine> {
      assertOpen()
      const end = to ?? (await head()).size
      let next = Math.max(from, base)
      while (next < end) {
        assertOpen()
        let rows: { seq_text: string; bytes: Buffer }[]
        try {
          rows = (
            await pool.query<{ seq_text: string; bytes: Buffer }>(
              `SELECT r.seq::text AS seq_text, r.bytes FROM ${table} r WHERE r.ledger = $1 AND r.seq >= $2 AND r.seq < $3 ORDER BY r.seq LIMIT $4`,
              [ledgerName, next, end, readBatch],
            )
          ).rows
        } catch (error) {
          throw io(`cannot read from seq ${next}`, error)
        }
        for (const row of rows) {
          const seq = Number(row.seq_text)
          yield {
            seq,
            bytes: new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength),
          }
          next = seq + 1
        }
        if (rows.length < readBatch) return
      }
    },
    async close(): Promise<void> {
      if (closed) return
      closed = true
      if (owned) await pool.end().catch(() => undefined)
    },
  }
  return store
}
