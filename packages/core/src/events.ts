/**
 * Typed events from the engine, for dashboards, logs and tests. Each has a
 * dotted `type` and the time it happened; subscribing returns a disposer.
 *
 * Events mirror the receipts (same facts, delivered live) plus a few that
 * are not worth a receipt (every probe sample, step progress).
 *
 * @module
 */
import EventEmitter from 'eventemitter3'
import type { MachineEvent, Operation, StateName } from './machine.js'
import type { RegionId } from './ports/context.js'
import type { ProbeSample } from './ports/probe.js'
import type { GuardRecord, Measured } from './receipts.js'

interface At {
  /** When it happened, on the engine's clock (epoch ms). */
  readonly at: number
}

/** Every event the engine emits. */
export type EngineEvent =
  | ({ readonly type: 'probe.sampled'; readonly sample: ProbeSample } & At)
  | ({
      readonly type: 'health.degraded'
      readonly region: RegionId
      readonly status: 'degraded' | 'down'
      readonly reasons: readonly string[]
    } & At)
  | ({ readonly type: 'health.recovered'; readonly region: RegionId } & At)
  | ({
      readonly type: 'state.changed'
      readonly from: StateName
      readonly to: StateName
      readonly event: MachineEvent
      readonly epoch: number
    } & At)
  | ({
      readonly type: 'failover.decided'
      readonly operation: string
      readonly decision: Readonly<Record<string, unknown>>
      readonly guards: readonly GuardRecord[]
    } & At)
  | ({
      readonly type: 'failover.blocked'
      readonly decision: Readonly<Record<string, unknown>>
      readonly guards: readonly GuardRecord[]
    } & At)
  | ({
      readonly type: 'plan.step.started'
      readonly operation: string
      readonly step: string
      readonly attempt: number
    } & At)
  | ({
      readonly type: 'plan.step.succeeded'
      readonly operation: string
      readonly step: string
      readonly durationMs: number
      readonly attempts: number
    } & At)
  | ({
      readonly type: 'plan.step.failed'
      readonly operation: string
      readonly step: string
      readonly durationMs: number
      readonly attempts: number
      readonly error: string
    } & At)
  | ({
      readonly type: 'plan.step.compensated'
      readonly operation: string
      readonly step: string
      readonly ok: boolean
    } & At)
  | ({
      readonly type: 'approval.requested'
      readonly operation: string
      readonly reason: string
    } & At)
  | ({
      readonly type: 'approval.granted' | 'approval.denied'
      readonly operation: string
      readonly by: string
    } & At)
  | ({
      readonly type: 'lease.acquired' | 'lease.lost'
      readonly holder: string
      readonly epoch: number
    } & At)
  | ({
      readonly type: 'failover.completed'
      readonly operation: Operation
      readonly rto: Measured
      readonly rpo: Measured
    } & At)
  | ({
      readonly type: 'failback.completed'
      readonly operation: Operation
      readonly durationMs: number
    } & At)
  | ({ readonly type: 'error'; readonly error: unknown; readonly context: string } & At)

/** The `type` of every engine event. */
export type EngineEventType = EngineEvent['type']

/** The event of type `T`. */
export type EngineEventOf<T extends EngineEventType> = Extract<EngineEvent, { readonly type: T }>

/** Subscribing to engine events. */
export interface EngineEvents {
  /** Calls `listener` for every event of `type`; returns a function that unsubscribes. */
  on<T extends EngineEventType>(type: T, listener: (event: EngineEventOf<T>) => void): () => void
  /** Calls `listener` for the next event of `type` only. */
  once<T extends EngineEventType>(type: T, listener: (event: EngineEventOf<T>) => void): () => void
  /** Calls `listener` for every event. */
  onAny(listener: (event: EngineEvent) => void): () => void
}

/** An event bus: {@link EngineEvents} plus `emit` for the engine's own use. */
export interface EventBus extends EngineEvents {
  /** Delivers `event` to its listeners; a throwing listener is reported as an `error` event, never thrown. */
  emit(event: EngineEvent): void
}

/** Creates an event bus. */
export function createEventBus(): EventBus {
  const emitter = new EventEmitter()
  const ANY = Symbol('any')
  const call = (listener: (e: EngineEvent) => void, event: EngineEvent): void => {
    try {
      listener(event)
    } catch (error) {
      if (event.type !== 'error') {
        emitter.emit('error', {
          type: 'error',
          at: event.at,
          error,
          context: `listener of ${event.type}`,
        })
      }
    }
  }
  const subscribe = (key: string | symbol, listener: (e: EngineEvent) => void, once: boolean) => {
    const wrapped = (e: EngineEvent): void => call(listener, e)
    if (once) emitter.once(key, wrapped)
    else emitter.on(key, wrapped)
    return () => {
      emitter.off(key, wrapped)
    }
  }
  return {
    emit(event) {
      emitter.emit(event.type, event)
      emitter.emit(ANY, event)
    },
    on: (type, listener) => subscribe(type, listener as (e: EngineEvent) => void, false),
    once: (type, listener) => subscribe(type, listener as (e: EngineEvent) => void, true),
    onAny: (listener) => subscribe(ANY, listener, false),
  }
}
