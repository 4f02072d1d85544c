/**
 * The {@link Lease} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Lease, LeaseGrant } from '../ports/lease.js'
import { type Advance, pass, settle } from './_support.js'

/** A lease under test, plus whatever the hooks need. */
export interface LeaseFixture {
  /** A client of a fresh, free lease. */
  readonly lease: Lease
}

/** Options for {@link describeLease}. */
export interface LeaseSuiteOptions<F extends LeaseFixture = LeaseFixture> {
  /** Returns a fresh fixture: a client of a new lease nobody holds. */
  create(): Promise<F>
  /**
   * Returns a second, independent client of the same lease (another
   * connection, another SDK client), so that races are real races.
   * Default: the fixture's own client.
   */
  connect?(fixture: F): Promise<Lease>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /**
   * Moves the lease's clock forward (a virtual clock). Without it the suite
   * waits in real time for leases to expire, so keep {@link ttlMs} short.
   */
  readonly advance?: Advance
  /** TTL of the grants in expiry tests (ms); default 10 000 with `advance`, 1 000 without. */
  readonly ttlMs?: number
  /** Extra time waited past a TTL before the lease must have expired (clock skew); default 1 with `advance`, 500 without. */
  readonly expiryMarginMs?: number
  /** Real-time limit of each call (ms); default 10 000. */
  readonly timeoutMs?: number
}

function expectGrant(grant: LeaseGrant | undefined, holder: string): LeaseGrant {
  expect(grant, `${holder} did not get the lease`).toBeDefined()
  expect(grant!.holder).toBe(holder)
  expect(Number.isSafeInteger(grant!.epoch), `epoch ${grant!.epoch}`).toBe(true)
  expect(Number.isFinite(grant!.expiresAt)).toBe(true)
  return grant!
}

/**
 * Registers the conformance tests for a {@link Lease}: exclusive under
 * concurrent acquires from two clients (real `Promise.all` races), epochs
 * strictly increasing across holders, same-holder re-acquire keeping the
 * epoch, renew, release, expiry and takeover, stale grants refused.
 *
 * @example
 * ```ts
 * describeLease('memory', {
 *   advance: (ms) => clock.advance(ms),
 *   create: async () => ({ lease: createMemoryLease({ clock }) }),
 * })
 * ```
 */
