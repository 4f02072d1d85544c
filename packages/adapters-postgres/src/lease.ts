/**
 * A {@link Lease} in a PostgreSQL table row. Every change is one conditional
 * statement (an `INSERT … ON CONFLICT DO UPDATE … WHERE` or an `UPDATE …
 * WHERE holder = $ AND epoch = $`), so concurrent acquirers on any number of
 * connections and machines serialize on the row lock and exactly one wins.
 * The fencing epoch only ever grows: it survives release and expiry in the
 * row. Expiry is measured on the server's clock (`clock_timestamp()`), so
 * clients with skewed clocks agree.
 *
 * ```sql
 * CREATE TABLE baton_leases (
 *   name       text PRIMARY KEY,
 *   holder     text,          -- NULL when free
 *   epoch      bigint NOT NULL,
 *   expires_at timestamptz);
 * ```
 *
 * @module
 */
import type { Lease, LeaseGrant } from '@baton/core'
import type pg from 'pg'
import {
  type ConnectionOptions,
  describePool,
  identifier,
  messageOf,
  poolFrom,
  positive,
} from './_sql.js'
import { PostgresConfigError, PostgresError } from './errors.js'

/** Options of {@link createPostgresLease}. */
export interface PostgresLeaseOptions extends ConnectionOptions {
  /** The lease's name (its row); default `default`. */
  readonly lease?: string
  /** The leases table (lower-case identifier, optionally `schema.table`); default `baton_leases`. */
  readonly table?: string
  /** Create the table when missing (needs `CREATE`); default true. */
  readonly create?: boolean
}

/** A lease in PostgreSQL. */
export interface PostgresLease extends Lease {
  /** The pool it queries through. */
  readonly pool: pg.Pool
  /** The leases table, quoted. */
  readonly table: string
  /** The lease's row name. */
  readonly lease: string
  /** Ends the pool if the lease built it. */
  close(): Promise<void>
}

interface GrantRow {
  holder: string
  epoch: string
  expires_ms: string
}

const grantOf = (row: GrantRow | undefined): LeaseGrant | undefined =>
  row === undefined
    ? undefined
    : {
        holder: row.holder,
        epoch: Number(row.epoch),
        expiresAt: Math.floor(Number(row.expires_ms)),
      }

const RETURNING = `RETURNING holder, epoch::text AS epoch, (extract(epoch FROM expires_at) * 1000)::text AS expires_ms`

/**
 * A lease stored in a row of a PostgreSQL table.
 *
 * @throws {@link PostgresConfigError} naming a bad option.
 *
 * @example
 * ```ts
 * const lease = await createPostgresLease({ connectionString: process.env.DATABASE_URL, lease: 'orders' })
 * const grant = await lease.acquire(instanceId, 30_000)
 * ```
 */
export async function createPostgresLease(options: PostgresLeaseOptions): Promise<PostgresLease> {
  if (typeof options !== 'object' || options === null) {
    throw new PostgresConfigError('options', 'must be an object')
  }
  const leaseName = options.lease ?? 'default'
  if (typeof leaseName !== 'string' || leaseName === '' || leaseName.length > 200) {
    throw new PostgresConfigError('lease', 'must be a non-empty string of at most 200 characters')
  }
  const tableName = options.table ?? 'baton_leases'
  const table = identifier(tableName, 'table')
  const { pool, owned } = poolFrom(options, '')
  const name = `postgres://${describePool(pool)}?table=${tableName}&lease=${encodeURIComponent(leaseName)}`
  const fail = (what: string, error: unknown): PostgresError =>
    new PostgresError('ADAPTER', `${name}: ${what}: ${messageOf(error)}`, { cause: error })

  if (options.create !== false) {
    try {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, holder text, epoch bigint NOT NULL, expires_at timestamptz)`,
      )
    } catch (error) {
      // Two creators racing on CREATE TABLE IF NOT EXISTS can collide on the catalog: the table exists.
      const exists = await pool.query(`SELECT 1 FROM ${table} LIMIT 0`).then(
        () => true,
        () => false,
      )
      if (!exists) {
        if (owned) await pool.end().catch(() => undefined)
        throw fail('cannot create the leases table', error)
      }
    }
  }

  const ttl = (ms: unknown, path: string): number => Math.ceil(positive(ms, path))
  const holderOf = (holder: unknown): string => {
    if (typeof holder !== 'string' || holder === '')
      throw new PostgresConfigError('holder', 'must be a non-empty string')
    return holder
  }

  return {
    name,
    pool,
    table,
    lease: leaseName,
    async acquire(holder, ttlMs) {
      const h = holderOf(holder)
      const ms = ttl(ttlMs, 'ttlMs')
      try {
        const { rows } = await pool.query<GrantRow>(
          `INSERT INTO ${table} AS l (name, holder, epoch, expires_at)
           VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
           ON CONFLICT (name) DO UPDATE SET
             holder = excluded.holder,
             epoch = CASE WHEN l.holder = excluded.holder AND l.expires_at > clock_timestamp() THEN l.epoch ELSE l.epoch + 1 END,
             expires_at = CASE WHEN l.holder = excluded.holder AND l.expires_at > clock_timestamp()
                               THEN greatest(l.expires_at, excluded.expires_at) ELSE excluded.expires_at END
           WHERE l.holder IS NULL OR l.expires_at <= clock_timestamp() OR l.holder = excluded.holder
           ${RETURNING}`,
          [leaseName, h, ms],
        )
        return grantOf(rows[0])
      } catch (error) {
        throw fail(`acquire for ${h}`, error)
      }
    },
    async renew(grant, ttlMs) {
      const ms = ttl(ttlMs, 'ttlMs')
      try {
        const { rows } = await pool.query<GrantRow>(
          `UPDATE ${table} SET expires_at = greatest(expires_at, clock_timestamp() + $4 * interval '1 millisecond')
           WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()
           ${RETURNING}`,
          [leaseName, grant.holder, grant.epoch, ms],
        )
        return grantOf(rows[0])
      } catch (error) {
        throw fail(`renew for ${grant.holder}`, error)
      }
    },
    async release(grant) {
      try {
        await pool.query(
          `UPDATE ${table} SET holder = NULL, expires_at = NULL WHERE name = $1 AND holder = $2 AND epoch = $3`,
          [leaseName, grant.holder, grant.epoch],
        )
      } catch (error) {
        throw fail(`release for ${grant.holder}`, error)
      }
    },
    async current() {
      try {
        const { rows } = await pool.query<GrantRow>(
          `SELECT holder, epoch::text AS epoch, (extract(epoch FROM expires_at) * 1000)::text AS expires_ms
           FROM ${table} WHERE name = $1 AND holder IS NOT NULL AND expires_at > clock_timestamp()`,
          [leaseName],
        )
        return grantOf(rows[0])
      } catch (error) {
        throw fail('current', error)
      }
    },
    async close() {
      if (owned) await pool.end().catch(() => undefined)
    },
  }
}
