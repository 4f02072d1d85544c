import { createServer, type Server, type Socket } from 'node:net'
import { describeProbe } from '@baton/core/testing'
import { describe, expect, it } from 'vitest'
import { createPostgresProbe } from '../src/index.js'
import { freePort } from '../src/testing/index.js'
import { sharedServer } from './support/server.js'

const server = sharedServer()

interface Fixture {
  probe: ReturnType<typeof createPostgresProbe>
  silent?: Server
  sockets: Socket[]
}

describeProbe<Fixture>('PostgresProbe', {
  timeoutMs: 20_000,
  async create() {
    return {
      probe: createPostgresProbe({
        region: 'east',
        connectionString: server.url(),
        timeoutMs: 3_000,
      }),
      sockets: [],
    }
  },
  unhealthy: async () => server.cluster.stop('fast'),
  healthy: async () => server.cluster.start(),
  // A server that accepts connections and never answers.
  async hang(f) {
    const port = await freePort()
    const silent = createServer((socket) => f.sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
    f.silent = silent
    f.probe = createPostgresProbe({
      region: 'east',
      connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
      timeoutMs: 30_000,
    })
  },
  async dispose(f) {
    for (const s of f.sockets) s.destroy()
    if (f.silent !== undefined) await new Promise((r) => f.silent!.close(r))
  },
})

describe('PostgresProbe', () => {
  it('fails a write probe on a read-only server and passes a read-only probe there', async () => {
    await server.cluster.query('ALTER SYSTEM SET default_transaction_read_only = on')
    await server.cluster.query('SELECT pg_reload_conf()')
    try {
      const write = await createPostgresProbe({
        region: 'west',
        connectionString: server.url(),
      }).check({ epoch: 1 })
      expect(write.ok).toBe(false)
      expect(write.error).toMatch(/read-only/)
      const read = await createPostgresProbe({
        region: 'west',
        connectionString: server.url(),
        readOnly: true,
      }).check({ epoch: 1 })
      expect(read.ok, read.error).toBe(true)
    } finally {
      await server.cluster.query('ALTER SYSTEM RESET default_transaction_read_only')
      await server.cluster.query('SELECT pg_reload_conf()')
    }
  })

  it('times out against a silent server with ok: false', async () => {
    const port = await freePort()
    const sockets: Socket[] = []
    const silent = createServer((s) => sockets.push(s))
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve))
    try {
      const sample = await createPostgresProbe({
        region: 'east',
        connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
        timeoutMs: 300,
      }).check({ epoch: 1 })
      expect(sample.ok).toBe(false)
      expect(sample.latencyMs).toBeLessThan(5_000)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  it('names the bad option', () => {
    for (const [options, path] of [
      [{ connectionString: server.url() }, 'region'],
      [{ region: 'a', connectionString: 'mysql://x' }, 'connectionString'],
      [{ region: 'a', connectionString: server.url(), timeoutMs: 0 }, 'timeoutMs'],
      [{ region: 'a', connectionString: server.url(), table: 'A-B' }, 'table'],
    ] as const) {
      expect(() => createPostgresProbe(options as never)).toThrow(expect.objectContaining({ path }))
    }
  })
})
