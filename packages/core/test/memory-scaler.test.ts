import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createVirtualClock } from '../src/clock.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import { describeScaler } from '../src/testing/index.js'

const clock = createVirtualClock()

describeScaler('memory (ready at once)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  create: async () => ({
    scaler: createSimulatedWorld({
      clock,
      regions: [{ id: 'a' }, { id: 'b', capacity: 0 }],
      home: 'a',
    }).scaler,
    region: 'b',
  }),
})

describeScaler('memory (instances take 90 s to be ready)', {
  advance: (ms) => clock.advance(ms),
  checksEpoch: true,
  target: 6,
  create: async () => ({
    scaler: createSimulatedWorld({
      clock,
      regions: [{ id: 'a', capacity: 4 }],
      home: 'a',
      scaler: { name: 'asg:api-a', readyDelayMs: 90_000, pollMs: 5_000 },
    }).scaler,
    region: 'a',
  }),
})

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('resolved')
    },
    (e: unknown) => e,
  )

describe('simulated scaler', () => {
  const make = () => {
    const clock = createVirtualClock(0)
    const world = createSimulatedWorld({
      clock,
      regions: [
        { id: 'a', capacity: 2 },
        { id: 'b', capacity: 0 },
      ],
      home: 'a',
      scaler: { readyDelayMs: 60_000, pollMs: 10_000, waitTimeoutMs: 300_000 },
      workload: false,
    })
    return { clock, world }
  }

  it('makes new instances ready after the delay; waitReady resolves exactly then', async () => {
    const { clock, world } = make()
    expect(await world.scaler.capacity('b', { epoch: 1 })).toEqual({ desired: 0, ready: 0 })
    await world.scaler.scale('b', 3, { epoch: 1 })
    expect(await world.scaler.capacity('b', { epoch: 1 })).toEqual({ desired: 3, ready: 0 })
    let readyAt = -1
    const wait = world.scaler.waitReady('b', 3, { epoch: 1 }).then((c) => {
      readyAt = clock.now()
      return c
    })
    await clock.advance(59_999)
    expect(readyAt).toBe(-1)
    await clock.advance(1)
    expect(await wait).toEqual({ desired: 3, ready: 3 })
    expect(readyAt).toBe(60_000)
  })

  it('scales down at once, newest first', async () => {
    const { clock, world } = make()
    await world.scaler.scale('a', 4, { epoch: 1 })
    await world.scaler.scale('a', 2, { epoch: 1 })
    expect(await world.scaler.capacity('a', { epoch: 1 })).toEqual({ desired: 2, ready: 2 })
    await clock.advance(60_000)
    expect(world.truth.capacity('a')).toEqual({ desired: 2, ready: 2 })
  })

  it('waitReady for more than desired times out', async () => {
    const { clock, world } = make()
    const wait = rejection(world.scaler.waitReady('a', 5, { epoch: 1 }))
    await clock.advance(300_000)
    expect(isBatonError(await wait, 'TIMEOUT')).toBe(true)
  })

  it('waitReady picks up a scale made while it waits, and honors abort mid-wait', async () => {
    const { clock, world } = make()
    const wait = world.scaler.waitReady('a', 3, { epoch: 1 })
    await clock.advance(20_000)
    await world.scaler.scale('a', 3, { epoch: 1 })
    await clock.advance(60_000)
    expect(await wait).toEqual({ desired: 3, ready: 3 })
    const controller = new AbortController()
    const aborted = rejection(
      world.scaler.waitReady('a', 9, { epoch: 1, signal: controller.signal }),
    )
    await clock.advance(10_000)
    controller.abort()
    expect(isBatonError(await aborted, 'ABORTED')).toBe(true)
    expect(world.truth.calls().at(-1)).toMatchObject({ method: 'waitReady', outcome: 'aborted' })
  })

  it('fails in a region that is down, and names bad arguments', async () => {
    const { world } = make()
    world.faults.outage('b')
    const e = await rejection(world.scaler.scale('b', 2, { epoch: 1 }))
    expect(isBatonError(e, 'ADAPTER')).toBe(true)
    expect((e as { fault: string }).fault).toBe('UNAVAILABLE')
    expect(world.truth.capacity('b')).toEqual({ desired: 0, ready: 0 })
    expect(
      ((await rejection(world.scaler.capacity('zz', { epoch: 1 }))) as { path: string }).path,
    ).toBe('region')
    expect(
      ((await rejection(world.scaler.waitReady('a', -2, { epoch: 1 }))) as { path: string }).path,
    ).toBe('ready')
  })
})
