import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createVirtualClock } from '../src/clock.js'
import { FencedError } from '../src/errors.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import type { SimulatedWorld, SimulatedWorldOptions } from '../src/memory/world-types.js'
import { describeDatabase } from '../src/testing/index.js'

const clock = createVirtualClock()
const regions = [{ id: 'eu-west-1' }, { id: 'eu-central-1' }, { id: 'us-east-1' }]

describeDatabase('memory (synchronous replica)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  async create() {
    const world = createSimulatedWorld({ clock, regions, home: 'eu-west-1' })
    return { database: world.database, primary: 'eu-west-1', replica: 'eu-central-1', world }
  },
  write: () => clock.advance(5_000),
  unreachable: async ({ world }, region) => void world.faults.outage(region),
})

describeDatabase('memory (lagging replica, slow promotion)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  async create() {
    const world = createSimulatedWorld({
      clock,
      regions,
      home: 'eu-west-1',
      database: {
        name: 'rds:orders',
        primary: 'eu-west-1',
        replicas: ['us-east-1', 'eu-central-1'],
        initialLagMs: 3_000,
        promoteMs: 20_000,
      },
      workload: { intervalMs: 200 },
    })
    return { database: world.database, primary: 'eu-west-1', replica: 'us-east-1', world }
  },
  write: () => clock.advance(10_000),
  unreachable: async ({ world }, region) =>
    void world.faults.outage(region, { error: 'DEADLINE_EXCEEDED' }),
})

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('resolved')
    },
    (e: unknown) => e,
  )

const make = (overrides: Partial<SimulatedWorldOptions> = {}) => {
  const clock = createVirtualClock(0)
  const world: SimulatedWorld = createSimulatedWorld({
    clock,
    regions: [
      { id: 'a', latencyMs: 0 },
      { id: 'b', latencyMs: 0 },
      { id: 'c', latencyMs: 0 },
    ],
    home: 'a',
    database: { primary: 'a', replicas: ['b', 'c'], initialLagMs: 2_000 },
    workload: { intervalMs: 1_000 },
    ...overrides,
  })
  return { clock, world, db: world.database }
}

