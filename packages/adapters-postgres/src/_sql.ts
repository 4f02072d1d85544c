/**
 * Internal helpers shared by the adapters: identifier checks, pools,
 * timeouts and the driver's error codes.
 *
 * @module
 */
import { CoreError, createSystemClock } from '@baton/core'
import pg from 'pg'
import { PostgresConfigError } from './errors.js'

/** A pool or client: what every adapter queries through. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>

/** Connection options accepted by every adapter: a pool the caller built, or how to build one. */
export interface ConnectionOptions {
  /** A pool the caller built and owns (not ended by `close`). */
  readonly pool?: pg.Pool
  /** A connection string (`postgres://user@host:port/db`); used when `pool` is absent. */
  readonly connectionString?: string
  /** Pool size when the adapter builds the pool; default 4. */
  readonly maxConnections?: number
  /** Time limit to open a connection, ms; default 5 000. */
  readonly connectTimeoutMs?: number
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/

/** Checks a (lower-case, unquoted) SQL identifier, optionally `schema.name`; returns it quoted. */
export function identifier(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new PostgresConfigError(path, 'must be a string')
  const parts = value.split('.')
  if (parts.length > 2 || parts.some((p) => !IDENT.test(p))) {
    throw new PostgresConfigError(
      path,
      `must be a lower-case SQL identifier ([a-z_][a-z0-9_]*), optionally schema-qualified, got ${JSON.stringify(value)}`,
    )
  }
  return parts.map((p) => `"${p}"`).join('.')
}

/** Checks a positive finite number option. */
export function positive(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new PostgresConfigError(path, `must be a positive number, got ${String(value)}`)
  }
  return value
}

/** A pool from {@link ConnectionOptions}; `owned` says whether `close` should end it. */
export function poolFrom(
  options: ConnectionOptions,
  path: string,
): { readonly pool: pg.Pool; readonly owned: boolean } {
  if (options.pool !== undefined) return { pool: options.pool, owned: false }
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw new PostgresConfigError(`${path}connectionString`, 'give a pool or a connection string')
  }
  try {
    new URL(options.connectionString)
  } catch {
    if (!/=/.test(options.connectionString)) {
      throw new PostgresConfigError(
        `${path}connectionString`,
        'must be a postgres:// URL or a key=value connection string',
      )
    }
  }
  const max =
    options.maxConnections === undefined
      ? 4
      : positive(options.maxConnections, `${path}maxConnections`)
  const connectTimeout =
    options.connectTimeoutMs === undefined
      ? 5_000
      : positive(options.connectTimeoutMs, `${path}connectTimeoutMs`)
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max,
    connectionTimeoutMillis: connectTimeout,
    idleTimeoutMillis: 10_000,
  })
  // An idle client whose server went away emits 'error' on the pool: not fatal.
  pool.on('error', () => undefined)
  return { pool, owned: true }
}

/** Where a pool points, for names and messages (no password). */
export function describePool(pool: pg.Pool): string {
  const o = pool.options as {
    host?: string
    port?: number
    database?: string
    connectionString?: string
  }
  if (o.connectionString !== undefined) {
    try {
      const u = new URL(o.connectionString)
      return `${u.hostname}:${u.port || '5432'}${u.pathname}`
    } catch {
      return 'postgres'
    }
  }
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`
}

/** The SQLSTATE of a driver error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** Throws `ABORTED` if `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) {
    throw new CoreError('ABORTED', `${what}: aborted`, { cause: signal.reason })
  }
}

/**
 * Runs `work` with a time limit and an optional abort signal: rejects with
 * `TIMEOUT` or `ABORTED` when either fires first (the work is left to finish
 * on its own; queries carry their own `statement_timeout`).
 */
export function bounded<T>(
  work: Promise<T>,
  ms: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  throwIfAborted(signal, what)
  let timer: ReturnType<typeof setTimeout> | undefined
  let onAbort: (() => void) | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CoreError('TIMEOUT', `${what}: no answer within ${ms} ms`)),
      ms,
    )
    onAbort = () => reject(new CoreError('ABORTED', `${what}: aborted`, { cause: signal?.reason }))
    signal?.addEventListener('abort', onAbort, { once: true })
  })
  work.catch(() => undefined)
  return Promise.race([work, limit]).finally(() => {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  })
}

const systemClock = createSystemClock()

/** Sleeps `ms`, rejecting with `ABORTED` when `signal` fires (core's system clock). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return systemClock.sleep(ms, signal)
}

/** Parses a PostgreSQL LSN (`16/B374D848`) into a bigint byte position. */
export function parseLsn(text: string | null | undefined): bigint | undefined {
  if (text === null || text === undefined) return undefined
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(text)
  if (m === null) return undefined
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`)
}

/** The message of an error, for `error` fields. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const state = sqlState(error)
    return state === undefined ? error.message : `${error.message} (SQLSTATE ${state})`
  }
  return String(error)
}
