import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createVirtualClock } from '../src/clock.js'
import { FencedError } from '../src/errors.js'
import { createMemoryLease } from '../src/memory/lease.js'
import { SimulatedFaultError } from '../src/memory/simulated-error.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import type { SimulatedWorldOptions } from '../src/memory/world-types.js'

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('resolved')
    },
    (e: unknown) => e,
  )

const pathOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    expect(isBatonError(e, 'INVALID_CONFIG'), String(e)).toBe(true)
    return (e as { path: string }).path
  }
  return undefined
}

const twoRegions = (overrides: Partial<SimulatedWorldOptions> = {}) => {
  const clock = createVirtualClock(0)
  const world = createSimulatedWorld({
    clock,
    regions: [
      { id: 'a', latencyMs: 0 },
      { id: 'b', latencyMs: 0 },
    ],
    home: 'a',
    ...overrides,
  })
  return { clock, world }
}

describe('createSimulatedWorld: options', () => {
  it('refuses bad options with errors naming the field', () => {
    const clock = createVirtualClock(0)
    const base = { clock, regions: [{ id: 'a' }, { id: 'b' }], home: 'a' }
    const cases: [Partial<SimulatedWorldOptions> | Record<string, unknown>, string][] = [
      [{ regions: [] }, 'regions'],
      [{ regions: [{ id: 'a' }, { id: 'a' }] }, 'regions[1].id'],
      [{ regions: [{ id: 'a', capacity: 1.5 }] }, 'regions[0].capacity'],
      [{ regions: [{ id: 'a', latencyMs: -1 }] }, 'regions[0].latencyMs'],
      [{ regions: [{ id: 'a', jurisdiction: '' }] }, 'regions[0].jurisdiction'],
      [{ home: 'zz' }, 'home'],
      [{ database: { primary: 'zz', replicas: [] } }, 'database.primary'],
      [{ database: { primary: 'a', replicas: ['zz'] } }, 'database.replicas[0]'],
      [{ database: { primary: 'a', replicas: ['a'] } }, 'database.replicas[0]'],
      [{ database: { primary: 'a', replicas: [], initialLagMs: -5 } }, 'database.initialLagMs'],
      [{ workload: { intervalMs: 0 } }, 'workload.intervalMs'],
      [{ workload: { users: [{ jurisdiction: 'EU', share: 0 }] } }, 'workload.users[0].share'],
      [{ workload: { users: [{ jurisdiction: '', share: 1 }] } }, 'workload.users[0].jurisdiction'],
      [{ traffic: { syncDelayMs: Number.NaN } }, 'traffic.syncDelayMs'],
      [{ scaler: { pollMs: 0 } }, 'scaler.pollMs'],
      [{ timeoutMs: -1 }, 'timeoutMs'],
      [{ seed: 0.5 }, 'seed'],
      [{ clock: {} }, 'clock'],
    ]
    for (const [patch, path] of cases) {
      expect(
        pathOf(() => createSimulatedWorld({ ...base, ...patch } as SimulatedWorldOptions)),
      ).toBe(path)
    }
  })

  it('refuses bad faults with errors naming the field', () => {
    const { world } = twoRegions()
    const f = world.faults
    expect(pathOf(() => f.outage('zz'))).toBe('region')
    expect(pathOf(() => f.outage('a', { durationMs: -1 }))).toBe('durationMs')
    expect(pathOf(() => f.outage('a', { at: Number.NaN }))).toBe('at')
    expect(pathOf(() => f.degrade('a', { errorRate: 2 }))).toBe('errorRate')
    expect(pathOf(() => f.flap('a', { periodMs: 0 }))).toBe('periodMs')
    expect(pathOf(() => f.lagSpike({ lagMs: -1 }))).toBe('lagMs')
    expect(pathOf(() => f.lagSpike({ region: 'zz', lagMs: 1 }))).toBe('region')
    expect(pathOf(() => f.failCalls({ port: 'nope' as never }))).toBe('port')
    expect(pathOf(() => f.failCalls({ mode: 'explode' as never }))).toBe('mode')
    expect(pathOf(() => f.failCalls({ times: -1 }))).toBe('times')
    expect(pathOf(() => f.failCalls({ probability: 1.5 }))).toBe('probability')
    expect(pathOf(() => f.cut('', ['a']))).toBe('instance')
    expect(pathOf(() => f.cut('i', ['a', 'zz']))).toBe('targets[1]')
    expect(pathOf(() => world.connect(''))).toBe('instance')
    expect(pathOf(() => world.probe('zz'))).toBe('region')
  })

  it('defaults: home weighted 100, a database primary at home with replicas elsewhere', async () => {
    const { world } = twoRegions()
    expect(world.regions).toEqual(['a', 'b'])
    expect(world.home).toBe('a')
    expect(world.truth.weights().effective).toEqual({ a: 100, b: 0 })
    expect(world.truth.nodes().map((n) => [n.region, n.role])).toEqual([
      ['a', 'primary'],
      ['b', 'replica'],
    ])
    expect(world.truth.capacity('b')).toEqual({ desired: 1, ready: 1 })
    expect(world.connect('x')).toBe(world.connect('x'))
  })
})

