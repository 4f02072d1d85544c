import { createLedger, isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { openLedger, storeOptionsFromUrl } from '../src/cli.js'
import { sharedServer, uniqueName } from './support/server.js'

const server = sharedServer()

describe('the CLI seam (./cli)', () => {
  it('splits ledger and table out of the URL and keeps the rest as the connection string', () => {
    expect(
      storeOptionsFromUrl(
        new URL(
          'postgresql://u:p@db.example:6543/app?sslmode=require&ledger=orders&table=audit.receipts',
        ),
      ),
    ).toEqual({
      connectionString: 'postgres://u:p@db.example:6543/app?sslmode=require',
      ledger: 'orders',
      table: 'audit.receipts',
    })
    expect(storeOptionsFromUrl(new URL('postgres://h/db'))).toMatchObject({
      ledger: 'default',
      table: 'baton_receipts',
    })
  })

  it('opens (and creates) a ledger, and refuses a missing one when read-only', async () => {
    const name = uniqueName('cli')
    const url = new URL(`${server.url()}?ledger=${name}`)
    const store = await openLedger(url, { name: '<dir>', env: {} })
    await createLedger({ store }).append({ type: 'test.cli', data: {} })
    await store.close()
    const again = await openLedger(url, { name: '<dir>', env: {}, readOnly: true })
    expect((await again.head()).size).toBe(1)
    await again.close()
    const missing = await openLedger(new URL(`${server.url()}?ledger=${uniqueName('none')}`), {
      name: '<dir>',
      env: {},
      readOnly: true,
    }).catch((e) => e)
    expect(isBatonError(missing, 'NOT_FOUND'), String(missing)).toBe(true)
    const badTable = await openLedger(new URL(`${server.url()}?table=Bad-Name`), {
      name: '<dir>',
      env: {},
    }).catch((e) => e)
    expect((badTable as { path?: string }).path).toBe('table')
  })
})
