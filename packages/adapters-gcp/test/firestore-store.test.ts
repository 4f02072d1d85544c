import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createLedger, isBatonError, type LedgerStore, leafHash, verify } from '@baton/ledger'
import { describeLedgerStore } from '@baton/ledger/testing'
import { Firestore } from '@google-cloud/firestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorAuthClient } from '../src/_clients.js'
import { receiptDocId } from '../src/_common.js'
import { type FirestoreStore, openFirestoreStore } from '../src/firestore-store.js'
import {
  type FirestoreEmulator,
  freshPath,
  startFirestoreEmulator,
} from './support/firestore-emulator.js'

const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const PROJECT = 'baton-test'

let emulator: FirestoreEmulator
beforeAll(async () => {
  emulator = await startFirestoreEmulator()
})
afterAll(async () => {
  await emulator?.stop()
})

const open = (path = freshPath(), extra: object = {}) =>
  openFirestoreStore({ projectId: PROJECT, endpoint: emulator.host, path, ...extra })

describeLedgerStore('firestore (emulator)', {
  create: () => open(),
  reopen: (store) => open((store as FirestoreStore).path),
  processes: {
    module: DIST_INDEX,
    exportName: 'openFirestoreStore',
    args: (store) => {
      if (!existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: run pnpm build first`)
      return [{ projectId: PROJECT, endpoint: emulator.host, path: (store as FirestoreStore).path }]
    },
    workers: 3,
    receiptsPerWorker: 60,
  },
})

describe('firestore store', () => {
  const client = (): Firestore =>
    new Firestore({
      projectId: PROJECT,
      host: emulator.host,
      ssl: false,
      authClient: emulatorAuthClient() as never,
    })

  it('keeps canonical bytes as a string, so a read-back receipt hashes the same', async () => {
    const store = await open()
    const ledger = createLedger({ store })
    const r = await ledger.append({ type: 'x.y', data: { z: 1, a: { c: [1, 2], b: 'é' } } })
    const db = client()
    const doc = await db.doc(`${store.path}/receipts/${receiptDocId(r.seq)}`).get()
    expect(doc.get('seq')).toBe(0)
    expect(typeof doc.get('receipt')).toBe('string')
    expect(doc.get('hash')).toBe(r.hash)
    for await (const line of store.read()) expect(leafHash(line.bytes)).toBe(r.hash)
    await db.terminate()
    await ledger.close()
  })

  it('accepts a caller-built client and leaves it open on close', async () => {
    const db = client()
    const store = await openFirestoreStore({ client: db, path: freshPath() })
    expect(store.client).toBe(db)
    await createLedger({ store }).append({ type: 'a.b', data: {} })
    await store.close()
    // The client still works after the store closed.
    const again = await openFirestoreStore({ client: db, path: store.path })
    expect((await again.head()).size).toBe(1)
    await again.close()
    await db.terminate()
  })

  it('verifies, and detects a receipt rewritten in place', async () => {
    const store = await open()
    const ledger = createLedger({ store })
    for (let i = 0; i < 5; i++) await ledger.append({ type: 't.x', data: { i } })
    expect((await verify(store)).status).toBe('VERIFIED')
    const db = client()
    const ref = db.doc(`${store.path}/receipts/${receiptDocId(2)}`)
    const text = (await ref.get()).get('receipt') as string
    await ref.set({ seq: 2, hash: 'x', receipt: text.replace('"i":2', '"i":7') })
    const report = await verify(store)
    expect(report.status).not.toBe('VERIFIED')
    await db.terminate()
    await ledger.close()
  })

  it('refuses a foreign document with CORRUPT naming it', async () => {
    const store = await open()
    const db = client()
    await db.doc(`${store.path}/receipts/${receiptDocId(0)}`).set({ seq: 0, receipt: 42 })
    const error = await (async () => {
      for await (const _ of store.read()) {
        /* drain */
      }
    })().catch((e: unknown) => e)
    expect(isBatonError(error, 'CORRUPT')).toBe(true)
    expect(String(error)).toContain(receiptDocId(0))
    await db.terminate()
    await store.close()
  })

  it('refuses bad options with INVALID_CONFIG naming the field', async () => {
    for (const [options, field] of [
      [{ path: 'ledgers' }, 'path'],
      [{ path: 'a//b' }, 'path'],
      [{ path: 'ledgers/x', pageSize: 0 }, 'pageSize'],
      [{ path: 'ledgers/x', endpoint: 'not a host' }, 'endpoint'],
    ] as const) {
      const error = await open(undefined, options).catch((e: unknown) => e)
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
    const noProject = await openFirestoreStore({ endpoint: emulator.host, path: 'a/b' }).catch(
      (e: unknown) => e,
    )
    expect((noProject as { path: string }).path).toBe('projectId')
  })
})

describe('anchored firestore store', () => {
  it('records the anchor in the ledger document and refuses another', async () => {
    const { anchor } = await makeAnchor()
    const path = freshPath()
    const store = await open(path, { anchor })
    expect(store.anchor?.seq).toBe(anchor.seq)
    expect(await store.head()).toEqual({ size: anchor.seq, hash: anchor.prev })
    const again = await open(path)
    expect(again.anchor?.seq).toBe(anchor.seq)
    const plain = await open()
    await createLedger({ store: plain }).append({ type: 'a.b', data: {} })
    const refused = await open(plain.path, { anchor }).catch((e: unknown) => e)
    expect(isBatonError(refused, 'ALREADY_EXISTS')).toBe(true)
    for (const s of [store, again, plain]) await s.close()
  })
})

async function makeAnchor() {
  const { createMemoryStore, createAnchor } = await import('@baton/ledger')
  const source = createMemoryStore()
  const ledger = createLedger({ store: source })
  for (let i = 0; i < 5; i++) await ledger.append({ type: 'a.b', data: { i } })
  const anchor = await createAnchor(source, 5)
  return { anchor }
}

export type { LedgerStore }
