/**
 * The {@link Probe} conformance suite.
 *
 * @module
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Probe, ProbeSample } from '../ports/probe.js'
import { type Advance, abortedSignal, expectBatonError, settle, settleOutcome } from './_support.js'

/** A probe under test, plus whatever the hooks need to reach the system it checks. */
export interface ProbeFixture {
  /** The probe. */
  readonly probe: Probe
}

/** Options for {@link describeProbe}. */
export interface ProbeSuiteOptions<F extends ProbeFixture = ProbeFixture> {
  /** Returns a fresh fixture: a new probe over a healthy region. */
  create(): Promise<F>
  /** Makes the checked region healthy again after {@link unhealthy}. */
  healthy?(fixture: F): Promise<void>
  /** Makes the checked region fail (down, refusing, erroring); enables the unhealthy test. */
  unhealthy?(fixture: F): Promise<void>
  /** Makes the checked region stop answering (a check would hang until its timeout); enables the abort-in-flight test. */
  hang?(fixture: F): Promise<void>
  /** Cleans up after each test. */
  dispose?(fixture: F): Promise<void>
  /** Drives a virtual clock while the suite waits; without it the suite waits in real time. */
  readonly advance?: Advance
  /** Epoch passed in every call; default 1. */
  readonly epoch?: number
  /** Real-time limit of each wait (ms); default 10 000. */
  readonly timeoutMs?: number
}

function expectSample(sample: ProbeSample, probe: Probe): void {
  expect(sample.region).toBe(probe.region)
  expect(typeof sample.ok).toBe('boolean')
  expect(Number.isFinite(sample.at)).toBe(true)
  expect(Number.isFinite(sample.latencyMs)).toBe(true)
  expect(sample.latencyMs).toBeGreaterThanOrEqual(0)
  if (sample.error !== undefined) expect(typeof sample.error).toBe('string')
  if (sample.lagMs !== undefined) expect(sample.lagMs).toBeGreaterThanOrEqual(0)
  if (sample.servedBy !== undefined) expect(typeof sample.servedBy).toBe('string')
  if (sample.requests !== undefined) {
    expect(Number.isInteger(sample.requests.total)).toBe(true)
    expect(Number.isInteger(sample.requests.errors)).toBe(true)
    expect(sample.requests.errors).toBeGreaterThanOrEqual(0)
    expect(sample.requests.errors).toBeLessThanOrEqual(sample.requests.total)
  }
}

/**
 * Registers the conformance tests for a {@link Probe}: a sample for a
 * healthy region, `ok: false` with an error (never a throw) for an
 * unhealthy one, abort honoured before and during a check.
 *
 * @example
 * ```ts
 * describeProbe('memory', {
 *   advance: (ms) => clock.advance(ms),
 *   async create() {
 *     const world = createSimulatedWorld({ clock, regions: [{ id: 'a' }], home: 'a' })
 *     return { probe: world.probe('a'), world }
 *   },
 *   unhealthy: async ({ world }) => void world.faults.outage('a'),
 * })
 * ```
 */
export function describeProbe<F extends ProbeFixture>(
  name: string,
  options: ProbeSuiteOptions<F>,
): void {
  const epoch = options.epoch ?? 1
  const wait = { advance: options.advance, timeoutMs: options.timeoutMs ?? 10_000 }

  describe(`Probe conformance: ${name}`, () => {
    const fixtures: F[] = []
    const fresh = async (): Promise<F> => {
      const f = await options.create()
      fixtures.push(f)
      return f
    }
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await options.dispose?.(f)
    })

    it('has a name and a region', async () => {
      const { probe } = await fresh()
      expect(typeof probe.name).toBe('string')
      expect(probe.name.length).toBeGreaterThan(0)
      expect(typeof probe.region).toBe('string')
      expect(probe.region.length).toBeGreaterThan(0)
    })

    it('returns an ok sample for a healthy region', async () => {
      const { probe } = await fresh()
      const sample = await settle(probe.check({ epoch }), { ...wait, what: 'check' })
      expectSample(sample, probe)
      expect(sample.ok, `healthy check failed: ${sample.error}`).toBe(true)
      expect(sample.error).toBeUndefined()
    })

    it('returns samples repeatedly, with non-decreasing times', async () => {
      const { probe } = await fresh()
      let last = Number.NEGATIVE_INFINITY
      for (let i = 0; i < 3; i++) {
        const sample = await settle(probe.check({ epoch }), { ...wait, what: `check ${i}` })
        expectSample(sample, probe)
        expect(sample.at).toBeGreaterThanOrEqual(last)
        last = sample.at
      }
    })

    it('rejects with ABORTED when the signal has already aborted', async () => {
      const { probe } = await fresh()
      const result = await settleOutcome(probe.check({ epoch, signal: abortedSignal() }), {
        ...wait,
        what: 'check with an aborted signal',
      })
      expect(result.ok, 'check resolved despite an aborted signal').toBe(false)
      if (!result.ok) expectBatonError(result.error, 'ABORTED')
    })

    const { unhealthy, healthy, hang } = options
    if (unhealthy !== undefined) {
      it('returns ok: false with an error for an unhealthy region, without throwing', async () => {
        const f = await fresh()
        await unhealthy(f)
        const sample = await settle(f.probe.check({ epoch }), { ...wait, what: 'unhealthy check' })
        expectSample(sample, f.probe)
        expect(sample.ok).toBe(false)
        expect(typeof sample.error).toBe('string')
        expect(sample.error!.length).toBeGreaterThan(0)
        if (healthy !== undefined) {
          await healthy(f)
          const again = await settle(f.probe.check({ epoch }), { ...wait, what: 'recovered check' })
          expect(again.ok, `recovered check failed: ${again.error}`).toBe(true)
        }
      })
    }

    if (hang !== undefined) {
      it('settles promptly when aborted during a check that hangs', async () => {
        const f = await fresh()
        await hang(f)
        const controller = new AbortController()
        const pending = settleOutcome(f.probe.check({ epoch, signal: controller.signal }), {
          timeoutMs: wait.timeoutMs,
          what: 'aborted hanging check',
        })
        await new Promise((resolve) => setTimeout(resolve, 10))
        controller.abort(new Error('suite abort'))
        const result = await pending
        // Either a rejection with ABORTED or a failed sample; never a hang.
        if (result.ok) expect(result.value.ok).toBe(false)
        else expectBatonError(result.error, 'ABORTED')
      })
    }
  })
}
