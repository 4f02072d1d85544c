import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createVirtualClock } from '../src/clock.js'
import { FencedError } from '../src/errors.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import { describeTrafficRouter } from '../src/testing/index.js'

const clock = createVirtualClock()
const regions = [{ id: 'us-east-1' }, { id: 'us-west-2' }, { id: 'eu-west-1' }]

describeTrafficRouter('memory (instant sync)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  create: async () => ({
    router: createSimulatedWorld({ clock, regions, home: 'us-east-1' }).router,
    regions: ['us-east-1', 'us-west-2'],
  }),
})

describeTrafficRouter('memory (slow sync, per-instance view)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  fullWeight: 255,
  create: async () => ({
    router: createSimulatedWorld({
      clock,
      regions,
      home: 'us-east-1',
      traffic: { name: 'route53:Z1/api.example.com', syncDelayMs: 45_000 },
    }).connect('controller-2').router,
    regions: ['us-west-2', 'eu-west-1', 'us-east-1'],
  }),
})

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('resolved')
    },
    (e: unknown) => e,
  )

describe('simulated traffic router', () => {
  const make = (syncDelayMs = 0) => {
    const clock = createVirtualClock(0)
    const world = createSimulatedWorld({
      clock,
      regions: [{ id: 'a' }, { id: 'b' }],
      home: 'a',
      traffic: { syncDelayMs },
      workload: false,
    })
    return { clock, world }
  }

  it('starts with all weight on home and reports every region', async () => {
    const { world } = make()
    expect(await world.router.getWeights({ epoch: 0 })).toEqual({ a: 100, b: 0 })
    expect(world.truth.weights()).toEqual({
      submitted: { a: 100, b: 0 },
      effective: { a: 100, b: 0 },
    })
  })

  it('applies a change once in sync; getWeights shows it at once, the endpoint later', async () => {
    const { clock, world } = make(30_000)
    const change = await world.router.setWeights({ b: 100 }, { epoch: 1 })
    expect(change).toEqual({ id: 'change-1', weights: { a: 0, b: 100 }, submittedAt: 0 })
    expect(await world.router.getWeights({ epoch: 1 })).toEqual({ a: 0, b: 100 })
    expect(world.truth.weights().effective).toEqual({ a: 100, b: 0 })
    let synced = false
    const wait = world.router.waitInSync(change, { epoch: 1 }).then(() => {
      synced = true
    })
    await clock.advance(29_999)
    expect(synced).toBe(false)
    await clock.advance(1)
    await wait
    expect(synced).toBe(true)
    expect(world.truth.weights().effective).toEqual({ a: 0, b: 100 })
    expect(world.truth.routingChanges().map((c) => [c.id, c.effectiveAt, c.epoch])).toEqual([
      ['initial', 0, -1],
      ['change-1', 30_000, 1],
    ])
  })

  it('slowTrafficSync delays changes submitted during its window; changes stay in order', async () => {
    const { clock, world } = make(1_000)
    const slow = world.faults.slowTrafficSync({ delayMs: 120_000, durationMs: 10_000 })
    const first = await world.router.setWeights({ a: 50, b: 50 }, { epoch: 1 })
    await clock.advance(10_000)
    expect(slow.kind).toBe('slow-sync')
    const second = await world.router.setWeights({ a: 0, b: 100 }, { epoch: 1 })
    const changes = world.truth.routingChanges()
    expect(changes[1]!.effectiveAt).toBe(120_000)
    // Submitted later with a fast sync, but it cannot overtake the first.
    expect(changes[2]!.effectiveAt).toBe(120_000)
    const done = Promise.all([
      world.router.waitInSync(first, { epoch: 1 }),
      world.router.waitInSync(second, { epoch: 1 }),
    ])
    await clock.advance(110_000)
    await done
    expect(clock.now()).toBe(120_000)
    expect(world.truth.weights().effective).toEqual({ a: 0, b: 100 })
  })

  it('refuses unknown regions and unknown changes with errors naming the field', async () => {
    const { world } = make()
    const e1 = await rejection(world.router.setWeights({ a: 1, zz: 1 }, { epoch: 1 }))
    expect(isBatonError(e1, 'INVALID_CONFIG')).toBe(true)
    expect((e1 as { path: string }).path).toBe('weights.zz')
    const e2 = await rejection(world.router.setWeights(null as never, { epoch: 1 }))
    expect((e2 as { path: string }).path).toBe('weights')
    const e3 = await rejection(
      world.router.waitInSync({ id: 'nope', weights: {}, submittedAt: 0 }, { epoch: 1 }),
    )
    expect((e3 as { path: string }).path).toBe('change.id')
    const e4 = await rejection(world.router.getWeights({ epoch: -1 }))
    expect((e4 as { path: string }).path).toBe('ctx.epoch')
  })

  it('describes a change line by line', async () => {
    const { world } = make()
    expect(await world.router.describe({ a: 0, b: 100 })).toEqual([
      'memory:traffic: set weight of a from 100 to 0',
      'memory:traffic: set weight of b from 0 to 100',
      'then wait until the change is in sync (about 0 ms)',
    ])
  })

  it('refuses stale epochs, reads included, and records them', async () => {
    const { world } = make()
    const i1 = world.connect('i1').router
    const i2 = world.connect('i2').router
    await i1.setWeights({ a: 100 }, { epoch: 3 })
    await i2.getWeights({ epoch: 4 })
    const e = await rejection(i1.setWeights({ b: 100 }, { epoch: 3 }))
    expect(e).toBeInstanceOf(FencedError)
    expect(e).toMatchObject({ epoch: 3, current: 4 })
    expect(await rejection(i1.getWeights({ epoch: 3 }))).toBeInstanceOf(FencedError)
    expect(world.truth.fencedCalls().map((c) => [c.instance, c.method, c.epoch])).toEqual([
      ['i1', 'setWeights', 3],
      ['i1', 'getWeights', 3],
    ])
    expect(world.truth.highestEpochs()).toEqual({ traffic: 4, database: 0, scaler: 0 })
    expect(world.truth.weights().submitted).toEqual({ a: 100, b: 0 })
  })

  it('with fenceReads: false, stale reads pass and do not raise the epoch', async () => {
    const clock = createVirtualClock(0)
    const world = createSimulatedWorld({
      clock,
      regions: [{ id: 'a' }],
      home: 'a',
      fenceReads: false,
    })
    await world.router.setWeights({ a: 100 }, { epoch: 5 })
    expect(await world.router.getWeights({ epoch: 1 })).toEqual({ a: 100 })
    await world.router.getWeights({ epoch: 9 })
    expect(world.truth.highestEpochs().traffic).toBe(5)
  })

  it('fails for an instance cut off from the traffic API', async () => {
    const { world } = make()
    world.faults.cut('i1', ['traffic'])
    const e = await rejection(world.connect('i1').router.setWeights({ b: 100 }, { epoch: 1 }))
    expect(isBatonError(e, 'ADAPTER')).toBe(true)
    expect((e as { fault: string }).fault).toBe('UNAVAILABLE')
    expect(world.truth.weights().submitted).toEqual({ a: 100, b: 0 })
    await world.connect('i2').router.setWeights({ b: 100 }, { epoch: 1 })
  })
})
