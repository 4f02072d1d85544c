/**
 * Internal: what stands between a controller instance and the simulated
 * backends — injected call faults (fail, hang, slow), partitions of an
 * instance, fencing by epoch — and the audit log of every call.
 *
 * @module
 */
import type { Clock } from '../clock.js'
import { ConfigError, CoreError, FencedError } from '../errors.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Window } from './_world-timeline.js'
import type { Random } from './random.js'
import { SimulatedFaultError } from './simulated-error.js'
import type { CallFaultSpec, CallRecord } from './world-types.js'

/** A port of the world. */
export type PortName = CallRecord['port']

/** A resource that refuses stale epochs. */
export type Resource = 'traffic' | 'database' | 'scaler'

/** An injected call fault. */
export interface CallFault extends Window {
  readonly spec: CallFaultSpec
  readonly mode: 'fail' | 'hang' | 'slow'
  readonly error: string
  readonly delayMs: number
  seen: number
  hits: number
  readonly hung: Set<(error: Error) => void>
}

/** A partition of one instance from some targets. */
export interface Cut extends Window {
  readonly instance: string
  readonly targets: ReadonlySet<string>
  readonly mode: 'fail' | 'timeout'
  readonly timeoutMs: number
  hits: number
}

/** Why a call cannot reach something, and how long it takes to find out. */
export interface Unreachable {
  readonly error: string
  readonly delayMs: number
  readonly detail: string
}

const activeAt = (w: Window, t: number): boolean => w.from <= t && t < w.to

/** Rejects with `ABORTED` if `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, call: string): void {
  if (signal?.aborted === true) {
    throw new CoreError('ABORTED', `${call}: aborted`, { cause: signal.reason })
  }
}

/** Checks a call context: a non-negative integer epoch, an optional AbortSignal. */
export function checkContext(ctx: CallContext, call: string): void {
  if (typeof ctx !== 'object' || ctx === null) {
    throw new ConfigError('ctx', `${call}: a CallContext {epoch, signal?} is required`)
  }
  if (!Number.isSafeInteger(ctx.epoch) || ctx.epoch < 0) {
    throw new ConfigError('ctx.epoch', `${call}: must be a non-negative integer, got ${ctx.epoch}`)
  }
}

/** The gate every call passes. */
export class CallGate {
  readonly faults: CallFault[] = []
  readonly cuts: Cut[] = []
  readonly highest: Record<Resource, number> = { traffic: 0, database: 0, scaler: 0 }
  readonly calls: CallRecord[] = []

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /**
   * Applies the call faults matching this call: waits out `slow` ones,
   * hangs for `hang`, and returns the first `fail` to report (the caller
   * decides how: a probe returns a failed sample, other calls throw).
   */
  async apply(
    instance: string,
    port: PortName,
    method: string,
    region: RegionId | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ readonly error: string; readonly delayMs: number } | undefined> {
    const now = this.clock.now()
    let slow = 0
    let outcome: CallFault | undefined
    for (const f of this.faults) {
      if (!activeAt(f, now)) continue
      const s = f.spec
      if (s.port !== undefined && s.port !== port) continue
      if (s.method !== undefined && s.method !== method) continue
      if (s.region !== undefined && s.region !== region) continue
      if (s.instance !== undefined && s.instance !== instance) continue
      f.seen++
      if (f.seen <= (s.skip ?? 0)) continue
      if (s.times !== undefined && f.hits >= s.times) continue
      if (s.probability !== undefined && !this.random.chance(s.probability)) continue
      f.hits++
      if (f.mode === 'slow') {
        slow += f.delayMs
        continue
      }
      outcome = f
      break
    }
    if (slow > 0) await this.clock.sleep(slow, signal)
    if (outcome === undefined) return undefined
    if (outcome.mode === 'hang') {
      await this.hang(outcome, `${port}.${method}`, signal)
    }
    return { error: outcome.error, delayMs: outcome.delayMs }
  }

  /** Never resolves: rejects when `signal` aborts or the fault ends. */
  private hang(fault: CallFault, call: string, signal: AbortSignal | undefined): Promise<never> {
    return new Promise<never>((_, reject) => {
      const timer = new AbortController()
      const done = (error: Error): void => {
        fault.hung.delete(done)
        signal?.removeEventListener('abort', onAbort)
        timer.abort()
        reject(error)
      }
      const onAbort = (): void => {
        done(new CoreError('ABORTED', `${call}: aborted`, { cause: signal?.reason }))
      }
      fault.hung.add(done)
      signal?.addEventListener('abort', onAbort, { once: true })
      const left = fault.to - this.clock.now()
      if (Number.isFinite(left)) {
        this.clock.sleep(Math.max(0, left), timer.signal).then(
          () => done(new SimulatedFaultError(call, 'CONNECTION_RESET', 'the hang ended')),
          () => undefined,
        )
      }
    })
  }

  /** Ends a call fault now, releasing its hung calls. */
  end(fault: CallFault, now: number): void {
    if (fault.to > now) fault.to = Math.max(fault.from, now)
    for (const release of [...fault.hung]) {
      release(new SimulatedFaultError('call', 'CONNECTION_RESET', 'the hang ended'))
    }
  }

  /** The partition cutting `instance` from `target` now, if any (counts a hit). */
  cut(instance: string, target: string): Unreachable | undefined {
    const now = this.clock.now()
    for (const c of this.cuts) {
      if (c.instance !== instance || !activeAt(c, now) || !c.targets.has(target)) continue
      c.hits++
      return c.mode === 'fail'
        ? { error: 'UNAVAILABLE', delayMs: 0, detail: `${instance} is cut off from ${target}` }
        : {
            error: 'DEADLINE_EXCEEDED',
            delayMs: c.timeoutMs,
            detail: `${instance} is cut off from ${target}`,
          }
    }
    return undefined
  }

  /** Refuses `epoch` if `resource` has seen a newer one (recorded by the caller); else remembers it. */
  fence(resource: Resource, epoch: number, call: string): void {
    const current = this.highest[resource]
    if (epoch < current) throw new FencedError(epoch, current, call)
    this.highest[resource] = epoch
  }

  /** Appends a call to the audit log. */
  record(entry: CallRecord): void {
    this.calls.push(entry)
  }
}

/** The outcome of a call that threw `error`, for the audit log. */
export function outcomeOf(error: unknown): {
  readonly outcome: CallRecord['outcome']
  readonly error: string
} {
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof FencedError) return { outcome: 'fenced', error: message }
  if (error instanceof CoreError && error.code === 'ABORTED') {
    return { outcome: 'aborted', error: message }
  }
  return { outcome: 'failed', error: message }
}
