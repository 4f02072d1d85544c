/**
 * The {@link TrafficRouter} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RegionId } from '../ports/context.js'
import type { TrafficRouter, Weights } from '../ports/traffic-router.js'
import {
  type Advance,
  abortedSignal,
  expectBatonError,
  outcome,
  settle,
  settleOutcome,
} from './_support.js'

/** A router under test, plus whatever the hooks need. */
export interface TrafficRouterFixture {
  /** The router. */
  readonly router: TrafficRouter
  /** Two or more regions it routes to (the suite moves all traffic between the first two). */
  readonly regions: readonly RegionId[]
}

/** Options for {@link describeTrafficRouter}. */
export interface TrafficRouterSuiteOptions<F extends TrafficRouterFixture = TrafficRouterFixture> {
  /** Returns a fresh fixture. */
  create(): Promise<F>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /** Drives a virtual clock while the suite waits; without it the suite waits in real time. */
  readonly advance?: Advance
  /** Epoch passed in every call; default 1. */
  readonly epoch?: number
  /** Weight meaning "all traffic" (Route 53 allows 0–255); default 100. */
  readonly fullWeight?: number
  /**
   * The router refuses calls carrying an epoch older than one it has seen
   * (`FENCED`); enables the fencing test.
   */
  readonly checksEpoch?: boolean
  /** Real-time limit of each wait (ms); default 30 000 (propagation can be slow). */
  readonly timeoutMs?: number
}

/** Weights over `regions`, absent regions counting as 0. */
function over(weights: Weights, regions: readonly RegionId[]): Record<RegionId, number> {
  return Object.fromEntries(regions.map((r) => [r, weights[r] ?? 0]))
}

/**
 * Registers the conformance tests for a {@link TrafficRouter}: set → get
 * round trip, `waitInSync` resolves, `describe` changes nothing, bad
 * weights (negative, non-finite) refused with `INVALID_CONFIG` naming the
 * region and changing nothing, abort honoured.
 *
 * @example
 * ```ts
 * describeTrafficRouter('memory', {
 *   advance: (ms) => clock.advance(ms),
 *   create: async () => ({ router: world.router, regions: ['a', 'b'] }),
 * })
 * ```
 */
export function describeTrafficRouter<F extends TrafficRouterFixture>(
  name: string,
  options: TrafficRouterSuiteOptions<F>,
): void {
  const epoch = options.epoch ?? 1
  const full = options.fullWeight ?? 100
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 30_000 }

  describe(`TrafficRouter conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<F> => {
      const f = await options.create()
      fixtures.push(f)
      expect(f.regions.length, 'the fixture needs at least two regions').toBeGreaterThanOrEqual(2)
      return f
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name and reads finite, non-negative weights', async () => {
      const { router, regions } = await fresh()
      expect(typeof router.name).toBe('string')
      expect(router.name.length).toBeGreaterThan(0)
      const weights = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
      for (const r of regions) {
        const w = weights[r] ?? 0
        expect(Number.isFinite(w), `weight of ${r}`).toBe(true)
        expect(w, `weight of ${r}`).toBeGreaterThanOrEqual(0)
      }
    })

    it('reads back what it set, and waits until each change is in sync', async () => {
      const { router, regions } = await fresh()
      const [a, b] = regions as [RegionId, RegionId]
      for (const target of [
        { [a]: 0, [b]: full },
        { [a]: full, [b]: 0 },
      ]) {
        const change = await settle(router.setWeights(target, { epoch }), {
          ...wait,
          what: 'setWeights',
        })
        expect(typeof change.id).toBe('string')
        expect(change.id.length).toBeGreaterThan(0)
        expect(Number.isFinite(change.submittedAt)).toBe(true)
        expect(over(change.weights, [a, b])).toEqual(target)
        await settle(router.waitInSync(change, { epoch }), { ...wait, what: 'waitInSync' })
        const read = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
        expect(over(read, [a, b])).toEqual(target)
      }
    })

    it('describes a change in words without making it', async () => {
      const { router, regions } = await fresh()
      const [a, b] = regions as [RegionId, RegionId]
      const before = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
      const flipped = { [a]: before[b] ?? 0, [b]: before[a] ?? 0 }
      if (flipped[a] === flipped[b]) flipped[a] = full
      const lines = await settle(router.describe(flipped), { ...wait, what: 'describe' })
      expect(Array.isArray(lines)).toBe(true)
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) expect(typeof line).toBe('string')
      const after = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
      expect(over(after, regions)).toEqual(over(before, regions))
    })

    for (const [label, bad] of [
      ['negative', -1],
      ['NaN', Number.NaN],
      ['infinite', Number.POSITIVE_INFINITY],
    ] as const) {
      it(`refuses a ${label} weight with INVALID_CONFIG naming the region, changing nothing`, async () => {
        const { router, regions } = await fresh()
        const [a, b] = regions as [RegionId, RegionId]
        const before = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
        const result = await settleOutcome(router.setWeights({ [a]: full, [b]: bad }, { epoch }), {
          ...wait,
          what: 'setWeights with a bad weight',
        })
        expect(result.ok, `a ${label} weight was accepted`).toBe(false)
        if (!result.ok) {
          expectBatonError(result.error, 'INVALID_CONFIG')
          expect(String((result.error as Error).message)).toContain(b)
        }
        const described = await outcome(router.describe({ [a]: full, [b]: bad }))
        expect(described.ok, `describe accepted a ${label} weight`).toBe(false)
        if (!described.ok) expectBatonError(described.error, 'INVALID_CONFIG')
        const after = await settle(router.getWeights({ epoch }), { ...wait, what: 'getWeights' })
        expect(over(after, regions)).toEqual(over(before, regions))
      })
    }

    it('rejects waitInSync with ABORTED when the signal has already aborted', async () => {
      const { router, regions } = await fresh()
      const [a, b] = regions as [RegionId, RegionId]
      const change = await settle(router.setWeights({ [a]: full, [b]: 0 }, { epoch }), {
        ...wait,
        what: 'setWeights',
      })
      const result = await settleOutcome(
        router.waitInSync(change, { epoch, signal: abortedSignal() }),
        { ...wait, what: 'waitInSync with an aborted signal' },
      )
      expect(result.ok, 'waitInSync resolved despite an aborted signal').toBe(false)
      if (!result.ok) expectBatonError(result.error, 'ABORTED')
    })

    if (options.checksEpoch === true) {
      it('refuses a call with an epoch older than one it has seen (FENCED)', async () => {
        const { router, regions } = await fresh()
        const [a, b] = regions as [RegionId, RegionId]
        await settle(router.setWeights({ [a]: full, [b]: 0 }, { epoch: epoch + 1 }), {
          ...wait,
          what: 'setWeights with a newer epoch',
        })
        const result = await settleOutcome(router.setWeights({ [a]: 0, [b]: full }, { epoch }), {
          ...wait,
          what: 'setWeights with a stale epoch',
        })
        expect(result.ok, 'a stale epoch was accepted').toBe(false)
        if (!result.ok) expectBatonError(result.error, 'FENCED')
        const read = await settle(router.getWeights({ epoch: epoch + 1 }), {
          ...wait,
          what: 'getWeights',
        })
        expect(over(read, [a, b])).toEqual({ [a]: full, [b]: 0 })
      })
    }
  })
}
