/**
 * The {@link Database} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RegionId } from '../ports/context.js'
import type { Database, Promotion } from '../ports/database.js'
import { type Advance, abortedSignal, expectBatonError, settle, settleOutcome } from './_support.js'

/** A database under test, plus whatever the hooks need. */
export interface DatabaseFixture {
  /** The database. */
  readonly database: Database
  /** The region of its primary at the start. */
  readonly primary: RegionId
  /** A region holding a streaming replica of it. */
  readonly replica: RegionId
}

/** Options for {@link describeDatabase}. */
export interface DatabaseSuiteOptions<F extends DatabaseFixture = DatabaseFixture> {
  /** Returns a fresh fixture: a healthy primary and replica. */
  create(): Promise<F>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /** Commits some writes on the primary (so a promotion has something to lose). */
  write?(fixture: F): Promise<void>
  /** Makes `region`'s database unreachable (down, partitioned); enables the unreachable-fence test. */
  unreachable?(fixture: F, region: RegionId): Promise<void>
  /** Whether to promote ungracefully (failover) too; default true. */
  readonly ungraceful?: boolean
  /** The database refuses calls with an epoch older than one it has seen (`FENCED`); enables the fencing test. */
  readonly checksEpoch?: boolean
  /** Drives a virtual clock while the suite waits; without it the suite waits in real time. */
  readonly advance?: Advance
  /** Epoch passed in every call; default 1. */
  readonly epoch?: number
  /** Real-time limit of each wait (ms); default 60 000 (promotions are slow). */
  readonly timeoutMs?: number
}

function expectNoLoss(promotion: Promotion): void {
  expect(promotion.lost?.transactions ?? 0, 'transactions lost by a graceful promotion').toBe(0)
  expect(promotion.lost?.ms ?? 0, 'ms of commits lost by a graceful promotion').toBe(0)
}

/**
 * Registers the conformance tests for a {@link Database}: primary region,
 * non-negative lag, snapshot, writes verified on the primary, graceful
 * promotion moves the primary and loses nothing, ungraceful promotion
 * moves it, fencing an unreachable region reports `reachable: false`
 * without throwing, abort and stale epochs refused.
 *
 * @example
 * ```ts
 * describeDatabase('memory', {
 *   advance: (ms) => clock.advance(ms),
 *   create: async () => ({ database: world.database, primary: 'a', replica: 'b', world }),
 *   unreachable: async ({ world }, region) => void world.faults.outage(region),
 * })
 * ```
 */
