import { describe, expect, it } from 'vitest'
import { createSystemClock, createVirtualClock } from '../src/clock.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import type { SimulatedWorld } from '../src/memory/world-types.js'
import { describeProbe } from '../src/testing/index.js'

const clock = createVirtualClock()
const regions = [
  { id: 'eu-west-1', jurisdiction: 'EU' },
  { id: 'eu-central-1', jurisdiction: 'EU' },
]
const world = (seed = 1): SimulatedWorld =>
  createSimulatedWorld({ clock, seed, regions, home: 'eu-west-1' })

describeProbe('memory region probe', {
  advance: (ms) => clock.advance(ms),
  async create() {
    const w = world()
    return { probe: w.probe('eu-west-1'), world: w }
  },
  healthy: async ({ world }) => world.faults.recover('eu-west-1'),
  unhealthy: async ({ world }) => void world.faults.outage('eu-west-1'),
  hang: async ({ world }) => void world.faults.failCalls({ port: 'probe', mode: 'hang' }),
  dispose: async ({ world }) => world.faults.clearAll(),
})

describeProbe('memory region probe (timing out)', {
  advance: (ms) => clock.advance(ms),
  async create() {
    const w = world()
    return { probe: w.probe('eu-central-1', { timeoutMs: 2_000 }), world: w }
  },
  healthy: async ({ world }) => world.faults.recover('eu-central-1'),
  unhealthy: async ({ world }) =>
    void world.faults.outage('eu-central-1', { error: 'DEADLINE_EXCEEDED' }),
})

describeProbe('memory endpoint probe', {
  advance: (ms) => clock.advance(ms),
  async create() {
    const w = world()
    return { probe: w.endpointProbe(), world: w }
  },
  healthy: async ({ world }) => world.faults.recover('eu-west-1'),
  unhealthy: async ({ world }) => void world.faults.outage('eu-west-1'),
  hang: async ({ world }) => void world.faults.failCalls({ port: 'probe', mode: 'hang' }),
})

describeProbe('memory region probe (system clock)', {
  async create() {
    const w = createSimulatedWorld({
      clock: createSystemClock(),
      regions: [{ id: 'a', latencyMs: 2 }],
      home: 'a',
    })
    return { probe: w.probe('a'), world: w }
  },
  healthy: async ({ world }) => world.faults.recover('a'),
  unhealthy: async ({ world }) => void world.faults.outage('a'),
  hang: async ({ world }) => void world.faults.failCalls({ port: 'probe', mode: 'hang' }),
  dispose: async ({ world }) => world.faults.clearAll(),
})

