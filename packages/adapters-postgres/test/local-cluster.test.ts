import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createLocalPair, type LocalPair, rebuildAsStandby } from '../src/testing/index.js'

const DIST_TESTING = fileURLToPath(new URL('../dist/testing.js', import.meta.url))

describe('local clusters', () => {
  const pairs: LocalPair[] = []
  afterAll(async () => {
    for (const p of pairs) await p.dispose()
  })

  it('builds a primary and a synchronous streaming standby, survives a hard kill and rebuilds the old primary', async () => {
    const pair = await createLocalPair({ synchronous: true, fsync: false })
    pairs.push(pair)
    const { primary, standby } = pair
    const repl = await primary.query<{ application_name: string; sync_state: string }>(
      'SELECT application_name, sync_state FROM pg_stat_replication',
    )
    expect(repl).toEqual([{ application_name: 'standby', sync_state: 'sync' }])
    expect((await standby.query('SELECT pg_is_in_recovery() AS r'))[0]).toEqual({ r: true })
    await primary.query('CREATE TABLE t (id int PRIMARY KEY)')
    await primary.query('INSERT INTO t SELECT generate_series(1, 100)')
    await primary.stop('kill')
    expect(primary.running).toBe(false)
    await standby.query('SELECT pg_promote(true, 30)')
    expect((await standby.query('SELECT count(*)::int AS n FROM t'))[0]).toEqual({ n: 100 })
    const rebuilt = await rebuildAsStandby(primary, standby, { synchronous: true })
    expect((await rebuilt.query('SELECT pg_is_in_recovery() AS r'))[0]).toEqual({ r: true })
    expect((await rebuilt.query('SELECT count(*)::int AS n FROM t'))[0]).toEqual({ n: 100 })
    await standby.query('INSERT INTO t VALUES (101)')
    expect((await rebuilt.query('SELECT count(*)::int AS n FROM t'))[0]).toEqual({ n: 101 })
  })

  it('kills the servers a process started when that process dies of an uncaught error', async () => {
    if (!existsSync(DIST_TESTING))
      throw new Error(`${DIST_TESTING} is missing: run pnpm build first`)
    const script = `
      import { createClusterRoot, createLocalPrimary } from ${JSON.stringify(DIST_TESTING)}
      const root = await createClusterRoot()
      const c = await createLocalPrimary({ name: 'orphan', root, fsync: false })
      console.log(JSON.stringify({ root, port: c.port }))
      throw new Error('crash on purpose')
    `
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>(
      (resolve) => {
        const child = execFile(
          process.execPath,
          ['--input-type=module', '-e', script],
          { timeout: 60_000 },
          (_e, out) => resolve({ stdout: out, code: child.exitCode }),
        )
      },
    )
    expect(code).not.toBe(0)
    const { root, port } = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      root: string
      port: number
    }
    try {
      let up = true
      for (let i = 0; i < 100 && up; i++) {
        const client = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'postgres',
          connectionTimeoutMillis: 500,
        })
        client.on('error', () => undefined)
        up = await client.connect().then(
          () => client.end().then(() => true),
          () => false,
        )
        if (up) await new Promise((r) => setTimeout(r, 50))
      }
      expect(up, 'the orphaned server still accepts connections').toBe(false)
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
