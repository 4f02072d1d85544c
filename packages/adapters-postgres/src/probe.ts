/**
 * A {@link Probe} of a region's PostgreSQL: connect, write a health row,
 * read it back, within a time limit, on a fresh connection each time (a
 * pooled connection would hide a server that stopped accepting new ones).
 * A standby (read-only) fails the write: the probe checks that the region
 * can take writes, which is what a primary region must do.
 *
 * @module
 */

import type { CallContext, Probe, ProbeSample, RegionId } from '@baton/core'
import { isBatonError } from '@baton/ledger'
import pg from 'pg'
import { bounded, identifier, messageOf, positive, throwIfAborted } from './_sql.js'
import { PostgresConfigError } from './errors.js'

/** Options of {@link createPostgresProbe}. */
export interface PostgresProbeOptions {
  /** The region it checks. */
  readonly region: RegionId
  /** Connection string of the region's server. */
  readonly connectionString: string
  /** Table of health rows (one per region); default `baton_health`. */
  readonly table?: string
  /** Time limit of one check (connect + write + read), ms; default 2 000. */
  readonly timeoutMs?: number
  /** Read only (`SELECT 1`), for a standby region; default false (write + read). */
  readonly readOnly?: boolean
  /** Clock for `at`; default `Date.now`. */
  readonly now?: () => number
}

/** SQLSTATE undefined_table. */
const UNDEFINED_TABLE = '42P01'

/**
 * A probe that connects to a region's PostgreSQL and writes and reads a row.
 *
 * @throws {@link PostgresConfigError} naming a bad option.
 */
export function createPostgresProbe(options: PostgresProbeOptions): Probe {
  if (typeof options !== 'object' || options === null)
    throw new PostgresConfigError('options', 'must be an object')
  if (typeof options.region !== 'string' || options.region === '') {
    throw new PostgresConfigError('region', 'must be a non-empty string')
  }
  if (
    typeof options.connectionString !== 'string' ||
    !/^postgres(ql)?:\/\//.test(options.connectionString)
  ) {
    throw new PostgresConfigError('connectionString', 'must be a postgres:// URL')
  }
  const table = identifier(options.table ?? 'baton_health', 'table')
  const timeoutMs =
    options.timeoutMs === undefined ? 2_000 : positive(options.timeoutMs, 'timeoutMs')
  const now = options.now ?? Date.now
  const { region, connectionString } = options
  const where = new URL(connectionString)
  const name = `postgres:${where.hostname}:${where.port || '5432'}${where.pathname}`

  // The health table is created by the first check that writes, not by every one.
  let tableMade = false
  return {
    name,
    region,
    async check(ctx: CallContext): Promise<ProbeSample> {
      throwIfAborted(ctx.signal, `${name}: check`)
      const started = performance.now()
      const client = new pg.Client({
        connectionString,
        connectionTimeoutMillis: timeoutMs,
        statement_timeout: timeoutMs,
      })
      client.on('error', () => undefined)
      const work = (async () => {
        await client.connect()
        if (options.readOnly === true) {
          await client.query('SELECT 1')
          return
        }
        const token = `${now()}-${Math.random().toString(36).slice(2)}`
        if (!tableMade) {
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${table} (region text PRIMARY KEY, token text NOT NULL, at timestamptz NOT NULL)`,
          )
          tableMade = true
        }
        try {
          await client.query(
            `INSERT INTO ${table} (region, token, at) VALUES ($1, $2, clock_timestamp())
             ON CONFLICT (region) DO UPDATE SET token = excluded.token, at = excluded.at`,
            [region, token],
          )
        } catch (error) {
          // The table is gone (a rebuilt server): create it on the next check.
          if ((error as { code?: string }).code === UNDEFINED_TABLE) tableMade = false
          throw error
        }
        const { rows } = await client.query<{ token: string }>(
          `SELECT token FROM ${table} WHERE region = $1`,
          [region],
        )
        if (rows[0]?.token !== token)
          throw new Error('the health row read back differs from the one written')
      })()
      try {
        await bounded(work, timeoutMs, `${name}: check`, ctx.signal)
        return { region, ok: true, at: now(), latencyMs: performance.now() - started }
      } catch (error) {
        if (isBatonError(error, 'ABORTED')) throw error
        return {
          region,
          ok: false,
          at: now(),
          latencyMs: performance.now() - started,
          error: messageOf(error),
        }
      } finally {
        // Ends a hanging connection too (its socket is destroyed).
        void client.end().catch(() => undefined)
      }
    },
  }
}
