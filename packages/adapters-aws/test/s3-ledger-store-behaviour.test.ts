import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import {
  createAnchor,
  createLedger,
  createMemoryStore,
  isBatonError,
  leafHash,
  verify,
} from '@baton/ledger'
import { describeLedgerStore, readStoreChain } from '@baton/ledger/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openS3LedgerStore, type S3LedgerStore } from '../src/index.js'
import { LOCAL_CREDENTIALS, type LocalS3, startLocalS3 } from './support/local-s3.js'

const BUCKET = 'behaviour'
let s3: LocalS3
let n = 0
beforeAll(async () => {
  s3 = await startLocalS3()
  await s3.createBucket(BUCKET)
})
afterAll(async () => {
  await s3?.close()
})

const open = (prefix: string, extra: Record<string, unknown> = {}) =>
  openS3LedgerStore({ ...s3.clientConfig, bucket: BUCKET, prefix, ...extra })
const fresh = () => open(`b/${n++}`, { create: true })

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  )
}

// An anchored S3 ledger must pass the same suite, beginning at its anchor.
const source = createMemoryStore()
const seedLedger = createLedger({ store: source })
for (let i = 0; i < 40; i++) await seedLedger.append({ type: 'test.seed', data: { i } })
const anchor = await createAnchor(source, 37)
describeLedgerStore('S3 (anchored at 37)', {
  anchor,
  create: () => open(`anchored/${n++}`, { create: true, anchor }),
  reopen: (store) => open((store as S3LedgerStore).prefix, { anchor }),
})

