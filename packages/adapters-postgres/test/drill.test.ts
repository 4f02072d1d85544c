import { createServer, type Server } from 'node:http'
import { describeProbe, describeTrafficRouter } from '@baton/core/testing'
import { describe, expect, it } from 'vitest'
import {
  createHttpProbe,
  type LoopbackRouter,
  localDrillReportMarkdown,
  runPostgresFailoverDrill,
  runPostgresSwitchoverDrill,
  startLoopbackRouter,
} from '../src/drill/index.js'

async function backend(region: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ region }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const a = server.address()
  return { server, url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}` }
}

interface RouterFixture {
  router: LoopbackRouter
  regions: readonly string[]
  servers: Server[]
}

describeTrafficRouter<RouterFixture>('LoopbackRouter', {
  async create() {
    const a = await backend('a')
    const b = await backend('b')
    const router = await startLoopbackRouter({
      backends: { a: a.url, b: b.url },
      weights: { a: 100, b: 0 },
    })
    return { router, regions: ['a', 'b'], servers: [a.server, b.server] }
  },
  async dispose(f) {
    await f.router.close()
    for (const s of f.servers) await new Promise((r) => s.close(r))
  },
})

describeProbe<{ probe: ReturnType<typeof createHttpProbe>; server: Server }>('HttpProbe', {
  async create() {
    const b = await backend('a')
    return { probe: createHttpProbe('a', b.url, 1_000), server: b.server }
  },
  unhealthy: async (f) => {
    f.server.closeAllConnections()
    await new Promise((r) => f.server.close(r))
  },
  async dispose(f) {
    f.server.closeAllConnections()
    await new Promise((r) => f.server.close(r))
  },
})

describe('LoopbackRouter', () => {
  it('sends requests by weight and reports the region that served', async () => {
    const a = await backend('a')
    const b = await backend('b')
    const router = await startLoopbackRouter({
      backends: { a: a.url, b: b.url },
      weights: { a: 100, b: 0 },
    })
    try {
      const served = async (): Promise<string> =>
        ((await (await fetch(`${router.url}/health`)).json()) as { region: string }).region
      for (let i = 0; i < 5; i++) expect(await served()).toBe('a')
      await router.setWeights({ a: 0, b: 100 }, { epoch: 1 })
      for (let i = 0; i < 5; i++) expect(await served()).toBe('b')
      await router.setWeights({ a: 50, b: 50 }, { epoch: 1 })
      const seen = new Set<string>()
      for (let i = 0; i < 60; i++) seen.add(await served())
      expect([...seen].sort()).toEqual(['a', 'b'])
      await expect(router.setWeights({ c: 1 }, { epoch: 1 })).rejects.toThrow(/weights\.c/)
      await expect(router.setWeights({ a: -1 }, { epoch: 1 })).rejects.toThrow(/weights\.a/)
    } finally {
      await router.close()
      for (const s of [a.server, b.server]) await new Promise((r) => s.close(r))
    }
  })
})

describe('postgres-local drills (real PostgreSQL servers, real HTTP services)', () => {
  it('fails over after a hard kill with a synchronous standby cut off before the kill: no acknowledged row lost, gated failback, verified ledger', async () => {
    const report = await runPostgresFailoverDrill({ synchronous: true, stallReplicationMs: 400 })
    const failed = report.checks.filter((c) => !c.ok)
    expect(failed, localDrillReportMarkdown(report)).toEqual([])
    expect(report.passed).toBe(true)
    expect(report.rpo.lostRows).toBe(0)
    expect(report.stalledReplicationMs).toBe(400)
    expect(
      report.timeline.some((t) => /stalled for 400 ms; 0 writes acknowledged/.test(t.what)),
    ).toBe(true)
    expect(report.rpo.acknowledged).toBeGreaterThanOrEqual(100)
    expect(report.detectionMs).toBeGreaterThan(0)
    expect(report.rtoMs).toBeGreaterThan(report.detectionMs!)
    expect(report.failback?.stages).toEqual([10, 50, 100])
    expect(report.rows.east).toBe(report.rows.west)
    expect(report.ledger.status).toBe('VERIFIED')
    expect(report.ledger.types['failover.completed']).toBe(1)
    expect(report.ledger.types['failback.completed']).toBe(1)
  })

  it('switches over on request with zero data loss, checked by row counts in both servers', async () => {
    const report = await runPostgresSwitchoverDrill({ synchronous: false })
    expect(
      report.checks.filter((c) => !c.ok),
      localDrillReportMarkdown(report),
    ).toEqual([])
    expect(report.rpo.lostRows).toBe(0)
    expect(report.ledger.types['failover.completed']).toBe(1)
    expect(localDrillReportMarkdown(report)).toMatch(/PASSED/)
  })
})