export function describeLease<F extends LeaseFixture>(
  name: string,
  options: LeaseSuiteOptions<F>,
): void {
  const virtual = options.advance !== undefined
  const ttl = options.ttlMs ?? (virtual ? 10_000 : 1_000)
  const margin = options.expiryMarginMs ?? (virtual ? 1 : 500)
  // Long enough that nothing expires by accident while a test runs.
  const long = Math.max(ttl * 30, 60_000)
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 10_000 }
  const run = <T>(promise: Promise<T>, what: string): Promise<T> =>
    settle(promise, { ...wait, stepMs: 1, maxSteps: 1_000, what })

  describe(`Lease conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<{ a: Lease; b: Lease; fixture: F }> => {
      const fixture = await options.create()
      fixtures.push(fixture)
      const b = options.connect === undefined ? fixture.lease : await options.connect(fixture)
      return { a: fixture.lease, b, fixture }
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name and starts free', async () => {
      const { a, b } = await fresh()
      expect(typeof a.name).toBe('string')
      expect(a.name.length).toBeGreaterThan(0)
      expect(await run(a.current(), 'current')).toBeUndefined()
      expect(await run(b.current(), 'current')).toBeUndefined()
    })

    it('grants a free lease and reports it as current to both clients', async () => {
      const { a, b } = await fresh()
      const grant = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      for (const client of [a, b]) {
        const current = await run(client.current(), 'current')
        expect(current?.holder).toBe('alpha')
        expect(current?.epoch).toBe(grant.epoch)
      }
    })

    it('refuses another holder while held', async () => {
      const { a, b } = await fresh()
      const grant = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      expect(await run(b.acquire('beta', long), 'acquire by beta')).toBeUndefined()
      expect(await run(a.acquire('gamma', long), 'acquire by gamma')).toBeUndefined()
      const current = await run(b.current(), 'current')
      expect([current?.holder, current?.epoch]).toEqual(['alpha', grant.epoch])
    })

    it('is exclusive under concurrent acquires from two clients, with rising epochs', async () => {
      const { a, b } = await fresh()
      let lastEpoch = Number.NEGATIVE_INFINITY
      for (let round = 0; round < 8; round++) {
        const holders = ['a1', 'b1', 'a2', 'b2'].map((h) => `${h}-r${round}`)
        const grants = await run(
          Promise.all(holders.map((h, i) => (i % 2 === 0 ? a : b).acquire(h, long))),
          `concurrent acquires, round ${round}`,
        )
        const winners = grants.filter((g) => g !== undefined)
        expect(winners, `round ${round}: ${JSON.stringify(grants)}`).toHaveLength(1)
        const winner = winners[0]!
        expect(holders).toContain(winner.holder)
        expect(winner.epoch, `round ${round}`).toBeGreaterThan(lastEpoch)
        lastEpoch = winner.epoch
        const current = await run(a.current(), 'current')
        expect([current?.holder, current?.epoch]).toEqual([winner.holder, winner.epoch])
        await run((round % 2 === 0 ? b : a).release(winner), 'release')
      }
    })

    it('gives every new holder a strictly higher epoch', async () => {
      const { a, b } = await fresh()
      const epochs: number[] = []
      for (const [client, holder] of [
        [a, 'alpha'],
        [b, 'beta'],
        [a, 'alpha'],
        [b, 'alpha'],
        [a, 'beta'],
      ] as const) {
        const grant = expectGrant(await run(client.acquire(holder, long), 'acquire'), holder)
        epochs.push(grant.epoch)
        await run(client.release(grant), 'release')
      }
      for (let i = 1; i < epochs.length; i++) {
        expect(epochs[i], `epochs ${epochs.join(', ')}`).toBeGreaterThan(epochs[i - 1]!)
      }
    })

    it('keeps the epoch when the holder acquires again while holding', async () => {
      const { a, b } = await fresh()
      const first = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      const again = expectGrant(await run(b.acquire('alpha', long), 'acquire again'), 'alpha')
      expect(again.epoch).toBe(first.epoch)
      expect(again.expiresAt).toBeGreaterThanOrEqual(first.expiresAt)
    })

    it('renews a held lease with the same epoch', async () => {
      const { a } = await fresh()
      const grant = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      await pass(Math.min(50, ttl / 10), options.advance)
      const renewed = expectGrant(await run(a.renew(grant, long), 'renew'), 'alpha')
      expect(renewed.epoch).toBe(grant.epoch)
      expect(renewed.expiresAt).toBeGreaterThanOrEqual(grant.expiresAt)
      const again = expectGrant(await run(a.renew(renewed, long), 'renew again'), 'alpha')
      expect(again.epoch).toBe(grant.epoch)
    })

    it('frees the lease on release; a stale release is a no-op', async () => {
      const { a, b } = await fresh()
      const grant = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      await run(a.release(grant), 'release')
      expect(await run(b.current(), 'current')).toBeUndefined()
      const next = expectGrant(await run(b.acquire('beta', long), 'acquire by beta'), 'beta')
      expect(next.epoch).toBeGreaterThan(grant.epoch)
      // Releasing the old grant again must not free beta's lease.
      await run(a.release(grant), 'stale release')
      const current = await run(a.current(), 'current')
      expect([current?.holder, current?.epoch]).toEqual(['beta', next.epoch])
      // Nor may the released grant be renewed.
      expect(await run(a.renew(grant, long), 'renew of a released grant')).toBeUndefined()
    })

    it('expires: after the TTL another holder takes over, and the old renew returns undefined', async () => {
      const { a, b } = await fresh()
      const old = expectGrant(await run(a.acquire('alpha', ttl), 'acquire'), 'alpha')
      await pass(ttl + margin, options.advance)
      const next = expectGrant(await run(b.acquire('beta', long), 'takeover'), 'beta')
      expect(next.epoch).toBeGreaterThan(old.epoch)
      expect(await run(a.renew(old, long), 'renew after takeover')).toBeUndefined()
      await run(a.release(old), 'release after takeover')
      const current = await run(a.current(), 'current')
      expect([current?.holder, current?.epoch]).toEqual(['beta', next.epoch])
    })

    it('refuses to renew a stale or forged grant', async () => {
      const { a, b } = await fresh()
      const first = expectGrant(await run(a.acquire('alpha', long), 'acquire'), 'alpha')
      await run(a.release(first), 'release')
      const second = expectGrant(await run(a.acquire('alpha', long), 'acquire again'), 'alpha')
      expect(second.epoch).toBeGreaterThan(first.epoch)
      expect(await run(a.renew(first, long), 'renew of the stale grant')).toBeUndefined()
      const forged = { holder: 'alpha', epoch: second.epoch + 1_000, expiresAt: second.expiresAt }
      expect(await run(b.renew(forged, long), 'renew of a forged epoch')).toBeUndefined()
      const other = { holder: 'mallory', epoch: second.epoch, expiresAt: second.expiresAt }
      expect(await run(b.renew(other, long), 'renew under another holder')).toBeUndefined()
      const current = await run(b.current(), 'current')
      expect([current?.holder, current?.epoch]).toEqual(['alpha', second.epoch])
    })
  })
}
