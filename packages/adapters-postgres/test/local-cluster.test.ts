import { afterAll, describe, expect, it } from 'vitest'
import { createLocalPair, type LocalPair, rebuildAsStandby } from '../src/testing/index.js'

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
})