describe('simulated probes', () => {
  it('take the region latency, plus degradation, on the clock', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [{ id: 'a', latencyMs: 25 }],
      home: 'a',
      workload: false,
    })
    const probe = w.probe('a')
    const pending = probe.check({ epoch: 0 })
    await clock.advance(25)
    expect(await pending).toEqual({ region: 'a', ok: true, at: 25, latencyMs: 25 })
    w.faults.degrade('a', { extraLatencyMs: 75 })
    const slow = probe.check({ epoch: 0 })
    await clock.advance(100)
    expect(await slow).toMatchObject({ ok: true, latencyMs: 100 })
    w.faults.degrade('a', { extraLatencyMs: 10_000 })
    const late = probe.check({ epoch: 0 })
    await clock.advance(5_000)
    expect(await late).toMatchObject({ ok: false, error: 'DEADLINE_EXCEEDED', latencyMs: 5_000 })
  })

  it('fail with the degradation error rate, deterministically by seed', async () => {
    const run = async (seed: number) => {
      const clock = createVirtualClock(0)
      const w = createSimulatedWorld({
        clock,
        seed,
        regions: [{ id: 'a', latencyMs: 0 }],
        home: 'a',
        workload: false,
      })
      w.faults.degrade('a', { errorRate: 0.3, error: 'HTTP_503' })
      const probe = w.probe('a')
      const out: string[] = []
      for (let i = 0; i < 400; i++) {
        const s = await probe.check({ epoch: 0 })
        out.push(s.ok ? 'ok' : s.error!)
      }
      return out
    }
    const a = await run(42)
    expect(await run(42)).toEqual(a)
    expect(await run(43)).not.toEqual(a)
    const failures = a.filter((x) => x === 'HTTP_503').length
    expect(failures).toBeGreaterThan(80)
    expect(failures).toBeLessThan(160)
    expect(a.every((x) => x === 'ok' || x === 'HTTP_503')).toBe(true)
  })

  it('report replication lag for a replica region and request counts since the last sample', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [
        { id: 'a', latencyMs: 0 },
        { id: 'b', latencyMs: 0 },
      ],
      home: 'a',
      database: { primary: 'a', replicas: ['b'], initialLagMs: 2_500 },
      workload: { intervalMs: 1_000 },
    })
    const pa = w.probe('a')
    const pb = w.probe('b')
    await clock.advance(10_000)
    const sa = await pa.check({ epoch: 0 })
    expect(sa.lagMs).toBeUndefined()
    expect(sa.requests).toEqual({ total: 10, errors: 0 })
    const sb = await pb.check({ epoch: 0 })
    // Writes at 1 s … 10 s; the replica has applied up to 7.5 s: 8 s is the oldest pending.
    expect(sb.lagMs).toBe(2_000)
    expect(sb.requests).toEqual({ total: 0, errors: 0 })
    w.faults.outage('a')
    await clock.advance(3_000)
    expect((await pa.check({ epoch: 0 })).requests).toEqual({ total: 3, errors: 3 })
  })

  it('fail when the instance is cut off from the region, for that instance only', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [{ id: 'a', latencyMs: 0 }],
      home: 'a',
      workload: false,
    })
    const cut = w.faults.cut('i1', ['a'], { mode: 'timeout', timeoutMs: 1_500 })
    const p1 = w.connect('i1').probe('a')
    const pending = p1.check({ epoch: 0 })
    await clock.advance(1_500)
    expect(await pending).toMatchObject({ ok: false, error: 'DEADLINE_EXCEEDED', latencyMs: 1_500 })
    expect((await w.connect('i2').probe('a').check({ epoch: 0 })).ok).toBe(true)
    expect(cut.hits).toBe(1)
    cut.clear()
    expect((await p1.check({ epoch: 0 })).ok).toBe(true)
  })

  it('flap: down for the first part of every period', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [{ id: 'a', latencyMs: 0 }],
      home: 'a',
      workload: false,
    })
    w.faults.flap('a', { periodMs: 60_000, downMs: 20_000, at: 10_000 })
    const probe = w.probe('a')
    const seen: boolean[] = []
    for (let i = 0; i < 14; i++) {
      seen.push((await probe.check({ epoch: 0 })).ok)
      await clock.advance(10_000)
    }
    // t = 0, 10 s, …, 130 s: down on [10, 30) and [70, 90) and [130, 150).
    expect(seen).toEqual([
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
    ])
  })

  it('endpoint samples carry servedBy following the effective weights', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [
        { id: 'a', latencyMs: 0 },
        { id: 'b', latencyMs: 0 },
      ],
      home: 'a',
      workload: false,
      traffic: { syncDelayMs: 60_000 },
    })
    const probe = w.endpointProbe()
    expect(probe.region).toBe('global')
    expect((await probe.check({ epoch: 1 })).servedBy).toBe('a')
    await w.router.setWeights({ a: 0, b: 100 }, { epoch: 1 })
    expect((await probe.check({ epoch: 1 })).servedBy).toBe('a')
    await clock.advance(60_000)
    expect((await probe.check({ epoch: 1 })).servedBy).toBe('b')
    w.faults.outage('b')
    const down = await probe.check({ epoch: 1 })
    expect(down).toMatchObject({ ok: false, error: 'UNAVAILABLE' })
    expect(down.servedBy).toBeUndefined()
    await w.router.setWeights({ a: 0, b: 0 }, { epoch: 1 })
    await clock.advance(60_000)
    expect(await probe.check({ epoch: 1 })).toMatchObject({ ok: false, error: 'NO_ROUTE' })
  })

  it('endpoint with health checks routes around a down region', async () => {
    const clock = createVirtualClock(0)
    const w = createSimulatedWorld({
      clock,
      regions: [
        { id: 'a', latencyMs: 0 },
        { id: 'b', latencyMs: 0 },
      ],
      home: 'a',
      workload: false,
      endpoint: { id: 'api', healthChecked: true },
    })
    await w.router.setWeights({ a: 50, b: 50 }, { epoch: 1 })
    w.faults.outage('a')
    const probe = w.endpointProbe()
    for (let i = 0; i < 20; i++) {
      expect(await probe.check({ epoch: 1 })).toMatchObject({
        region: 'api',
        ok: true,
        servedBy: 'b',
      })
    }
  })
})
