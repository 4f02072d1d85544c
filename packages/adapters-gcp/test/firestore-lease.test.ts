import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeLease } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { Firestore } from '@google-cloud/firestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorAuthClient } from '../src/_clients.js'
import { receiptDocId } from '../src/_common.js'
import { createFirestoreLease, type FirestoreLease } from '../src/firestore-lease.js'
import {
  type FirestoreEmulator,
  freshPath,
  startFirestoreEmulator,
} from './support/firestore-emulator.js'

const PROJECT = 'baton-test'
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const WORKER = fileURLToPath(new URL('./support/lease-worker.mjs', import.meta.url))
let emulator: FirestoreEmulator
beforeAll(async () => {
  emulator = await startFirestoreEmulator()
})
afterAll(async () => {
  await emulator?.stop()
})

const client = (): Firestore =>
  new Firestore({
    projectId: PROJECT,
    host: emulator.host,
    ssl: false,
    authClient: emulatorAuthClient() as never,
  })

const lease = (path = freshPath('leases'), extra: object = {}): FirestoreLease =>
  createFirestoreLease({ projectId: PROJECT, endpoint: emulator.host, path, ...extra })

describeLease('firestore (emulator)', {
  create: async () => ({ lease: lease() }),
  // A second client with its own connection, so races are real.
  connect: async (f) =>
    createFirestoreLease({ client: client(), path: (f.lease as FirestoreLease).path }),
  dispose: async (f) => (f.lease as FirestoreLease).close(),
})

describe('firestore lease', () => {
  it('writes each change as a new version created with create(), never rewriting one', async () => {
    const l = lease()
    const g = await l.acquire('alpha', 60_000)
    await l.renew(g!, 60_000)
    await l.release(g!)
    const db = client()
    const docs = (await db.collection(`${l.path}/versions`).orderBy('v').get()).docs
    expect(docs.map((d) => d.id)).toEqual([0, 1, 2].map(receiptDocId))
    expect(docs.map((d) => [d.get('holder'), d.get('epoch')])).toEqual([
      ['alpha', 1],
      ['alpha', 1],
      [null, 1],
    ])
    await db.terminate()
    await l.close()
  })

  it('keeps epochs rising across many processes-worth of clients racing', async () => {
    const path = freshPath('leases')
    const clients = [client(), client(), client()]
    const leases = clients.map((c) => createFirestoreLease({ client: c, path }))
    const seen: number[] = []
    for (let round = 0; round < 5; round++) {
      const grants = await Promise.all(leases.map((l, i) => l.acquire(`h${i}-${round}`, 60_000)))
      const won = grants.filter((g) => g !== undefined)
      expect(won).toHaveLength(1)
      seen.push(won[0]!.epoch)
      await leases[0]!.release(won[0]!)
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
    expect(new Set(seen).size).toBe(seen.length)
    for (const c of clients) await c.terminate()
  })

  it('grants one holder at a time across processes, each tenure with a higher epoch', async () => {
    if (!existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: run pnpm build first`)
    const path = freshPath('leases')
    const workers = ['p1', 'p2', 'p3'].map(
      (holder) =>
        new Promise<string>((resolve, reject) => {
          execFile(
            process.execPath,
            [WORKER, DIST_INDEX, emulator.host, PROJECT, path, holder, '6'],
            { timeout: 90_000 },
            (error, stdout, stderr) =>
              error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)),
          )
        }),
    )
    const tenures = (await Promise.all(workers))
      .flatMap((out) => out.trim().split('\n'))
      .map(
        (line) =>
          JSON.parse(line) as {
            holder: string
            epoch: number
            acquiredAt: number
            releaseAt: number
          },
      )
      .sort((a, b) => a.epoch - b.epoch)
    expect(tenures).toHaveLength(18)
    expect(new Set(tenures.map((t) => t.epoch)).size).toBe(18)
    for (let i = 1; i < tenures.length; i++) {
      // The next tenure began only after the one before had started releasing.
      expect(
        tenures[i]!.acquiredAt,
        JSON.stringify([tenures[i - 1], tenures[i]]),
      ).toBeGreaterThanOrEqual(tenures[i - 1]!.releaseAt)
    }
  })

  it('refuses a damaged version document with GCP_CORRUPT', async () => {
    const l = lease()
    const db = client()
    await db.doc(`${l.path}/versions/${receiptDocId(0)}`).set({ v: 0, holder: 7, epoch: 'x' })
    const error = await l.current().catch((e: unknown) => e)
    expect(isBatonError(error, 'GCP_CORRUPT')).toBe(true)
    await db.terminate()
    await l.close()
  })

  it('refuses bad options and arguments with INVALID_CONFIG naming the field', async () => {
    for (const [options, field] of [
      [{ path: 'leases' }, 'path'],
      [{ path: 'leases/x', keepVersions: 1 }, 'keepVersions'],
      [{ path: 'leases/x', now: 5 }, 'now'],
    ] as const) {
      let error: unknown
      try {
        lease(undefined, options)
      } catch (e) {
        error = e
      }
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
    const l = lease()
    for (const [call, field] of [
      [() => l.acquire('', 1000), 'holder'],
      [() => l.acquire('a', -1), 'ttlMs'],
      [() => l.acquire('a', Number.NaN), 'ttlMs'],
    ] as const) {
      let error: unknown
      try {
        await call()
      } catch (e) {
        error = e
      }
      expect((error as { path: string }).path).toBe(field)
    }
    await l.close()
  })
})