describe('simulated world: workload and ground truth', () => {
  it('sends one request per interval through the effective weights, recording every write', async () => {
    const { clock, world } = twoRegions({ workload: { intervalMs: 500 } })
    await clock.advance(2_000)
    expect(world.truth.requests().map((r) => [r.at, r.routedTo, r.ok])).toEqual([
      [500, 'a', true],
      [1_000, 'a', true],
      [1_500, 'a', true],
      [2_000, 'a', true],
    ])
    expect(world.truth.writes()[0]).toEqual({
      seq: 0,
      at: 500,
      region: 'a',
      routedTo: 'a',
      epoch: 0,
      status: 'committed',
    })
    await world.router.setWeights({ a: 0, b: 0 }, { epoch: 1 })
    await clock.advance(500)
    expect(world.truth.requests().at(-1)).toMatchObject({ ok: false, error: 'NO_ROUTE' })
  })

  it('requests to b write to the primary in a (cross-region) until b is promoted', async () => {
    const { clock, world } = twoRegions()
    await world.router.setWeights({ b: 100 }, { epoch: 1 })
    await clock.advance(1_000)
    expect(world.truth.writes().at(-1)).toMatchObject({ routedTo: 'b', region: 'a' })
    world.faults.outage('a')
    await clock.advance(1_000)
    expect(world.truth.requests().at(-1)).toMatchObject({
      routedTo: 'b',
      ok: false,
      error: 'DB_UNAVAILABLE',
    })
  })

  it('records residency violations for pinned users routed outside their jurisdiction', async () => {
    const clock = createVirtualClock(0)
    const world = createSimulatedWorld({
      clock,
      seed: 3,
      regions: [
        { id: 'eu-west-1', jurisdiction: 'EU' },
        { id: 'us-east-1', jurisdiction: 'US' },
      ],
      home: 'eu-west-1',
      workload: {
        intervalMs: 1_000,
        users: [
          { jurisdiction: 'EU', share: 3 },
          { jurisdiction: 'US', share: 1, pinned: false },
        ],
      },
    })
    await clock.advance(20_000)
    const early = world.truth.violations()
    expect(early).toEqual([])
    await world.router.setWeights({ 'us-east-1': 100 }, { epoch: 1 })
    await clock.advance(20_000)
    const violations = world.truth.violations()
    expect(violations.length).toBeGreaterThan(5)
    for (const v of violations) {
      expect(v).toMatchObject({
        kind: 'residency',
        region: 'us-east-1',
        jurisdiction: 'EU',
        regionJurisdiction: 'US',
      })
      expect(v.at).toBeGreaterThan(20_000)
    }
    const requests = world.truth.requests()
    expect(requests.some((r) => r.jurisdiction === 'US' && !r.pinned)).toBe(true)
    expect(requests.filter((r) => r.pinned).every((r) => r.jurisdiction === 'EU')).toBe(true)
  })

  it('is deterministic by seed', async () => {
    const script = async (seed: number) => {
      const clock = createVirtualClock(0)
      const world = createSimulatedWorld({
        clock,
        seed,
        regions: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
        home: 'a',
        database: { primary: 'a', replicas: ['b', 'c'], initialLagMs: 1_500 },
        workload: { intervalMs: 250 },
      })
      await world.router.setWeights({ a: 50, b: 30, c: 20 }, { epoch: 1 })
      world.faults.degrade('b', { errorRate: 0.4, at: 5_000, durationMs: 20_000 })
      world.faults.flap('c', { periodMs: 7_000, at: 3_000 })
      world.faults.failCalls({ port: 'probe', probability: 0.3 })
      const probes = [world.probe('a'), world.probe('b'), world.endpointProbe()]
      const samples: unknown[] = []
      for (let i = 0; i < 40; i++) {
        for (const p of probes) {
          const s = p.check({ epoch: 1 })
          await clock.advance(100)
          samples.push(await s)
        }
        await clock.advance(700)
      }
      world.faults.outage('a')
      await world.database.promote('b', { graceful: false }, { epoch: 2 })
      await clock.advance(10_000)
      return {
        samples,
        requests: world.truth.requests(),
        writes: world.truth.writes(),
        loss: world.truth.dataLoss(),
        events: world.truth.events(),
      }
    }
    const one = await script(17)
    expect(await script(17)).toEqual(one)
    const other = await script(18)
    expect(other.requests).not.toEqual(one.requests)
    expect(one.loss.lost).toBeGreaterThan(0)
  })

  it('schedules faults ahead and ends them by duration, logging events', async () => {
    const { clock, world } = twoRegions({ workload: false })
    const outage = world.faults.outage('a', { at: 60_000, durationMs: 30_000 })
    const probe = world.probe('a')
    const at = async (t: number) => {
      await clock.advance(t - clock.now())
      return (await probe.check({ epoch: 0 })).ok
    }
    expect(await at(59_999)).toBe(true)
    expect(await at(60_000)).toBe(false)
    expect(world.truth.regionHealth('a')).toEqual({
      up: false,
      error: 'UNAVAILABLE',
      errorRate: 0,
      extraLatencyMs: 0,
    })
    expect(world.truth.regionHealth('a', 10)).toMatchObject({ up: true })
    expect(await at(89_999)).toBe(false)
    expect(await at(90_000)).toBe(true)
    outage.clear()
    expect(outage).toMatchObject({ kind: 'outage', hits: 0 })
    const types = world.truth.events().map((e) => e.type)
    expect(types).toEqual(['world.created', 'fault.injected'])
    world.faults.outage('b')
    world.faults.recover('b')
    expect((await world.probe('b').check({ epoch: 0 })).ok).toBe(true)
    expect(world.truth.events().at(-1)).toMatchObject({ type: 'fault.cleared', region: 'b' })
  })
})

