/**
 * Local PostgreSQL clusters on loopback: a primary, a streaming standby
 * (synchronous or asynchronous), hard kills and rebuilds. What the tests and
 * the local drill run against: real servers in temporary directories on
 * random ports, owned by the caller and removed by `dispose`.
 *
 * Needs the PostgreSQL server binaries (Debian: `apt-get install
 * postgresql-15`, found under `/usr/lib/postgresql/<n>/bin`, or set
 * `PG_BIN`). Run as root, the servers run as the `postgres` user (initdb
 * refuses root).
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { sleep } from './_sql.js'
import { PostgresError } from './errors.js'

/** How a server is stopped: `fast` (clean, waits for WAL to reach standbys), `immediate` (crash-like, SIGQUIT) or `kill` (SIGKILL the postmaster). */
export type StopMode = 'fast' | 'immediate' | 'kill'

/** One local PostgreSQL server. */
export interface LocalCluster {
  /** Its name (also its `application_name` as a standby). */
  readonly name: string
  /** Its data directory. */
  readonly dir: string
  /** Its loopback port. */
  readonly port: number
  /** A connection string for `database` (default `postgres`) as the superuser `postgres`. */
  url(database?: string): string
  /** Whether its postmaster runs (as far as this process knows). */
  readonly running: boolean
  /** Starts it (waits until it accepts connections). */
  start(): Promise<void>
  /** Stops it; `immediate` and `kill` are crashes (no shutdown checkpoint). */
  stop(mode?: StopMode): Promise<void>
  /** Runs one SQL statement as the superuser on a fresh connection; returns the rows. */
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    database?: string,
  ): Promise<R[]>
  /** Its server log so far. */
  log(): Promise<string>
}

/** Options of {@link createLocalPrimary}. */
export interface LocalPrimaryOptions {
  /** Name of the server (letters, digits, `_`). */
  readonly name: string
  /** Parent directory; default a new temporary directory. */
  readonly root?: string
  /** `fsync`; default true. Off makes tests faster and loses nothing on a process crash (only on an OS crash). */
  readonly fsync?: boolean
}

/** Options of {@link createLocalStandby} and {@link rebuildAsStandby}. */
export interface LocalStandbyOptions {
  /** Name of the standby (its `application_name`). */
  readonly name: string
  /** Make it the primary's synchronous standby (commits wait for its flush); default false. */
  readonly synchronous?: boolean
}

let pgBin: string | undefined

/** The directory of the PostgreSQL server binaries: `PG_BIN`, else the newest `/usr/lib/postgresql/<n>/bin`. */
export function findPostgresBin(): string {
  if (pgBin !== undefined) return pgBin
  let found: string | undefined
  const env = process.env.PG_BIN
  if (env !== undefined && existsSync(join(env, 'initdb'))) found = env
  const base = '/usr/lib/postgresql'
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  found ??= versions[0] === undefined ? undefined : join(base, versions[0], 'bin')
  if (found === undefined) {
    throw new PostgresError(
      'CLUSTER',
      'PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql-15) or set PG_BIN to their directory',
    )
  }
  pgBin = found
  return found
}

/** True when the PostgreSQL server binaries are installed. */
export function hasPostgres(): boolean {
  try {
    findPostgresBin()
    return true
  } catch {
    return false
  }
}

interface Owner {
  readonly uid: number
  readonly gid: number
}

let owner: Owner | null | undefined

/** The user servers run as: `postgres` when this process is root, else this process's user. */
async function serverOwner(): Promise<Owner | null> {
  if (owner !== undefined) return owner
  if (process.getuid?.() !== 0) {
    owner = null
    return owner
  }
  const id = async (flag: string): Promise<number> =>
    Number((await run('id', [flag, 'postgres'], null)).trim())
  try {
    owner = { uid: await id('-u'), gid: await id('-g') }
  } catch (error) {
    throw new PostgresError(
      'CLUSTER',
      'running as root needs a `postgres` user to run the servers',
      {
        cause: error,
      },
    )
  }
  return owner
}

function run(
  file: string,
  args: readonly string[],
  as: Owner | null,
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        env: { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' },
        ...(as === null ? {} : { uid: as.uid, gid: as.gid }),
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(
            new PostgresError(
              'CLUSTER',
              `${file} ${args.join(' ')} failed: ${stderr || error.message}`,
              {
                cause: error,
              },
            ),
          )
        } else resolve(stdout)
      },
    )
  })
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}

async function ownedDir(path: string, as: Owner | null): Promise<void> {
  await mkdir(path, { recursive: true })
  await chmod(path, 0o700)
  if (as !== null) await chown(path, as.uid, as.gid)
}

