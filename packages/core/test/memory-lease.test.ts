import { isBatonError } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { createSystemClock, createVirtualClock } from '../src/clock.js'
import { createMemoryLease } from '../src/memory/lease.js'
import { SimulatedFaultError } from '../src/memory/simulated-error.js'
import { describeLease } from '../src/testing/index.js'

const virtual = createVirtualClock()
describeLease('memory (virtual clock)', {
  advance: (ms) => virtual.advance(ms),
  create: async () => ({ lease: createMemoryLease({ clock: virtual }) }),
})

const virtualViews = createVirtualClock()
describeLease('memory (virtual clock, one view per client, with latency)', {
  advance: (ms) => virtualViews.advance(ms),
  async create() {
    const lease = createMemoryLease({ clock: virtualViews, latencyMs: 3 })
    return { lease: lease.view('client-a'), shared: lease }
  },
  connect: async ({ shared }) => shared.view('client-b'),
})

describeLease('memory (system clock)', {
  ttlMs: 150,
  expiryMarginMs: 30,
  create: async () => ({ lease: createMemoryLease({ clock: createSystemClock() }) }),
})

const error = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

describe('createMemoryLease', () => {
  it('validates its options and arguments with errors naming the field', async () => {
    const clock = createVirtualClock(0)
    expect(() => createMemoryLease({ clock, name: '' })).toThrow(/name/)
    expect(() => createMemoryLease({ clock, latencyMs: -1 })).toThrow(/latencyMs/)
    const lease = createMemoryLease({ clock })
    for (const [call, path] of [
      [lease.acquire('', 10), 'holder'],
      [lease.acquire('a', 0), 'ttlMs'],
      [lease.acquire('a', Number.NaN), 'ttlMs'],
      [lease.renew({ holder: 'a', epoch: 1.5, expiresAt: 0 }, 10), 'grant.epoch'],
      [lease.release(null as never), 'grant'],
    ] as const) {
      const e = await error(call)
      expect(isBatonError(e, 'INVALID_CONFIG')).toBe(true)
      expect((e as { path: string }).path).toBe(path)
    }
  })

  it('expires on the clock: held until expiresAt, free from then on', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock, name: 'memory:orders' })
    expect(lease.name).toBe('memory:orders')
    const grant = await lease.acquire('a', 1_000)
    expect(grant).toEqual({ holder: 'a', epoch: 1, expiresAt: 1_000 })
    await clock.advance(999)
    expect((await lease.current())?.holder).toBe('a')
    expect(await lease.acquire('b', 1_000)).toBeUndefined()
    await clock.advance(1)
    expect(await lease.current()).toBeUndefined()
    // Renewing an expired lease fails even if nobody took it: acquire again.
    expect(await lease.renew(grant!, 1_000)).toBeUndefined()
    expect(await lease.acquire('a', 1_000)).toEqual({ holder: 'a', epoch: 2, expiresAt: 2_000 })
    expect(lease.highestEpoch).toBe(2)
  })

  it('a partition in fail mode rejects that holder at once, others are unaffected', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const a = lease.view('a')
    const b = lease.view('b')
    const grant = (await a.acquire('a', 10_000))!
    const cut = lease.partition('a')
    for (const call of [a.renew(grant, 10_000), a.current(), lease.renew(grant, 10_000)]) {
      const e = await error(call)
      expect(e).toBeInstanceOf(SimulatedFaultError)
      expect((e as SimulatedFaultError).fault).toBe('UNAVAILABLE')
    }
    // The shared object's current() is never partitioned; b still sees a holding.
    expect((await lease.current())?.holder).toBe('a')
    expect((await b.current())?.holder).toBe('a')
    await clock.advance(10_000)
    const taken = await b.acquire('b', 10_000)
    expect(taken?.epoch).toBe(2)
    cut.heal()
    expect(await a.renew(grant, 10_000)).toBeUndefined()
    expect(lease.history().filter((e) => e.type === 'partitioned')).toHaveLength(3)
  })

  it('a partition in timeout mode hangs for the timeout, then rejects with TIMEOUT', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const a = lease.view('a')
    const grant = (await a.acquire('a', 60_000))!
    lease.partition('a', { mode: 'timeout', timeoutMs: 2_000 })
    let settled: unknown = 'pending'
    void error(a.renew(grant, 60_000)).then((e) => {
      settled = e
    })
    await clock.advance(1_999)
    expect(settled).toBe('pending')
    await clock.advance(1)
    expect(isBatonError(settled, 'TIMEOUT')).toBe(true)
    // Not applied: the lease still expires at 60 000.
    expect((await lease.current())?.expiresAt).toBe(60_000)
  })

  it('a timeout partition with applied: true changes the store although the caller sees TIMEOUT', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    lease.partition('a', { mode: 'timeout', timeoutMs: 500, applied: true })
    const pending = error(lease.acquire('a', 60_000))
    await clock.advance(500)
    expect(isBatonError(await pending, 'TIMEOUT')).toBe(true)
    // The acquire reached the store: a holds epoch 1 without knowing it.
    expect(await lease.current()).toEqual({ holder: 'a', epoch: 1, expiresAt: 60_000 })
    lease.heal()
    expect((await lease.acquire('a', 60_000))?.epoch).toBe(1)
  })

  it('heal() without a holder heals every partition; a stale handle does not heal a newer one', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const first = lease.partition('a')
    lease.partition('a')
    first.heal()
    expect(await error(lease.acquire('a', 1_000))).toBeInstanceOf(SimulatedFaultError)
    lease.partition('b')
    lease.heal()
    expect(await lease.acquire('a', 1_000)).toBeDefined()
  })

  it('revoke ends the grant now: renew fails, the next acquire gets a higher epoch', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const grant = (await lease.acquire('a', 60_000))!
    lease.revoke()
    lease.revoke()
    expect(await lease.current()).toBeUndefined()
    expect(await lease.renew(grant, 60_000)).toBeUndefined()
    expect((await lease.acquire('b', 60_000))?.epoch).toBe(2)
  })

  it('keeps a history and non-overlapping tenures', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const a = (await lease.acquire('a', 1_000))!
    await clock.advance(500)
    await lease.renew(a, 1_000)
    await lease.acquire('b', 1_000)
    await clock.advance(2_000)
    const b = (await lease.acquire('b', 1_000))!
    await clock.advance(100)
    await lease.release(b)
    const c = (await lease.acquire('c', 1_000))!
    lease.revoke()
    expect(lease.history().map((e) => [e.type, e.holder, e.epoch])).toEqual([
      ['acquired', 'a', 1],
      ['renewed', 'a', 1],
      ['refused', 'b', 1],
      ['acquired', 'b', 2],
      ['released', 'b', 2],
      ['acquired', 'c', 3],
      ['revoked', 'c', 3],
    ])
    const tenures = lease.tenures()
    expect(tenures).toEqual([
      { holder: 'a', epoch: 1, from: 0, to: 1_500 },
      { holder: 'b', epoch: 2, from: 2_500, to: 2_600 },
      { holder: 'c', epoch: c.epoch, from: 2_600, to: 2_600 },
    ])
    for (let i = 1; i < tenures.length; i++) {
      expect(tenures[i]!.from).toBeGreaterThanOrEqual(tenures[i - 1]!.to!)
    }
  })

  it('stays exclusive when many holders race through views', async () => {
    const clock = createVirtualClock(0)
    const lease = createMemoryLease({ clock })
    const views = Array.from({ length: 10 }, (_, i) => lease.view(`i${i}`))
    const grants = await Promise.all(views.map((v, i) => v.acquire(`i${i}`, 1_000)))
    expect(grants.filter((g) => g !== undefined)).toHaveLength(1)
  })
})