describe('simulated world: call faults and partitions', () => {
  it('fails calls by port and method, for a number of times after skipping some', async () => {
    const { world } = twoRegions()
    const fault = world.faults.failCalls({
      port: 'traffic',
      method: 'setWeights',
      skip: 1,
      times: 2,
      error: 'THROTTLED',
    })
    const set = () => world.router.setWeights({ a: 100 }, { epoch: 1 })
    await set()
    for (let i = 0; i < 2; i++) {
      const e = await rejection(set())
      expect(e).toBeInstanceOf(SimulatedFaultError)
      expect(e).toMatchObject({ fault: 'THROTTLED', call: 'traffic.setWeights', code: 'ADAPTER' })
    }
    await set()
    await world.router.getWeights({ epoch: 1 })
    expect(fault.hits).toBe(2)
    expect(world.truth.calls().map((c) => c.outcome)).toEqual([
      'ok',
      'failed',
      'failed',
      'ok',
      'ok',
    ])
  })

  it('fails with a delay, and only for one instance or region', async () => {
    const { clock, world } = twoRegions()
    world.faults.failCalls({ port: 'database', region: 'b', instance: 'i1', delayMs: 5_000 })
    const i1 = world.connect('i1').database
    const pending = rejection(i1.replicationLag('b', { epoch: 1 }))
    await clock.advance(5_000)
    expect(await pending).toBeInstanceOf(SimulatedFaultError)
    expect(world.truth.calls().at(-1)).toMatchObject({
      startedAt: 0,
      at: 5_000,
      outcome: 'failed',
      region: 'b',
    })
    await i1.replicationLag('a', { epoch: 1 })
    await world.connect('i2').database.replicationLag('b', { epoch: 1 })
  })

  it('slow calls take longer and then succeed', async () => {
    const { clock, world } = twoRegions()
    world.faults.failCalls({ port: 'scaler', mode: 'slow', delayMs: 30_000 })
    let done = false
    const pending = world.scaler.scale('b', 3, { epoch: 1 }).then(() => {
      done = true
    })
    await clock.advance(29_999)
    expect(done).toBe(false)
    await clock.advance(1)
    await pending
    expect(world.truth.capacity('b').desired).toBe(3)
  })

  it('hanging calls wait for abort, for the fault to end, or for clear', async () => {
    const { clock, world } = twoRegions()
    const hang = world.faults.failCalls({
      port: 'database',
      method: 'promote',
      mode: 'hang',
      durationMs: 60_000,
    })
    const controller = new AbortController()
    const aborted = rejection(
      world.database.promote('b', { graceful: false }, { epoch: 1, signal: controller.signal }),
    )
    const ended = rejection(world.database.promote('b', { graceful: false }, { epoch: 1 }))
    await clock.advance(10_000)
    controller.abort()
    expect(isBatonError(await aborted, 'ABORTED')).toBe(true)
    await clock.advance(50_000)
    expect(await ended).toMatchObject({ fault: 'CONNECTION_RESET' })
    expect(hang.hits).toBe(2)
    const forever = world.faults.failCalls({ port: 'notifier', mode: 'hang' })
    const cleared = rejection(
      world.notifier.notify(
        { kind: 'progress', severity: 'P3', title: '', body: '' },
        { epoch: 1 },
      ),
    )
    await clock.advance(1_000_000)
    forever.clear()
    expect(await cleared).toMatchObject({ fault: 'CONNECTION_RESET' })
    expect(world.truth.primary()).toBe('a')
  })

  it('probabilistic faults follow the seed', async () => {
    const run = async (seed: number) => {
      const { world } = twoRegions({ seed })
      world.faults.failCalls({ port: 'traffic', probability: 0.5 })
      const out: boolean[] = []
      for (let i = 0; i < 64; i++) {
        out.push(
          await world.router.getWeights({ epoch: 1 }).then(
            () => true,
            () => false,
          ),
        )
      }
      return out
    }
    const a = await run(1)
    expect(await run(1)).toEqual(a)
    expect(a.filter(Boolean).length).toBeGreaterThan(16)
    expect(a.filter(Boolean).length).toBeLessThan(48)
  })

  it('clearAll ends every fault and cut', async () => {
    const { world } = twoRegions()
    world.faults.outage('a')
    world.faults.cut('default', ['traffic'])
    world.faults.failCalls({ port: 'scaler' })
    world.faults.clearAll()
    expect((await world.probe('a').check({ epoch: 0 })).ok).toBe(true)
    await world.router.getWeights({ epoch: 0 })
    await world.scaler.capacity('a', { epoch: 0 })
  })
})