/** A new temporary directory the servers' user may write in. */
export async function createClusterRoot(prefix = 'baton-pg-'): Promise<string> {
  const as = await serverOwner()
  const root = await mkdtemp(join(tmpdir(), prefix))
  await chmod(root, 0o755)
  if (as !== null) await chown(root, as.uid, as.gid)
  return root
}

function settings(port: number, dir: string, fsync: boolean): string {
  return [
    '',
    '# baton local cluster',
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${dir}'`,
    'max_connections = 60',
    'shared_buffers = 16MB',
    'wal_level = replica',
    'max_wal_senders = 8',
    'max_replication_slots = 8',
    'wal_keep_size = 128MB',
    'wal_log_hints = on',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'wal_receiver_status_interval = 1s',
    'wal_retrieve_retry_interval = 200ms',
    `fsync = ${fsync ? 'on' : 'off'}`,
    "synchronous_standby_names = ''",
    'log_min_messages = warning',
    "log_line_prefix = '%m [%p] '",
    '',
  ].join('\n')
}

/** Data directories of the servers this process started and has not stopped. */
const started = new Set<string>()
let exitHook = false

/**
 * If this process exits (an uncaught error, `process.exit`) with servers
 * still running, kill their postmasters so that no server outlives it.
 * (SIGKILL of this process itself cannot be caught.)
 */
function killOnExit(dir: string): void {
  started.add(dir)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const d of started) {
      try {
        const pid = Number(readFileSync(join(d, 'postmaster.pid'), 'utf8').split('\n')[0])
        if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL')
      } catch {
        // not running
      }
    }
  })
}

function cluster(name: string, dir: string, port: number, as: Owner | null): LocalCluster {
  const bin = findPostgresBin()
  const logFile = `${dir}.log`
  let running = false
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`
  const self: LocalCluster = {
    name,
    dir,
    port,
    url,
    get running() {
      return running
    },
    async start() {
      await run(join(bin, 'pg_ctl'), ['-D', dir, '-l', logFile, '-w', '-t', '60', 'start'], as)
      running = true
      killOnExit(dir)
    },
    async stop(mode = 'fast') {
      if (mode === 'kill') {
        const pidText = await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => '')
        const pid = Number(pidText.split('\n')[0])
        if (Number.isSafeInteger(pid) && pid > 0) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // already gone
          }
          // Its backends notice the postmaster's death and exit; wait for the port to free.
          for (let i = 0; i < 200 && (await accepting(port)); i++) await sleep(25)
        }
        running = false
        started.delete(dir)
        return
      }
      if (!existsSync(join(dir, 'postmaster.pid'))) {
        running = false
        started.delete(dir)
        return
      }
      await run(join(bin, 'pg_ctl'), ['-D', dir, '-m', mode, '-w', '-t', '60', 'stop'], as)
      running = false
      started.delete(dir)
    },
    async query(sql, params = [], database = 'postgres') {
      const client = new pg.Client({
        connectionString: url(database),
        connectionTimeoutMillis: 10_000,
      })
      client.on('error', () => undefined)
      await client.connect()
      try {
        return (await client.query(sql, params as unknown[])).rows
      } finally {
        await client.end().catch(() => undefined)
      }
    },
    log: () => readFile(logFile, 'utf8').catch(() => ''),
  }
  return self
}

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      connectionTimeoutMillis: 500,
    })
    client.on('error', () => undefined)
    client.connect().then(
      () => {
        void client.end().catch(() => undefined)
        resolve(true)
      },
      () => resolve(false),
    )
  })
}

/** Creates (initdb) and starts a primary on a free loopback port. */
export async function createLocalPrimary(options: LocalPrimaryOptions): Promise<LocalCluster> {
  checkName(options.name)
  const as = await serverOwner()
  const root = options.root ?? (await createClusterRoot())
  const dir = join(root, options.name)
  await ownedDir(dir, as)
  const port = await freePort()
  await run(
    join(findPostgresBin(), 'initdb'),
    ['-D', dir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    as,
  )
  await appendFile(join(dir, 'postgresql.conf'), settings(port, dir, options.fsync ?? true))
  const c = cluster(options.name, dir, port, as)
  await c.start()
  return c
}

function checkName(name: string): void {
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(name)) {
    throw new PostgresError(
      'CLUSTER',
      `cluster name must match [a-z][a-z0-9_]*, got ${JSON.stringify(name)}`,
    )
  }
}

/** Takes a base backup of `primary` into `dir` and configures it as its streaming standby on `port`. */
async function baseBackup(
  primary: LocalCluster,
  dir: string,
  port: number,
  options: LocalStandbyOptions,
  as: Owner | null,
): Promise<void> {
  await ownedDir(dir, as)
  await run(
    join(findPostgresBin(), 'pg_basebackup'),
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      dir,
      '-X',
      'stream',
      '-R',
      '--no-sync',
      '-c',
      'fast',
    ],
    as,
  )
  // Later lines win: this standby's own port, socket, conninfo (with its name for
  // synchronous_standby_names) and no synchronous standby of its own.
  await appendFile(
    join(dir, 'postgresql.auto.conf'),
    [
      '',
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres application_name=${options.name}'`,
      "synchronous_standby_names = ''",
      "default_transaction_read_only = 'off'",
      '',
    ].join('\n'),
  )
}

