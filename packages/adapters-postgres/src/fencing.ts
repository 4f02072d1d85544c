/**
 * A fencing check a host application adds to its own writes: a row in the
 * application's database holds the highest fencing epoch seen (raised by
 * baton when it promotes), and every fenced write runs in a transaction that
 * first takes a share lock on that row and refuses an older epoch. Raising
 * the epoch waits for fenced writes in flight (the share lock) and every
 * write after it sees the new epoch, so a writer that lost its lease cannot
 * write after the new primary was fenced to the new epoch.
 *
 * ```sql
 * CREATE TABLE baton_fence (name text PRIMARY KEY, epoch bigint NOT NULL);
 * ```
 *
 * @module
 */
import { FencedError } from '@baton/core'
import pg from 'pg'
import { identifier, type Queryable, sqlState } from './_sql.js'
import { PostgresConfigError, PostgresError } from './errors.js'

/** Options of {@link createFencing}. */
export interface FencingOptions {
  /** The fence table (lower-case identifier, optionally `schema.table`); default `baton_fence`. */
  readonly table?: string
  /** The fence's row name (one per protected resource); default `default`. */
  readonly name?: string
}

/** Fenced writes on one fence row. */
export interface Fencing {
  /** The fence table, quoted. */
  readonly table: string
  /** The row name. */
  readonly name: string
  /** Creates the table and the row (epoch 0) when missing. Run on a primary. */
  ensure(db: Queryable): Promise<void>
  /** Raises the stored epoch to `epoch` (never lowers it); returns the stored epoch after. */
  raise(db: Queryable, epoch: number): Promise<number>
  /** The stored epoch (0 when the row or table is missing). */
  current(db: Queryable): Promise<number>
  /**
   * Inside a transaction the caller opened on `client`: locks the fence row
   * (shared) and throws `FENCED` if the stored epoch is higher than `epoch`.
   */
  check(client: Queryable, epoch: number): Promise<void>
  /**
   * Runs `work` in a transaction on a client of `pool` after {@link check};
   * commits when it resolves, rolls back when it throws.
   *
   * @throws `FencedError` (`FENCED`) for a stale epoch; `work`'s error.
   */
  write<T>(pool: pg.Pool, epoch: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T>
}

/**
 * A fencing check for a host application's writes.
 *
 * @example
 * ```ts
 * const fencing = createFencing({ name: 'orders' })
 * await fencing.write(pool, grant.epoch, (client) => client.query('INSERT INTO orders …'))
 * ```
 */
export function createFencing(options: FencingOptions = {}): Fencing {
  const tableName = options.table ?? 'baton_fence'
  const table = identifier(tableName, 'table')
  const name = options.name ?? 'default'
  if (typeof name !== 'string' || name === '')
    throw new PostgresConfigError('name', 'must be a non-empty string')
  const checkEpoch = (epoch: unknown): number => {
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) {
      throw new PostgresConfigError('epoch', `must be a non-negative integer, got ${String(epoch)}`)
    }
    return epoch
  }

  const self: Fencing = {
    table,
    name,
    async ensure(db) {
      await db.query(
        `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, epoch bigint NOT NULL)`,
      )
      await db.query(
        `INSERT INTO ${table} (name, epoch) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`,
        [name],
      )
    },
    async raise(db, epoch) {
      const e = checkEpoch(epoch)
      const { rows } = await db.query<{ epoch: string }>(
        `INSERT INTO ${table} AS f (name, epoch) VALUES ($1, $2) ON CONFLICT (name)
         DO UPDATE SET epoch = greatest(f.epoch, excluded.epoch) RETURNING epoch::text AS epoch`,
        [name, e],
      )
      return Number(rows[0]?.epoch ?? e)
    },
    async current(db) {
      try {
        const { rows } = await db.query<{ epoch: string }>(
          `SELECT epoch::text AS epoch FROM ${table} WHERE name = $1`,
          [name],
        )
        return Number(rows[0]?.epoch ?? 0)
      } catch (error) {
        if (sqlState(error) === '42P01') return 0
        throw error
      }
    },
    async check(client, epoch) {
      const e = checkEpoch(epoch)
      const { rows } = await client.query<{ epoch: string }>(
        `SELECT epoch::text AS epoch FROM ${table} WHERE name = $1 FOR SHARE`,
        [name],
      )
      const stored = Number(rows[0]?.epoch ?? 0)
      if (stored > e) throw new FencedError(e, stored, `write fenced by ${tableName}/${name}`)
    },
    async write(pool, epoch, work) {
      const client = await pool.connect()
      // A server that dies mid-transaction makes a checked-out client emit 'error': the query rejects anyway.
      const ignore = (): void => undefined
      client.on('error', ignore)
      try {
        await client.query('BEGIN')
        await self.check(client, epoch)
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error instanceof pg.DatabaseError
          ? new PostgresError('ADAPTER', `fenced write failed: ${error.message}`, { cause: error })
          : error
      } finally {
        client.off('error', ignore)
        client.release()
      }
    },
  }
  return self
}
