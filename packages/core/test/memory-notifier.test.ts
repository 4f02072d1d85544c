import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createVirtualClock } from '../src/clock.js'
import { createMemoryNotifier } from '../src/memory/notifier.js'
import { createSimulatedWorld } from '../src/memory/world.js'
import { describeNotifier } from '../src/testing/index.js'

describeNotifier('createMemoryNotifier', {
  create: async () => ({ notifier: createMemoryNotifier() }),
  sent: async ({ notifier }) => notifier.sent.map((s) => s.notification),
})

const clock = createVirtualClock()
describeNotifier('simulated world notifier', {
  advance: (ms) => clock.advance(ms),
  async create() {
    const world = createSimulatedWorld({ clock, regions: [{ id: 'a' }], home: 'a' })
    return { notifier: world.connect('ops').notifier, world }
  },
  sent: async ({ world }) => world.truth.notifications().map((n) => n.notification),
})

describe('memory notifiers', () => {
  it('createMemoryNotifier records epoch and time, and clears', async () => {
    const clock = createVirtualClock(1_000)
    const notifier = createMemoryNotifier({ clock, name: 'slack:#incidents' })
    expect(notifier.name).toBe('slack:#incidents')
    const n = { kind: 'initiated', severity: 'P1', title: 'failover', body: 'a → b' } as const
    await notifier.notify(n, { epoch: 7 })
    expect(notifier.sent).toEqual([{ notification: n, epoch: 7, at: 1_000 }])
    notifier.clear()
    expect(notifier.sent).toEqual([])
    expect(() => createMemoryNotifier({ name: '' })).toThrow(/name/)
  })

  it('the world notifier records the instance and fails when told to', async () => {
    const clock = createVirtualClock(0)
    const world = createSimulatedWorld({ clock, regions: [{ id: 'a' }], home: 'a' })
    const n = { kind: 'completed', severity: 'P2', title: 'done', body: '' } as const
    await world.connect('i1').notifier.notify(n, { epoch: 2 })
    expect(world.truth.notifications()).toEqual([
      { at: 0, instance: 'i1', epoch: 2, notification: n },
    ])
    world.faults.failCalls({ port: 'notifier', times: 1, error: 'SLACK_RATE_LIMITED' })
    const e = await world.notifier.notify(n, { epoch: 2 }).then(
      () => undefined,
      (x: unknown) => x,
    )
    expect(isBatonError(e, 'ADAPTER')).toBe(true)
    expect((e as Error).message).toContain('SLACK_RATE_LIMITED')
    await world.notifier.notify(n, { epoch: 1 })
    expect(world.truth.notifications()).toHaveLength(2)
  })
})