export function describeDatabase<F extends DatabaseFixture>(
  name: string,
  options: DatabaseSuiteOptions<F>,
): void {
  const epoch = options.epoch ?? 1
  const ctx = { epoch }
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 60_000 }

  describe(`Database conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<F> => {
      const f = await options.create()
      fixtures.push(f)
      expect(f.primary).not.toBe(f.replica)
      return f
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name and reports its primary region', async () => {
      const f = await fresh()
      expect(typeof f.database.name).toBe('string')
      expect(f.database.name.length).toBeGreaterThan(0)
      const primary = await settle(f.database.primaryRegion(ctx), {
        ...wait,
        what: 'primaryRegion',
      })
      expect(primary).toBe(f.primary)
    })

    it('reports a finite, non-negative replication lag for the replica', async () => {
      const f = await fresh()
      await options.write?.(f)
      const lag = await settle(f.database.replicationLag(f.replica, ctx), {
        ...wait,
        what: 'replicationLag',
      })
      expect(lag.region).toBe(f.replica)
      expect(Number.isFinite(lag.lagMs)).toBe(true)
      expect(lag.lagMs).toBeGreaterThanOrEqual(0)
      expect(Number.isFinite(lag.measuredAt)).toBe(true)
      if (lag.lagBytes !== undefined) expect(lag.lagBytes).toBeGreaterThanOrEqual(0)
    })

    it('verifies writes on the primary', async () => {
      const f = await fresh()
      const result = await settle(f.database.verifyWrites(f.primary, ctx), {
        ...wait,
        what: 'verifyWrites',
      })
      expect(result.ok, `verifyWrites on the primary failed: ${result.error}`).toBe(true)
      expect(Number.isFinite(result.latencyMs)).toBe(true)
      expect(result.latencyMs).toBeGreaterThanOrEqual(0)
    })

    it('takes a snapshot of the primary and returns its id', async () => {
      const f = await fresh()
      const snapshot = await settle(f.database.snapshot(f.primary, ctx), {
        ...wait,
        what: 'snapshot',
      })
      expect(typeof snapshot.id).toBe('string')
      expect(snapshot.id.length).toBeGreaterThan(0)
    })

    it('promotes gracefully: the primary moves, nothing is lost, writes work there', async () => {
      const f = await fresh()
      await options.write?.(f)
      const promotion = await settle(f.database.promote(f.replica, { graceful: true }, ctx), {
        ...wait,
        what: 'graceful promote',
      })
      expect(promotion.region).toBe(f.replica)
      expect(Number.isFinite(promotion.promotedAt)).toBe(true)
      expectNoLoss(promotion)
      const primary = await settle(f.database.primaryRegion(ctx), {
        ...wait,
        what: 'primaryRegion',
      })
      expect(primary).toBe(f.replica)
      const verified = await settle(f.database.verifyWrites(f.replica, ctx), {
        ...wait,
        what: 'verifyWrites on the new primary',
      })
      expect(verified.ok, `verifyWrites on the new primary failed: ${verified.error}`).toBe(true)
      // The old primary is reachable: fencing it reports so.
      const fenced = await settle(f.database.fence(f.primary, ctx), { ...wait, what: 'fence' })
      expect(fenced.reachable).toBe(true)
      expect(typeof fenced.fenced).toBe('boolean')
    })

    if (options.ungraceful !== false) {
      it('promotes ungracefully: the primary moves', async () => {
        const f = await fresh()
        await options.write?.(f)
        const promotion = await settle(f.database.promote(f.replica, { graceful: false }, ctx), {
          ...wait,
          what: 'ungraceful promote',
        })
        expect(promotion.region).toBe(f.replica)
        if (promotion.lost?.transactions !== undefined) {
          expect(promotion.lost.transactions).toBeGreaterThanOrEqual(0)
        }
        if (promotion.lost?.ms !== undefined) expect(promotion.lost.ms).toBeGreaterThanOrEqual(0)
        const primary = await settle(f.database.primaryRegion(ctx), {
          ...wait,
          what: 'primaryRegion',
        })
        expect(primary).toBe(f.replica)
      })
    }

    const { unreachable } = options
    if (unreachable !== undefined) {
      it('fences an unreachable region without throwing: reachable false', async () => {
        const f = await fresh()
        await unreachable(f, f.primary)
        const result = await settle(f.database.fence(f.primary, ctx), {
          ...wait,
          what: 'fence of an unreachable region',
        })
        expect(result).toEqual({ fenced: false, reachable: false })
      })
    }

    it('rejects a promotion with ABORTED when the signal has already aborted', async () => {
      const f = await fresh()
      const result = await settleOutcome(
        f.database.promote(f.replica, { graceful: true }, { epoch, signal: abortedSignal() }),
        { ...wait, what: 'promote with an aborted signal' },
      )
      expect(result.ok, 'promote resolved despite an aborted signal').toBe(false)
      if (!result.ok) expectBatonError(result.error, 'ABORTED')
      const primary = await settle(f.database.primaryRegion(ctx), {
        ...wait,
        what: 'primaryRegion',
      })
      expect(primary).toBe(f.primary)
    })

    if (options.checksEpoch === true) {
      it('refuses a call with an epoch older than one it has seen (FENCED)', async () => {
        const f = await fresh()
        await settle(f.database.promote(f.replica, { graceful: true }, { epoch: epoch + 1 }), {
          ...wait,
          what: 'promote with a newer epoch',
        })
        const result = await settleOutcome(
          f.database.promote(f.primary, { graceful: true }, { epoch }),
          { ...wait, what: 'promote with a stale epoch' },
        )
        expect(result.ok, 'a stale epoch was accepted').toBe(false)
        if (!result.ok) expectBatonError(result.error, 'FENCED')
        const primary = await settle(f.database.primaryRegion({ epoch: epoch + 1 }), {
          ...wait,
          what: 'primaryRegion',
        })
        expect(primary).toBe(f.replica)
      })
    }
  })
}
