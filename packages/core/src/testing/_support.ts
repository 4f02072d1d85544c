/**
 * Internal helpers of the conformance suites: bounded waiting that can
 * drive a virtual clock, and error assertions.
 *
 * @module
 */
import { isBatonError } from '@baton/ledger'
import { expect } from 'vitest'

/** Moves a virtual clock forward by `ms` (e.g. `VirtualClock.advance`). */
export type Advance = (ms: number) => Promise<void>

/** How {@link settle} waits. */
export interface SettleOptions {
  /** Drives virtual time while waiting; without it the suite waits in real time. */
  readonly advance?: Advance | undefined
  /** Virtual time per step of `advance` (ms); default 100. */
  readonly stepMs?: number
  /** Most `advance` steps before giving up; default 10 000. */
  readonly maxSteps?: number
  /** Real time limit (ms); default 10 000. */
  readonly timeoutMs?: number
  /** What is awaited, for the failure message. */
  readonly what: string
}

/** The settled outcome of a promise. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown }

/** Never rejects: the value or the error. */
export function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
}

/**
 * Awaits `promise` within bounds: with `advance`, moves virtual time in
 * steps until it settles (at most `maxSteps`); then waits in real time at
 * most `timeoutMs`. Fails the test, naming `what`, if it never settles.
 */
export async function settle<T>(promise: Promise<T>, options: SettleOptions): Promise<T> {
  const settled = outcome(promise)
  let done = false
  void settled.then(() => {
    done = true
  })
  const step = options.stepMs ?? 100
  const maxSteps = options.maxSteps ?? 10_000
  if (options.advance !== undefined) {
    // Let work that needs no time finish before moving the clock.
    await new Promise((resolve) => setImmediate(resolve))
    for (let i = 0; i < maxSteps && !done; i++) await options.advance(step)
  }
  const limit = options.timeoutMs ?? 10_000
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), limit)
  })
  const result = await Promise.race([settled, timedOut])
  clearTimeout(timer)
  if (result === 'timeout') {
    throw new Error(
      `${options.what} did not settle within ${limit} ms${options.advance === undefined ? '' : ` and ${maxSteps} virtual steps of ${step} ms`}`,
    )
  }
  if (!result.ok) throw result.error
  return result.value
}

/** Like {@link settle}, but returns the outcome instead of throwing the promise's error. */
export function settleOutcome<T>(promise: Promise<T>, options: SettleOptions): Promise<Outcome<T>> {
  return settle(outcome(promise), options)
}

/** Asserts `error` is a baton error with one of `codes` (any baton error when none given). */
export function expectBatonError(error: unknown, ...codes: string[]): void {
  expect(
    isBatonError(error, ...codes),
    `expected a baton error${codes.length === 0 ? '' : ` with code ${codes.join(' or ')}`}, got ${describe(error)}`,
  ).toBe(true)
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return `${error.name}${code === undefined ? '' : ` (${String(code)})`}: ${error.message}`
  }
  return String(error)
}

/** Waits `ms` of virtual time with `advance`, or of real time without. */
export async function pass(ms: number, advance: Advance | undefined): Promise<void> {
  if (advance !== undefined) await advance(ms)
  else await new Promise((resolve) => setTimeout(resolve, ms))
}

/** An `AbortSignal` that has already aborted. */
export function abortedSignal(): AbortSignal {
  const controller = new AbortController()
  controller.abort(new Error('aborted by the conformance suite'))
  return controller.signal
}