describe('S3 ledger store', () => {
  it('needs the test shim: s3rver alone ignores If-None-Match, the proxy refuses with 412', async () => {
    const direct = new S3Client({ ...s3.clientConfig, endpoint: s3.direct })
    const put = (client: S3Client, body: string) =>
      client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'shim/k', Body: body, IfNoneMatch: '*' }),
      )
    await put(direct, 'one')
    await put(direct, 'two') // accepted by s3rver: no conditional writes there
    const error = await errorOf(put(s3.client(), 'three'))
    expect((error as { name?: string }).name).toBe('PreconditionFailed')
    direct.destroy()
  })

  it('finds the head with a few HEAD requests and no listing, from a fresh instance and from a stale hint', async () => {
    const store = await fresh()
    const ledger = createLedger({ store })
    for (let i = 0; i < 300; i++) await ledger.append({ type: 'test.n', data: { i } })
    const truth = await store.head()
    expect(truth.size).toBe(300)
    const count = (from: number, what: string) =>
      s3.requests.slice(from).filter((r) => r.startsWith(what)).length
    // A fresh instance starts from the hint (refreshed every 16 receipts).
    let mark = s3.requests.length
    const other = await open(store.prefix)
    expect(await other.head()).toEqual(truth)
    expect(count(mark, 'HEAD')).toBeLessThanOrEqual(12)
    expect(s3.requests.slice(mark).some((r) => r.includes('list-type'))).toBe(false)
    // A hint far behind: galloping and bisection, O(log n) HEADs.
    await s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${store.prefix}head.json`,
        Body: '{"size":3}',
      }),
    )
    mark = s3.requests.length
    const third = await open(store.prefix)
    expect(await third.head()).toEqual(truth)
    expect(count(mark, 'HEAD')).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(300)) + 2)
    expect(s3.requests.slice(mark).some((r) => r.includes('list-type'))).toBe(false)
    // A hint ahead of the ledger (written by mistake) is corrected too.
    await s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${store.prefix}head.json`,
        Body: '{"size":100000}',
      }),
    )
    const fourth = await open(store.prefix)
    expect(await fourth.head()).toEqual(truth)
    // Once warm, an unchanged head costs one HEAD request.
    mark = s3.requests.length
    expect(await fourth.head()).toEqual(truth)
    expect(s3.requests.length - mark).toBe(1)
    for (const s of [store, other, third, fourth]) await s.close()
  })

  it('after a lost race, learns the head from the receipt that won: one HEAD, no GET', async () => {
    const a = await fresh()
    const b = await open(a.prefix)
    const ledgerA = createLedger({ store: a })
    for (let i = 0; i < 3; i++) await ledgerA.append({ type: 'test.a', data: { i } })
    const truth = await a.head()
    // b, which has seen nothing yet, races for seq 2 with a receipt of its own.
    const mine = new TextEncoder().encode('{"not":"the winner"}')
    const error = await errorOf(b.append([{ seq: 2, bytes: mine, hash: leafHash(mine) }]))
    expect(isBatonError(error, 'CONFLICT')).toBe(true)
    expect(error).toMatchObject({ seq: 2, committed: 0 })
    const mark = s3.requests.length
    expect(await b.head()).toEqual(truth)
    expect(s3.requests.slice(mark)).toEqual([
      `HEAD /${BUCKET}/${a.prefix}receipts/${'3'.padStart(20, '0')}.json`,
    ])
    await a.close()
    await b.close()
  })

  it('recognises its own write when the answer to a create-only PUT was lost', async () => {
    const store = await fresh()
    s3.inject({
      method: 'PUT',
      pathIncludes: `${store.prefix}receipts/00000000000000000002.json`,
      status: 500,
      code: 'InternalError',
      lose: true,
    })
    const ledger = createLedger({ store })
    const acks = []
    for (let i = 0; i < 5; i++) acks.push(await ledger.append({ type: 'test.lost', data: { i } }))
    const chain = await readStoreChain(store)
    expect(chain.map((c) => c.id)).toEqual(acks.map((a) => a.id))
    // The write was sent again and refused (412): the store saw its own bytes there.
    const puts = s3.requests.filter(
      (r) => r.startsWith('PUT') && r.includes(`${store.prefix}receipts/00000000000000000002.json`),
    )
    expect(puts.length).toBeGreaterThanOrEqual(2)
    await store.close()
  })

  it('turns 409 ConditionalRequestConflict into a typed conflict the ledger retries', async () => {
    const store = await fresh()
    const ledger = createLedger({ store })
    await ledger.append({ type: 'test.a', data: {} })
    s3.inject({
      method: 'PUT',
      pathIncludes: `${store.prefix}receipts/00000000000000000001.json`,
      status: 409,
      code: 'ConditionalRequestConflict',
    })
    const head = await store.head()
    const bytes = Buffer.from(`{"x":${Date.now()}}`)
    const error = await errorOf(
      store.append([
        { seq: 1, bytes, hash: leafHash(bytes) },
        { seq: 2, bytes, hash: leafHash(bytes) },
      ]),
    )
    expect(isBatonError(error, 'CONFLICT')).toBe(true)
    expect(error).toMatchObject({ seq: 1, committed: 0 })
    expect(await store.head()).toEqual(head)
    const next = await ledger.append({ type: 'test.b', data: {} })
    expect(next.seq).toBe(1)
    await store.close()
  })

  it('rides out throttling (503 SlowDown) on reads and writes', async () => {
    const store = await openS3LedgerStore({
      ...s3.clientConfig,
      bucket: BUCKET,
      prefix: `b/${n++}`,
      create: true,
      retry: { baseDelayMs: 5 },
    })
    s3.inject({
      method: 'PUT',
      pathIncludes: store.prefix,
      status: 503,
      code: 'SlowDown',
      times: 2,
    })
    const ledger = createLedger({ store })
    for (let i = 0; i < 3; i++) await ledger.append({ type: 'test.t', data: { i } })
    s3.inject({
      method: 'GET',
      pathIncludes: store.prefix,
      status: 503,
      code: 'SlowDown',
      times: 2,
    })
    expect(await readStoreChain(store)).toHaveLength(3)
    await store.close()
  })

  it('lets verify find a receipt overwritten behind its back', async () => {
    const store = await fresh()
    const ledger = createLedger({ store })
    for (let i = 0; i < 6; i++) await ledger.append({ type: 'test.v', data: { i } })
    expect((await verify(store)).status).toBe('VERIFIED')
    const key = store.keyOf(3)
    const got = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
    const text = (await got.Body!.transformToString()).replace('"i":3', '"i":4')
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text }))
    const report = await verify(store)
    expect(report.status).toBe('FAILED')
    expect(report.problems.some((p) => p.seq === 4 || p.seq === 3)).toBe(true)
    await store.close()
  })

  it('refuses bad options and bad ledgers with typed errors naming the field', async () => {
    const bad = await errorOf(
      openS3LedgerStore({ ...s3.clientConfig, bucket: 'No_Such', prefix: 'x' }),
    )
    expect(isBatonError(bad, 'INVALID_INPUT')).toBe(true)
    expect((bad as { path?: string }).path).toBe('bucket')
    const hint = await errorOf(
      openS3LedgerStore({ ...s3.clientConfig, bucket: BUCKET, prefix: 'x', headHintEvery: 0 }),
    )
    expect((hint as { path?: string }).path).toBe('headHintEvery')
    const missing = await errorOf(open(`missing/${n++}`))
    expect(isBatonError(missing, 'NOT_FOUND')).toBe(true)
    await s3.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'foreign/baton-ledger.json',
        Body: '{"format":"x"}',
      }),
    )
    expect(isBatonError(await errorOf(open('foreign')), 'CORRUPT')).toBe(true)
    const store = await fresh()
    const other = await errorOf(open(store.prefix, { anchor }))
    expect((other as { path?: string }).path).toBe('anchor')
    const bytes = Buffer.from('{}')
    const gap = await errorOf(
      store.append([
        { seq: 0, bytes, hash: leafHash(bytes) },
        { seq: 2, bytes, hash: leafHash(bytes) },
      ]),
    )
    expect((gap as { path?: string }).path).toBe('entries[1].seq')
    const readOnly = await open(store.prefix, { readOnly: true })
    expect(
      isBatonError(
        await errorOf(readOnly.append([{ seq: 0, bytes, hash: leafHash(bytes) }])),
        'IO',
      ),
    ).toBe(true)
    expect(
      s3.requests.some((r) => r.startsWith('PUT') && r.includes(`${store.prefix}receipts`)),
    ).toBe(false)
    await store.close()
    await readOnly.close()
  })

  it('fails with IO, after bounded retries, when S3 cannot be reached', async () => {
    const error = await errorOf(
      openS3LedgerStore({
        bucket: BUCKET,
        prefix: 'x',
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        clientConfig: { maxAttempts: 1 },
        retry: { maxAttempts: 2, baseDelayMs: 1 },
      }),
    )
    expect(isBatonError(error, 'IO')).toBe(true)
  })
})