/** Waits until `primary` reports `standby` streaming (and, for a synchronous one, in sync). */
async function awaitStreaming(
  primary: LocalCluster,
  name: string,
  synchronous: boolean,
): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const rows = await primary.query<{ state: string; sync_state: string }>(
      'SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1',
      [name],
    )
    const row = rows[0]
    if (row?.state === 'streaming' && (!synchronous || row.sync_state === 'sync')) return
    await sleep(50)
  }
  throw new PostgresError(
    'CLUSTER',
    `standby ${name} did not start streaming from ${primary.name} within 30 s`,
  )
}

/** Makes `standby` the synchronous standby of `primary` (or none, with `undefined`). */
export async function setSynchronousStandby(
  primary: LocalCluster,
  standby: string | undefined,
): Promise<void> {
  await primary.query(
    `ALTER SYSTEM SET synchronous_standby_names = '${standby === undefined ? '' : `"${standby}"`}'`,
  )
  await primary.query('SELECT pg_reload_conf()')
}

/** Creates a streaming standby of `primary` (pg_basebackup -R) next to it and starts it. */
export async function createLocalStandby(
  primary: LocalCluster,
  options: LocalStandbyOptions,
): Promise<LocalCluster> {
  checkName(options.name)
  const as = await serverOwner()
  const dir = join(primary.dir, '..', options.name)
  const port = await freePort()
  await baseBackup(primary, dir, port, options, as)
  const standby = cluster(options.name, dir, port, as)
  await standby.start()
  if (options.synchronous === true) await setSynchronousStandby(primary, options.name)
  await awaitStreaming(primary, options.name, options.synchronous === true)
  return standby
}

/**
 * Rebuilds `old` (e.g. a failed old primary) as a streaming standby of
 * `primary`: stops it if it still runs, replaces its data with a fresh base
 * backup and starts it on its old port.
 */
export async function rebuildAsStandby(
  old: LocalCluster,
  primary: LocalCluster,
  options: Omit<LocalStandbyOptions, 'name'> = {},
): Promise<LocalCluster> {
  const as = await serverOwner()
  await old.stop('immediate').catch(() => undefined)
  await rm(old.dir, { recursive: true, force: true })
  await baseBackup(primary, old.dir, old.port, { ...options, name: old.name }, as)
  const rebuilt = cluster(old.name, old.dir, old.port, as)
  await rebuilt.start()
  if (options.synchronous === true) await setSynchronousStandby(primary, old.name)
  await awaitStreaming(primary, old.name, options.synchronous === true)
  return rebuilt
}

/** A primary and its streaming standby. */
export interface LocalPair {
  /** Directory holding both data directories and their logs. */
  readonly root: string
  readonly primary: LocalCluster
  readonly standby: LocalCluster
  /** Stops both (immediate) and removes their files. */
  dispose(): Promise<void>
}

/** Options of {@link createLocalPair}. */
export interface LocalPairOptions {
  /** Names; default `primary` and `standby`. */
  readonly names?: readonly [string, string]
  /** Synchronous standby; default false. */
  readonly synchronous?: boolean
  /** `fsync` (see {@link LocalPrimaryOptions.fsync}); default true. */
  readonly fsync?: boolean
}

/** Creates a primary and a streaming standby in a new temporary directory. */
export async function createLocalPair(options: LocalPairOptions = {}): Promise<LocalPair> {
  const [a, b] = options.names ?? ['primary', 'standby']
  const root = await createClusterRoot()
  const servers: LocalCluster[] = []
  const dispose = async (): Promise<void> => {
    for (const s of servers) await s.stop('immediate').catch(() => undefined)
    await rm(root, { recursive: true, force: true })
  }
  try {
    const primary = await createLocalPrimary({
      name: a,
      root,
      ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
    })
    servers.push(primary)
    const standby = await createLocalStandby(primary, {
      name: b,
      synchronous: options.synchronous === true,
    })
    servers.push(standby)
    return { root, primary, standby, dispose }
  } catch (error) {
    await dispose()
    throw error
  }
}