describe('simulated world: several controllers, a lease, fencing', () => {
  it('a partitioned old holder is fenced out everywhere once the new holder acts', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const world = createSimulatedWorld({
      clock,
      seed: 9,
      regions: [{ id: 'a' }, { id: 'b' }],
      home: 'a',
      database: { primary: 'a', replicas: ['b'], initialLagMs: 1_000 },
    })
    const one = { lease: lease.view('one'), ports: world.connect('one') }
    const two = { lease: lease.view('two'), ports: world.connect('two') }
    const g1 = (await one.lease.acquire('one', 10_000))!
    await one.ports.router.setWeights({ a: 100 }, { epoch: g1.epoch })
    // one is cut off from the lease store and region a; its lease runs out.
    lease.partition('one')
    world.faults.cut('one', ['a'])
    await clock.advance(10_000)
    expect(await rejection(one.lease.renew(g1, 10_000))).toBeInstanceOf(SimulatedFaultError)
    const g2 = (await two.lease.acquire('two', 10_000))!
    expect(g2.epoch).toBe(g1.epoch + 1)
    // two fails over: a is down.
    world.faults.outage('a')
    await two.ports.database.promote('b', { graceful: false }, { epoch: g2.epoch })
    await two.ports.router.setWeights({ b: 100 }, { epoch: g2.epoch })
    // one, still believing it leads, tries to move things back.
    expect(
      await rejection(one.ports.router.setWeights({ a: 100 }, { epoch: g1.epoch })),
    ).toBeInstanceOf(FencedError)
    expect(
      await rejection(one.ports.database.promote('a', { graceful: false }, { epoch: g1.epoch })),
    ).toBeInstanceOf(FencedError)
    expect(world.truth.fencedCalls().map((c) => [c.instance, c.port, c.method])).toEqual([
      ['one', 'traffic', 'setWeights'],
      ['one', 'database', 'promote'],
    ])
    expect(world.truth.highestEpochs()).toEqual({ traffic: 2, database: 2, scaler: 0 })
    // a comes back; two fences it before traffic could reach it.
    world.faults.recover('a')
    expect(await two.ports.database.fence('a', { epoch: g2.epoch })).toEqual({
      fenced: true,
      reachable: true,
    })
    await clock.advance(30_000)
    expect(world.truth.violations()).toEqual([])
    expect(world.truth.primary()).toBe('b')
    const writers = new Set(
      world.truth
        .writes()
        .filter((w) => w.at > 10_000 && w.status !== 'lost')
        .map((w) => w.region),
    )
    expect([...writers]).toEqual(['b'])
    expect(lease.tenures().map((t) => [t.holder, t.epoch])).toEqual([
      ['one', 1],
      ['two', 2],
    ])
  })

  it('runs a day of traffic quickly', async () => {
    const { clock, world } = twoRegions({ workload: { intervalMs: 1_000 } })
    world.faults.flap('b', { periodMs: 600_000 })
    const started = performance.now()
    for (let h = 0; h < 24; h++) {
      await clock.advance(3_600_000)
      await world.database.primaryRegion({ epoch: 0 })
    }
    expect(world.truth.requests()).toHaveLength(86_400)
    expect(performance.now() - started).toBeLessThan(5_000)
  })
})
