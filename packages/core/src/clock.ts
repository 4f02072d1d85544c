/**
 * Time, as a port: the real clock for production, a virtual one for drills
 * and tests (deterministic, instant, driven by `advance`).
 *
 * @module
 */
import { CoreError } from './errors.js'

/** A source of time and timers. Everything in the engine that waits uses one. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /**
   * Resolves after `ms` milliseconds of this clock's time. Rejects with an
   * `ABORTED` error if `signal` aborts first.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

function aborted(signal: AbortSignal): CoreError {
  return new CoreError('ABORTED', 'aborted', { cause: signal.reason })
}

/** The system clock: `Date.now()` and real timers. */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(aborted(signal))
          return
        }
        const onAbort = (): void => {
          clearTimeout(timer)
          reject(aborted(signal!))
        }
        const timer = setTimeout(
          () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
          Math.max(0, ms),
        )
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
  }
}

interface Timer {
  readonly at: number
  readonly seq: number
  readonly resolve: () => void
}

/** A clock whose time moves only when told to. */
export interface VirtualClock extends Clock {
  /** Timers waiting to fire. */
  readonly pending: number
  /**
   * Moves time forward by `ms`, firing every timer due on the way in time
   * order (ties in creation order), letting the code each one wakes run
   * before the next fires.
   */
  advance(ms: number): Promise<void>
  /** Moves time to the next timer and fires it (and any due at the same time); false if none. */
  next(): Promise<boolean>
  /**
   * Keeps firing timers until none are left, or until `limit` of this clock's
   * milliseconds have passed or `maxTimers` have fired (guards against code
   * that re-arms timers forever).
   */
  runUntilIdle(options?: { readonly limit?: number; readonly maxTimers?: number }): Promise<void>
}

/**
 * Lets the code woken by a timer run to its next wait before time moves on:
 * every microtask, and every `setImmediate` callback that code queues (the
 * ledger's group commit defers a flush with one), turn after turn, until no
 * `setImmediate` is pending. Real I/O is not waited for: drills and tests on
 * a virtual clock use in-memory adapters.
 */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (!process.getActiveResourcesInfo().includes('Immediate')) return
  }
}

/** Most timers one `advance`/`next` may fire before the clock gives up (see {@link VirtualClock}). */
const MAX_TIMERS_PER_STEP = 1_000_000

/**
 * A virtual clock starting at `startMs` (default 2026-01-01T00:00:00Z).
 * Deterministic: the same code and the same calls to `advance` always see
 * the same times in the same order.
 */
export function createVirtualClock(startMs = Date.UTC(2026, 0, 1)): VirtualClock {
  let now = startMs
  let seq = 0
  const timers: Timer[] = []

  /**
   * Fires due timers in order until none is due at or before `until`.
   * Bounded: code that keeps re-arming zero-delay timers would otherwise
   * never let virtual time move.
   */
  const fireDue = async (
    until: number,
    maxTimers = MAX_TIMERS_PER_STEP,
    stopAtLimit = false,
  ): Promise<number> => {
    let fired = 0
    for (;;) {
      if (fired >= maxTimers) {
        if (stopAtLimit) return fired
        throw new CoreError(
          'TIMEOUT',
          `virtual clock: ${fired} timers fired without time passing ${until}; is something polling with sleep(0)?`,
        )
      }
      await settle()
      let i = -1
      for (let k = 0; k < timers.length; k++) {
        const t = timers[k]!
        if (
          t.at <= until &&
          (i < 0 || t.at < timers[i]!.at || (t.at === timers[i]!.at && t.seq < timers[i]!.seq))
        )
          i = k
      }
      if (i < 0) return fired
      const [t] = timers.splice(i, 1)
      if (t!.at > now) now = t!.at
      t!.resolve()
      fired++
    }
  }

  const clock: VirtualClock = {
    now: () => now,
    get pending() {
      return timers.length
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(aborted(signal))
          return
        }
        const timer: Timer = {
          at: now + Math.max(0, ms),
          seq: seq++,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          },
        }
        const onAbort = (): void => {
          const i = timers.indexOf(timer)
          if (i >= 0) timers.splice(i, 1)
          reject(aborted(signal!))
        }
        timers.push(timer)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    },
    async advance(ms) {
      const until = now + Math.max(0, ms)
      await fireDue(until)
      now = until
      await settle()
    },
    async next() {
      await settle()
      if (timers.length === 0) return false
      const at = Math.min(...timers.map((t) => t.at))
      await fireDue(at)
      return true
    },
    async runUntilIdle(options = {}) {
      const limit = options.limit ?? Number.POSITIVE_INFINITY
      const maxTimers = options.maxTimers ?? 1_000_000
      const end = now + limit
      let fired = 0
      while (fired < maxTimers) {
        await settle()
        if (timers.length === 0) return
        const at = Math.min(...timers.map((t) => t.at))
        if (at > end) {
          now = end
          return
        }
        fired += await fireDue(at, maxTimers - fired, true)
      }
    },
  }
  return clock
}