describe('simulated database', () => {
  it('measures lag against committed writes; a stall makes it grow while the primary takes writes', async () => {
    const { clock, world, db } = make()
    expect((await db.replicationLag('b', { epoch: 1 })).lagMs).toBe(0)
    await clock.advance(10_000)
    expect(await db.replicationLag('b', { epoch: 1 })).toEqual({
      region: 'b',
      lagMs: 1_000,
      measuredAt: 10_000,
    })
    world.faults.stallReplication({ region: 'b' })
    await clock.advance(30_000)
    // b applied everything up to 8 s; the write at 9 s has waited 31 s.
    expect((await db.replicationLag('b', { epoch: 1 })).lagMs).toBe(31_000)
    expect((await db.replicationLag('c', { epoch: 1 })).lagMs).toBe(1_000)
    expect((await db.replicationLag('a', { epoch: 1 })).lagMs).toBe(0)
    world.faults.clearAll()
    await clock.advance(1)
    expect((await db.replicationLag('b', { epoch: 1 })).lagMs).toBeLessThanOrEqual(2_001)
  })

  it('a lag spike raises the replication delay for its window', async () => {
    const { clock, world, db } = make()
    await clock.advance(10_000)
    world.faults.lagSpike({ region: 'c', lagMs: 20_000, durationMs: 40_000 })
    await clock.advance(30_000)
    // c has applied up to 40 s − 20 s; the oldest pending write is from 21 s.
    expect((await db.replicationLag('c', { epoch: 1 })).lagMs).toBe(19_000)
    expect((await db.replicationLag('b', { epoch: 1 })).lagMs).toBe(1_000)
    await clock.advance(10_000)
    expect((await db.replicationLag('c', { epoch: 1 })).lagMs).toBe(1_000)
    expect(world.truth.nodes().find((n) => n.region === 'c')).toMatchObject({
      role: 'replica',
      lagMs: 1_000,
    })
  })

  it('graceful promotion stops writes, waits for lag 0, loses nothing, demotes the old primary', async () => {
    const { clock, world, db } = make()
    await clock.advance(10_500)
    let done = false
    const promotion = db.promote('b', { graceful: true }, { epoch: 1 }).then((p) => {
      done = true
      return p
    })
    await clock.advance(1_000)
    expect(done).toBe(false)
    // The write at 11 s was refused: the primary is read-only during the switchover.
    expect(world.truth.requests().at(-1)).toMatchObject({
      at: 11_000,
      ok: false,
      error: 'READ_ONLY',
    })
    await clock.advance(1_000)
    expect(await promotion).toEqual({
      region: 'b',
      promotedAt: 12_000,
      lost: { transactions: 0, ms: 0 },
    })
    expect(await db.primaryRegion({ epoch: 1 })).toBe('b')
    expect(world.truth.dataLoss()).toEqual({ lost: 0, diverged: 0, rpoMs: 0 })
    expect(world.truth.nodes().map((n) => [n.region, n.role, n.current, n.epoch])).toEqual([
      ['a', 'replica', false, 0],
      ['b', 'primary', true, 1],
      ['c', 'replica', false, 0],
    ])
    await clock.advance(5_000)
    const writes = world.truth.writes()
    expect(writes.at(-1)).toMatchObject({ region: 'b', epoch: 1, status: 'committed' })
    expect(writes.every((w) => w.status === 'committed')).toBe(true)
  })

  it('graceful promotion needs a reachable primary and gives up after its timeout', async () => {
    const { clock, world, db } = make({
      database: {
        primary: 'a',
        replicas: ['b', 'c'],
        initialLagMs: 2_000,
        switchoverTimeoutMs: 60_000,
      },
    })
    await clock.advance(5_000)
    world.faults.stallReplication({ region: 'b' })
    await clock.advance(5_000)
    const stuck = rejection(db.promote('b', { graceful: true }, { epoch: 1 }))
    await clock.advance(60_000)
    expect(isBatonError(await stuck, 'TIMEOUT')).toBe(true)
    expect(world.truth.nodes()[0]).toMatchObject({ region: 'a', role: 'primary', switching: false })
    world.faults.outage('a')
    const down = await rejection(db.promote('c', { graceful: true }, { epoch: 1 }))
    expect(isBatonError(down, 'ADAPTER')).toBe(true)
    expect(await db.primaryRegion({ epoch: 1 })).toBe('a')
  })

  it('ungraceful promotion loses what had not replicated and records the RPO', async () => {
    const { clock, world, db } = make()
    await clock.advance(10_000)
    world.faults.outage('a')
    await clock.advance(60_000)
    const lag = await db.replicationLag('b', { epoch: 1 })
    // Writes at 9 s and 10 s never shipped; the oldest has waited 61 s.
    expect(lag.lagMs).toBe(61_000)
    const promotion = await db.promote('b', { graceful: false }, { epoch: 2 })
    expect(promotion).toEqual({
      region: 'b',
      promotedAt: 70_000,
      lost: { transactions: 2, ms: 2_000 },
    })
    expect(world.truth.dataLoss()).toEqual({ lost: 2, diverged: 0, rpoMs: 2_000 })
    expect(
      world.truth
        .writes()
        .filter((w) => w.status === 'lost')
        .map((w) => w.at),
    ).toEqual([9_000, 10_000])
    expect(world.truth.promotions()).toEqual([
      {
        at: 70_000,
        region: 'b',
        from: 'a',
        graceful: false,
        epoch: 2,
        instance: 'default',
        lostWrites: 2,
        lostMs: 2_000,
      },
    ])
    // Traffic still goes to a (down): requests fail until it moves.
    await world.router.setWeights({ b: 100 }, { epoch: 2 })
    await clock.advance(3_000)
    expect(
      world.truth
        .writes()
        .slice(-3)
        .map((w) => [w.region, w.status]),
    ).toEqual([
      ['b', 'committed'],
      ['b', 'committed'],
      ['b', 'committed'],
    ])
  })

  it('split brain: an unfenced old primary that recovers takes writes routed to it', async () => {
    const { clock, world, db } = make()
    await clock.advance(5_000)
    world.faults.outage('a', { durationMs: 30_000 })
    await clock.advance(10_000)
    await db.promote('b', { graceful: false }, { epoch: 2 })
    // Traffic was never moved; a comes back still believing it is the primary.
    await clock.advance(30_000)
    expect(world.truth.nodes()[0]).toMatchObject({
      region: 'a',
      role: 'primary',
      current: false,
      epoch: 0,
    })
    const diverged = world.truth.writes().filter((w) => w.status === 'diverged')
    expect(diverged.length).toBeGreaterThan(0)
    expect(diverged.every((w) => w.region === 'a' && w.epoch === 0)).toBe(true)
    const violations = world.truth.violations()
    expect(violations[0]).toMatchObject({ kind: 'split-brain', region: 'a', primary: 'b' })
    // verifyWrites tells the truth: the zombie accepts writes.
    expect((await db.verifyWrites('a', { epoch: 2 })).ok).toBe(true)
    // Fencing it stops that: its app servers write to the real primary.
    expect(await db.fence('a', { epoch: 2 })).toEqual({ fenced: true, reachable: true })
    const before = world.truth.dataLoss().diverged
    await clock.advance(5_000)
    expect(world.truth.dataLoss().diverged).toBe(before)
    expect(world.truth.writes().at(-1)).toMatchObject({
      region: 'b',
      routedTo: 'a',
      status: 'committed',
    })
    expect(await db.verifyWrites('a', { epoch: 2 })).toMatchObject({
      ok: false,
      error: 'READ_ONLY: a is a fenced',
    })
  })

  it('fence of an unreachable region reports it; promote of a fenced old primary needs a rebuild', async () => {
    const { clock, world, db } = make({
      database: { primary: 'a', replicas: ['b'], autoRebuildMs: 120_000 },
    })
    world.faults.outage('a', { durationMs: 10_000 })
    await db.promote('b', { graceful: false }, { epoch: 1 })
    expect(await db.fence('a', { epoch: 1 })).toEqual({ fenced: false, reachable: false })
    await clock.advance(10_000)
    expect(await db.fence('a', { epoch: 1 })).toEqual({ fenced: true, reachable: true })
    const e = await rejection(db.promote('a', { graceful: true }, { epoch: 1 }))
    expect(isBatonError(e, 'INVALID_STATE')).toBe(true)
    await clock.advance(120_000)
    expect(world.truth.nodes()[0]).toMatchObject({ region: 'a', role: 'replica' })
    expect(world.truth.events().some((x) => x.type === 'database.rebuilt')).toBe(true)
    // Failback: a graceful switchover back to a loses nothing.
    const back = await db.promote('a', { graceful: true }, { epoch: 1 })
    expect(back.lost).toEqual({ transactions: 0, ms: 0 })
    expect(world.truth.primary()).toBe('a')
  })

  it('rebuild re-seeds a node by hand; not the current primary', async () => {
    const { world } = make()
    expect(() => world.rebuild('a')).toThrow(/current primary/)
    world.rebuild('b')
    expect(world.truth.nodes()[1]).toMatchObject({ region: 'b', role: 'replica', lagMs: 0 })
  })

  it('promoting the current primary is a no-op; unknown regions are named', async () => {
    const { db, world } = make()
    expect(await db.promote('a', { graceful: false }, { epoch: 1 })).toEqual({
      region: 'a',
      promotedAt: 0,
    })
    expect(world.truth.promotions()).toEqual([])
    const e = await rejection(db.replicationLag('zz', { epoch: 1 }))
    expect(isBatonError(e, 'INVALID_CONFIG')).toBe(true)
    const g = await rejection(db.promote('b', {} as never, { epoch: 1 }))
    expect((g as { path: string }).path).toBe('options.graceful')
  })

  it('a promotion refuses to commit if a newer epoch appeared while it waited', async () => {
    const { clock, world } = make({
      database: { primary: 'a', replicas: ['b', 'c'], promoteMs: 30_000 },
    })
    const old = world.connect('old').database
    const fresh = world.connect('new').database
    const pending = rejection(old.promote('b', { graceful: false }, { epoch: 1 }))
    await clock.advance(10_000)
    await fresh.snapshot('a', { epoch: 2 })
    await clock.advance(20_000)
    const e = await pending
    expect(e).toBeInstanceOf(FencedError)
    expect(world.truth.primary()).toBe('a')
    expect(world.truth.fencedCalls()).toMatchObject([
      { instance: 'old', method: 'promote', epoch: 1 },
    ])
    expect(world.truth.snapshots()).toEqual([{ id: 'snapshot-1', region: 'a', at: 10_000 }])
  })

  it('an aborted graceful promotion lets the primary take writes again', async () => {
    const { clock, world, db } = make()
    await clock.advance(5_000)
    world.faults.stallReplication()
    const controller = new AbortController()
    const pending = rejection(
      db.promote('b', { graceful: true }, { epoch: 1, signal: controller.signal }),
    )
    await clock.advance(3_000)
    controller.abort()
    expect(isBatonError(await pending, 'ABORTED')).toBe(true)
    await clock.advance(2_000)
    expect(world.truth.requests().at(-1)).toMatchObject({ ok: true })
  })

  it('a cut instance cannot reach a region: errors, unreachable fence, failed verify', async () => {
    const { world } = make()
    world.faults.cut('i1', ['b'])
    const db = world.connect('i1').database
    expect(isBatonError(await rejection(db.replicationLag('b', { epoch: 1 })), 'ADAPTER')).toBe(
      true,
    )
    expect(await db.fence('b', { epoch: 1 })).toEqual({ fenced: false, reachable: false })
    expect(await db.verifyWrites('b', { epoch: 1 })).toMatchObject({
      ok: false,
      error: 'UNAVAILABLE',
    })
    expect(await db.primaryRegion({ epoch: 1 })).toBe('a')
    expect((await world.database.replicationLag('b', { epoch: 1 })).region).toBe('b')
  })
})
