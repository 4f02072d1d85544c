/**
 * The {@link Clock} conformance suite.
 *
 * @module
 */
import { describe, expect, it } from 'vitest'
import type { Clock } from '../clock.js'
import {
  type Advance,
  abortedSignal,
  expectBatonError,
  outcome,
  settle,
  settleOutcome,
} from './_support.js'

/** A clock under test. */
export interface ClockFixture {
  /** The clock. */
  readonly clock: Clock
  /** Moves it forward, for a virtual clock (e.g. `(ms) => clock.advance(ms)`); absent for real time. */
  readonly advance?: Advance
}

/** Options for {@link describeClock}. */
export interface ClockSuiteOptions {
  /** Returns a fresh clock. */
  create(): ClockFixture | Promise<ClockFixture>
  /** How early a real timer may fire, in the clock's ms (timer rounding); default 2. */
  readonly toleranceMs?: number
  /** Real-time limit of each wait (ms); default 10 000. */
  readonly timeoutMs?: number
}

/**
 * Registers the conformance tests for a {@link Clock}: `now` is finite and
 * never goes back, `sleep` waits at least its time, sleeps resolve in time
 * order (equal times in call order), zero and negative sleeps resolve,
 * abort before and during a sleep rejects with `ABORTED` (carrying the
 * reason) without disturbing other sleeps.
 *
 * @example
 * ```ts
 * describeClock('system', { create: () => ({ clock: createSystemClock() }) })
 * describeClock('virtual', {
 *   create: () => { const clock = createVirtualClock(); return { clock, advance: (ms) => clock.advance(ms) } },
 * })
 * ```
 */
export function describeClock(name: string, options: ClockSuiteOptions): void {
  const tolerance = options.toleranceMs ?? 2
  const limit = options.timeoutMs ?? 10_000

  describe(`Clock conformance: ${name}`, () => {
    const wait = <T>(f: ClockFixture, promise: Promise<T>, what: string): Promise<T> =>
      settle(promise, { advance: f.advance, stepMs: 1, maxSteps: 5_000, timeoutMs: limit, what })

    it('reports a finite time that never goes back', async () => {
      const f = await options.create()
      let last = f.clock.now()
      expect(Number.isFinite(last)).toBe(true)
      for (let i = 0; i < 5; i++) {
        await wait(f, f.clock.sleep(1), 'sleep(1)')
        const now = f.clock.now()
        expect(now).toBeGreaterThanOrEqual(last)
        last = now
      }
    })

    it('sleeps at least the time asked', async () => {
      const f = await options.create()
      for (const ms of [1, 15, 40]) {
        const before = f.clock.now()
        await wait(f, f.clock.sleep(ms), `sleep(${ms})`)
        expect(f.clock.now() - before, `sleep(${ms})`).toBeGreaterThanOrEqual(ms - tolerance)
      }
    })

    it('resolves zero and negative sleeps', async () => {
      const f = await options.create()
      await wait(f, f.clock.sleep(0), 'sleep(0)')
      await wait(f, f.clock.sleep(-5), 'sleep(-5)')
    })

    it('resolves sleeps in time order, equal times in call order', async () => {
      const f = await options.create()
      const order: string[] = []
      const start = (label: string, ms: number): Promise<void> =>
        f.clock.sleep(ms).then(() => {
          order.push(label)
        })
      const all = Promise.all([
        start('60', 60),
        start('20', 20),
        start('40-first', 40),
        start('0', 0),
        start('40-second', 40),
        start('40-third', 40),
      ])
      await wait(f, all, 'six sleeps')
      expect(order).toEqual(['0', '20', '40-first', '40-second', '40-third', '60'])
    })

    it('rejects with ABORTED, at once, when the signal has already aborted', async () => {
      const f = await options.create()
      const signal = abortedSignal()
      const result = await outcome(f.clock.sleep(1_000_000, signal))
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expectBatonError(result.error, 'ABORTED')
        expect((result.error as Error).cause).toBe(signal.reason)
      }
    })

    it('rejects with ABORTED when aborted during a sleep, leaving other sleeps alone', async () => {
      const f = await options.create()
      const controller = new AbortController()
      const reason = new Error('suite abort')
      const doomed = settleOutcome(f.clock.sleep(1_000_000, controller.signal), {
        timeoutMs: limit,
        what: 'aborted sleep',
      })
      const other = f.clock.sleep(30)
      const untouched = f.clock.sleep(30, new AbortController().signal)
      controller.abort(reason)
      const result = await doomed
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expectBatonError(result.error, 'ABORTED')
        expect((result.error as Error).cause).toBe(reason)
      }
      await wait(f, Promise.all([other, untouched]), 'sleeps next to an aborted one')
    })
  })
}
