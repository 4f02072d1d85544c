/**
 * The {@link Scaler} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { RegionId } from '../ports/context.js'
import type { Capacity, Scaler } from '../ports/scaler.js'
import { type Advance, abortedSignal, expectBatonError, settle, settleOutcome } from './_support.js'

/** A scaler under test, plus whatever the hooks need. */
export interface ScalerFixture {
  /** The scaler. */
  readonly scaler: Scaler
  /** A region whose fleet the suite may resize. */
  readonly region: RegionId
}

/** Options for {@link describeScaler}. */
export interface ScalerSuiteOptions<F extends ScalerFixture = ScalerFixture> {
  /** Returns a fresh fixture. */
  create(): Promise<F>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /** Desired capacity the suite scales to (kept small for real fleets); default 2. */
  readonly target?: number
  /** The scaler refuses calls with an epoch older than one it has seen (`FENCED`); enables the fencing test. */
  readonly checksEpoch?: boolean
  /** Drives a virtual clock while the suite waits; without it the suite waits in real time. */
  readonly advance?: Advance
  /** Epoch passed in every call; default 1. */
  readonly epoch?: number
  /** Real-time limit of each wait (ms); default 60 000 (instances take time to start). */
  readonly timeoutMs?: number
}

function expectCapacity(capacity: Capacity): void {
  for (const field of ['desired', 'ready'] as const) {
    expect(Number.isInteger(capacity[field]), field).toBe(true)
    expect(capacity[field], field).toBeGreaterThanOrEqual(0)
  }
}

/**
 * Registers the conformance tests for a {@link Scaler}: capacity reads,
 * scale then `waitReady`, bad counts refused with `INVALID_CONFIG`, abort
 * honoured, stale epochs refused.
 *
 * @example
 * ```ts
 * describeScaler('memory', {
 *   advance: (ms) => clock.advance(ms),
 *   create: async () => ({ scaler: world.scaler, region: 'b' }),
 * })
 * ```
 */
export function describeScaler<F extends ScalerFixture>(
  name: string,
  options: ScalerSuiteOptions<F>,
): void {
  const epoch = options.epoch ?? 1
  const ctx = { epoch }
  const target = options.target ?? 2
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 60_000 }

  describe(`Scaler conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<F> => {
      const f = await options.create()
      fixtures.push(f)
      return f
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name and reads the capacity of a region', async () => {
      const { scaler, region } = await fresh()
      expect(typeof scaler.name).toBe('string')
      expect(scaler.name.length).toBeGreaterThan(0)
      expectCapacity(await settle(scaler.capacity(region, ctx), { ...wait, what: 'capacity' }))
    })

    it('scales, then waits until the instances are ready', async () => {
      const { scaler, region } = await fresh()
      await settle(scaler.scale(region, target, ctx), { ...wait, what: 'scale' })
      const desired = await settle(scaler.capacity(region, ctx), { ...wait, what: 'capacity' })
      expectCapacity(desired)
      expect(desired.desired).toBe(target)
      const ready = await settle(scaler.waitReady(region, target, ctx), {
        ...wait,
        what: 'waitReady',
      })
      expectCapacity(ready)
      expect(ready.ready).toBeGreaterThanOrEqual(target)
    })

    it('returns at once from waitReady(0)', async () => {
      const { scaler, region } = await fresh()
      expectCapacity(
        await settle(scaler.waitReady(region, 0, ctx), { ...wait, what: 'waitReady(0)' }),
      )
    })

    for (const [label, bad] of [
      ['negative', -1],
      ['fractional', 1.5],
      ['NaN', Number.NaN],
    ] as const) {
      it(`refuses a ${label} desired capacity with INVALID_CONFIG`, async () => {
        const { scaler, region } = await fresh()
        const result = await settleOutcome(scaler.scale(region, bad, ctx), {
          ...wait,
          what: `scale to ${bad}`,
        })
        expect(result.ok, `scale accepted ${bad}`).toBe(false)
        if (!result.ok) expectBatonError(result.error, 'INVALID_CONFIG')
      })
    }

    it('rejects waitReady with ABORTED when the signal has already aborted', async () => {
      const { scaler, region } = await fresh()
      const result = await settleOutcome(
        scaler.waitReady(region, target, { epoch, signal: abortedSignal() }),
        { ...wait, what: 'waitReady with an aborted signal' },
      )
      expect(result.ok, 'waitReady resolved despite an aborted signal').toBe(false)
      if (!result.ok) expectBatonError(result.error, 'ABORTED')
    })

    if (options.checksEpoch === true) {
      it('refuses a call with an epoch older than one it has seen (FENCED)', async () => {
        const { scaler, region } = await fresh()
        await settle(scaler.scale(region, target, { epoch: epoch + 1 }), {
          ...wait,
          what: 'scale with a newer epoch',
        })
        const result = await settleOutcome(scaler.scale(region, 0, ctx), {
          ...wait,
          what: 'scale with a stale epoch',
        })
        expect(result.ok, 'a stale epoch was accepted').toBe(false)
        if (!result.ok) expectBatonError(result.error, 'FENCED')
        const capacity = await settle(scaler.capacity(region, { epoch: epoch + 1 }), {
          ...wait,
          what: 'capacity',
        })
        expect(capacity.desired).toBe(target)
      })
    }
  })
}
