import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createAnchor, createLedger, createMemoryStore, isBatonError, verify } from '@baton/ledger'
import { describeLedgerStore } from '@baton/ledger/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GcsStore, openGcsStore } from '../src/gcs-store.js'
import { freshPrefix, type GcsEmulator, startGcsEmulator } from './support/gcs-emulator.js'

const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const BUCKET = 'baton-ledgers'

let emulator: GcsEmulator
beforeAll(async () => {
  emulator = await startGcsEmulator()
})
afterAll(async () => {
  await emulator?.stop()
})

const open = (prefix = freshPrefix(), extra: object = {}) =>
  openGcsStore({ bucket: BUCKET, prefix, endpoint: emulator.endpoint, ...extra })

describeLedgerStore('gcs (emulator + precondition shim)', {
  create: () => open(),
  reopen: (store) => open((store as GcsStore).prefix),
  processes: {
    module: DIST_INDEX,
    exportName: 'openGcsStore',
    args: (store) => {
      if (!existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: run pnpm build first`)
      return [{ bucket: BUCKET, prefix: (store as GcsStore).prefix, endpoint: emulator.endpoint }]
    },
    workers: 3,
    receiptsPerWorker: 25,
  },
})

const anchor = await (async () => {
  const source = createMemoryStore()
  const ledger = createLedger({ store: source })
  for (let i = 0; i < 4; i++) await ledger.append({ type: 'a.b', data: { i } })
  return createAnchor(source, 4)
})()

describeLedgerStore('gcs, anchored (emulator + precondition shim)', {
  anchor,
  create: () => open(freshPrefix(), { anchor }),
  reopen: (store) => open((store as GcsStore).prefix),
})

describe('gcs store', () => {
  it('creates one object per receipt with ifGenerationMatch=0 and finds the head without listing', async () => {
    const store = await open()
    const ledger = createLedger({ store })
    for (let i = 0; i < 9; i++) await ledger.append({ type: 't.x', data: { i } })
    const before = emulator.requests.length
    const reopened = await open(store.prefix)
    expect((await reopened.head()).size).toBe(9)
    const seen = emulator.requests.slice(before)
    // Galloping and bisecting: a handful of metadata reads, no listing.
    expect(seen.filter((r) => r.method === 'GET' && /[?&]prefix=/.test(r.url))).toEqual([])
    expect(seen.length).toBeLessThan(15)
    const uploads = emulator.requests.filter(
      (r) =>
        r.url.startsWith('/upload/') &&
        r.url.includes(encodeURIComponent(`${store.prefix}/receipts/`)),
    )
    expect(uploads).toHaveLength(9)
    for (const u of uploads)
      expect(new URL(u.url, 'http://x').searchParams.get('ifGenerationMatch')).toBe('0')
    expect((await verify(reopened)).status).toBe('VERIFIED')
    await reopened.close()
    await ledger.close()
  })

  it('treats its own receipt found after a lost reply as written', async () => {
    const store = await open()
    const ledger = createLedger({ store })
    await ledger.append({ type: 't.x', data: {} })
    const lines = []
    for await (const l of store.read()) lines.push(l)
    // The same bytes again: what a retried request whose reply was lost meets.
    await store.append([
      { seq: 0, bytes: lines[0]!.bytes, hash: (await store.head()).hash } as never,
    ])
    expect((await store.head()).size).toBe(1)
    await ledger.close()
  })

  it('detects a receipt replaced behind its back', async () => {
    const store = await open()
    const ledger = createLedger({ store })
    for (let i = 0; i < 4; i++) await ledger.append({ type: 't.x', data: { i } })
    const file = store.client
      .bucket(BUCKET)
      .file(`${store.prefix}/receipts/${'1'.padStart(20, '0')}.json`)
    const [bytes] = await file.download()
    await file.save(Buffer.from(bytes.toString().replace('"i":1', '"i":5')), { resumable: false })
    expect((await verify(store)).status).not.toBe('VERIFIED')
    await ledger.close()
  })

  it('maps server failures to IO', async () => {
    const store = await open()
    emulator.fail(1, 503, (m, u) => m === 'POST' && u.includes(encodeURIComponent(store.prefix)))
    const error = await createLedger({ store })
      .append({ type: 't.x', data: {} })
      .catch((e: unknown) => e)
    expect(isBatonError(error, 'IO'), String(error)).toBe(true)
    await store.close()
  })

  it('refuses bad options with INVALID_CONFIG naming the field', async () => {
    for (const [options, field] of [
      [{ bucket: 'Bad_Bucket!' }, 'bucket'],
      [{ bucket: 'ok-bucket', prefix: 'a/../b' }, 'prefix'],
      [{ bucket: 'ok-bucket', readConcurrency: 0 }, 'readConcurrency'],
    ] as const) {
      const error = await openGcsStore({ endpoint: emulator.endpoint, ...options } as never).catch(
        (e: unknown) => e,
      )
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
  })
})
