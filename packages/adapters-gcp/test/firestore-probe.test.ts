import { describeProbe } from '@baton/core/testing'
import { isBatonError } from '@baton/ledger'
import { Firestore } from '@google-cloud/firestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emulatorAuthClient } from '../src/_clients.js'
import { createFirestoreProbe, type FirestoreProbe } from '../src/firestore-probe.js'
import {
  type FirestoreEmulator,
  freshPath,
  startFirestoreEmulator,
} from './support/firestore-emulator.js'
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js'

const PROJECT = 'baton-test'
let emulator: FirestoreEmulator
beforeAll(async () => {
  emulator = await startFirestoreEmulator()
})
afterAll(async () => {
  await emulator?.stop()
})

interface Fixture {
  readonly probe: FirestoreProbe
  readonly proxy: TcpProxy
}

describeProbe<Fixture>('firestore (emulator behind a faulty TCP proxy)', {
  async create() {
    const proxy = await startTcpProxy(emulator.host)
    // Its own project, so no other test shares the cached client.
    // A caller-built client that reconnects quickly once the region is back.
    const client = new Firestore({
      projectId: PROJECT,
      host: proxy.host,
      ssl: false,
      authClient: emulatorAuthClient() as never,
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 200,
    })
    const probe = createFirestoreProbe({
      client,
      region: 'europe-west1',
      path: freshPath('health'),
      timeoutMs: 1_500,
    })
    return { probe, proxy }
  },
  unhealthy: async ({ proxy }) => proxy.mode('refuse'),
  healthy: async ({ proxy }) => proxy.mode('pass'),
  hang: async ({ proxy }) => proxy.mode('hang'),
  dispose: async ({ probe, proxy }) => {
    await proxy.stop()
    // A check abandoned in the hang test keeps the client busy until its deadline.
    void probe.client.terminate()
  },
})

describe('firestore probe', () => {
  it('writes the health document and reads it back', async () => {
    const path = freshPath('health')
    const probe = createFirestoreProbe({
      projectId: PROJECT,
      endpoint: emulator.host,
      region: 'r1',
      path,
    })
    const sample = await probe.check({ epoch: 1 })
    expect(sample.ok).toBe(true)
    const doc = await probe.client.doc(path).get()
    expect(doc.get('region')).toBe('r1')
    expect(typeof doc.get('nonce')).toBe('string')
    const nonce = doc.get('nonce')
    await probe.check({ epoch: 1 })
    expect((await probe.client.doc(path).get()).get('nonce')).not.toBe(nonce)
    await probe.close()
  })

  it('fails with TIMEOUT when the region does not answer in time', async () => {
    const proxy = await startTcpProxy(emulator.host)
    proxy.mode('hang')
    const probe = createFirestoreProbe({
      projectId: `${PROJECT}-hang`,
      endpoint: proxy.host,
      region: 'r1',
      path: freshPath('health'),
      timeoutMs: 300,
    })
    const sample = await probe.check({ epoch: 1 })
    expect(sample.ok).toBe(false)
    expect(sample.error).toContain('TIMEOUT')
    expect(sample.latencyMs).toBeGreaterThanOrEqual(250)
    await proxy.stop()
    await probe.close()
  })

  it('never starts the read back of a check abandoned at its timeout', async () => {
    // The write answers only after the check has timed out and the probe is
    // closed. Reading then would be wasted work and, on a client the probe
    // terminated, a rejection nobody can catch.
    const client = new Firestore({
      projectId: PROJECT,
      host: emulator.host,
      ssl: false,
      authClient: emulatorAuthClient() as never,
    })
    const path = freshPath('health')
    const real = client.doc(path)
    let releaseWrite: () => void = () => undefined
    const writeHeld = new Promise<void>((resolve) => {
      releaseWrite = resolve
    })
    let reads = 0
    const slow = Object.assign(Object.create(real) as typeof real, {
      set: async (data: Record<string, unknown>) => {
        await writeHeld
        return real.set(data)
      },
      get: () => {
        reads++
        return real.get()
      },
    })
    const doc = client.doc.bind(client)
    client.doc = ((p: string) => (p === path ? slow : doc(p))) as typeof client.doc
    const probe = createFirestoreProbe({ client, region: 'r1', path, timeoutMs: 100 })
    const sample = await probe.check({ epoch: 1 })
    expect(sample.ok).toBe(false)
    expect(sample.error).toContain('TIMEOUT')
    await probe.close()
    releaseWrite()
    // The write lands (the emulator stores it); the read back never starts.
    for (let i = 0; i < 50 && !(await real.get()).exists; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect((await real.get()).exists).toBe(true)
    expect(reads).toBe(0)
    await client.terminate()
  })

  it('refuses bad options with INVALID_CONFIG naming the field', () => {
    for (const [options, field] of [
      [{ path: 'health/x' }, 'region'],
      [{ region: 'r', path: 'health' }, 'path'],
      [{ region: 'r', path: 'health/x', timeoutMs: 0 }, 'timeoutMs'],
    ] as const) {
      let error: unknown
      try {
        createFirestoreProbe({ projectId: PROJECT, endpoint: emulator.host, ...options } as never)
      } catch (e) {
        error = e
      }
      expect(isBatonError(error, 'INVALID_CONFIG'), String(error)).toBe(true)
      expect((error as { path: string }).path).toBe(field)
    }
  })
})
