import { isBatonError } from '@baton/ledger'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFencing } from '../src/index.js'
import { sharedServer, uniqueName } from './support/server.js'

const server = sharedServer()

describe('createFencing', () => {
  let pool: pg.Pool
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: server.url(), max: 4 })
  })
  afterAll(async () => {
    await pool.end()
  })

  it('lets writes with the current or a newer epoch through and refuses older ones (FENCED), rolling them back', async () => {
    const fencing = createFencing({ name: uniqueName('fence') })
    await fencing.ensure(pool)
    const table = uniqueName('orders')
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, epoch int)`)
    await fencing.raise(pool, 3)
    await fencing.write(pool, 3, (c) => c.query(`INSERT INTO ${table} VALUES (1, 3)`))
    await fencing.write(pool, 4, (c) => c.query(`INSERT INTO ${table} VALUES (2, 4)`))
    const error = await fencing
      .write(pool, 2, (c) => c.query(`INSERT INTO ${table} VALUES (3, 2)`))
      .catch((e) => e)
    expect(isBatonError(error, 'FENCED'), String(error)).toBe(true)
    expect((await pool.query(`SELECT id FROM ${table} ORDER BY id`)).rows).toEqual([
      { id: 1 },
      { id: 2 },
    ])
    expect(await fencing.raise(pool, 1)).toBe(3)
    expect(await fencing.current(pool)).toBe(3)
  })

  it('makes raise wait for a fenced write in flight, and refuses the old epoch after it', async () => {
    const fencing = createFencing({ name: uniqueName('inflight') })
    await fencing.ensure(pool)
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const writing = fencing.write(pool, 1, async () => {
      await gate
      return 'written'
    })
    await new Promise((r) => setTimeout(r, 100))
    let raised = false
    const raising = fencing.raise(pool, 2).then((e) => {
      raised = true
      return e
    })
    await new Promise((r) => setTimeout(r, 200))
    expect(raised).toBe(false)
    release()
    expect(await writing).toBe('written')
    expect(await raising).toBe(2)
    const late = await fencing.write(pool, 1, async () => 'late').catch((e) => e)
    expect(isBatonError(late, 'FENCED'), String(late)).toBe(true)
  })

  it('names a bad option or epoch', async () => {
    expect(() => createFencing({ table: 'Bad Table' })).toThrow(/table/)
    const fencing = createFencing({ name: uniqueName('bad') })
    const error = await fencing.raise(pool, -1).catch((e) => e)
    expect((error as { path?: string }).path).toBe('epoch')
  })
})
