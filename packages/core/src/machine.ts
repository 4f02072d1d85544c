/**
 * The failover state machine: a pure, total function from a state and an
 * event to the next state and the effects the controller must carry out.
 *
 * It never performs anything itself (no time, no I/O, no randomness): the
 * controller feeds it events and executes its effects, and `replay` feeds
 * it the events recorded in a ledger to check that they form a legal run.
 *
 * ```
 *            health.degraded                 failover.decided
 *   active ───────────────────▶ suspect ─────────────────────▶ failing-over
 *     ▲  ◀─── health.recovered ───┘                               │      │
 *     │                                            plan.succeeded │      │ plan.failed
 *     │ plan.succeeded            failback.decided                ▼      ▼
 *   failing-back ◀──────────────────────────────────────── failed-over  rolling-back
 *     │ plan.failed ──────────────────────────────────────────────────────▲
 *   any state ── lease.lost / halt ──▶ halted ── resume ──▶ active | failed-over
 * ```
 *
 * Events a state does not accept leave it unchanged with no effects (the
 * function is total); {@link accepts} tells the two cases apart.
 *
 * @module
 */
import type { RegionId } from './ports/context.js'

/** The states of the machine. */
export type StateName =
  | 'active'
  | 'suspect'
  | 'failing-over'
  | 'failed-over'
  | 'failing-back'
  | 'rolling-back'
  | 'halted'

/** Every state, in a stable order (for tables and exhaustive tests). */
export const STATE_NAMES: readonly StateName[] = [
  'active',
  'suspect',
  'failing-over',
  'failed-over',
  'failing-back',
  'rolling-back',
  'halted',
]

/** A failover, failback or rollback in flight. */
export interface Operation {
  /** Which kind. */
  readonly kind: 'failover' | 'failback' | 'rollback'
  /** Unique id (the plan run's id). */
  readonly id: string
  /** Region traffic moves away from. */
  readonly from: RegionId
  /** Region traffic moves to. */
  readonly to: RegionId
  /** When it started (epoch ms). */
  readonly startedAt: number
  /** For a rollback: the operation it undoes. */
  readonly undoes?: 'failover' | 'failback'
}

/** The machine's state: a name and the facts the transitions need. */
export interface MachineState {
  readonly name: StateName
  /** The region traffic and writes go to, as far as the machine knows. */
  readonly serving: RegionId
  /** The normal region, where failback returns. */
  readonly home: RegionId
  /** The operation in flight (failing-over, failing-back, rolling-back). */
  readonly operation?: Operation
  /** When halted: why, and where `resume` returns to. */
  readonly halt?: { readonly reason: string; readonly from: StateName }
  /** When the last failover completed (epoch ms), for the cooldown guard. */
  readonly lastFailoverAt?: number
  /** Number of transitions so far. */
  readonly version: number
}

/** Severity of a decision: P1 region down, P2 degraded, P3 monitor. */
export type Severity = 'P1' | 'P2' | 'P3'

/** The inputs of the machine. */
export type MachineEvent =
  | {
      readonly type: 'health.degraded'
      readonly at: number
      readonly region: RegionId
      readonly status: 'degraded' | 'down'
    }
  | { readonly type: 'health.recovered'; readonly at: number; readonly region: RegionId }
  | {
      readonly type: 'failover.decided'
      readonly at: number
      readonly operation: string
      readonly from: RegionId
      readonly to: RegionId
      readonly severity: Severity
      readonly mode: 'automatic' | 'manual'
    }
  | { readonly type: 'failover.blocked'; readonly at: number; readonly guards: readonly string[] }
  | { readonly type: 'failback.decided'; readonly at: number; readonly operation: string }
  | { readonly type: 'plan.succeeded'; readonly at: number; readonly operation: string }
  | {
      readonly type: 'plan.failed'
      readonly at: number
      readonly operation: string
      readonly error: string
    }
  | { readonly type: 'lease.lost'; readonly at: number }
  | { readonly type: 'halt'; readonly at: number; readonly reason: string }
  | { readonly type: 'resume'; readonly at: number; readonly serving: RegionId }

/** The type names of every event. */
export type EventType = MachineEvent['type']

/** Every event type, in a stable order. */
export const EVENT_TYPES: readonly EventType[] = [
  'health.degraded',
  'health.recovered',
  'failover.decided',
  'failover.blocked',
  'failback.decided',
  'plan.succeeded',
  'plan.failed',
  'lease.lost',
  'halt',
  'resume',
]

/** What the controller must do after a transition. */
export type Effect =
  /** Run the policy and guards for `region` and answer with `failover.decided` or `failover.blocked`. */
  | { readonly type: 'decide'; readonly region: RegionId; readonly status: 'degraded' | 'down' }
  /** Start the plan for `operation`. */
  | { readonly type: 'run-plan'; readonly operation: Operation }
  /** Stop the plan run `operation` (it must stop safely: compensate nothing further). */
  | { readonly type: 'cancel-plan'; readonly operation: string; readonly reason: string }
  /** Tell people. */
  | {
      readonly type: 'notify'
      readonly kind: 'initiated' | 'completed' | 'failed' | 'blocked'
      readonly operation?: Operation
      readonly detail: string
    }
  /** The home region is healthy again while failed over: consider a failback. */
  | { readonly type: 'consider-failback'; readonly region: RegionId }
  /** Re-read the world (weights, database primary) after a resume. */
  | { readonly type: 'resync' }

/** The result of a transition. */
export type Transition = readonly [next: MachineState, effects: readonly Effect[]]

/** The initial state: `active`, serving `home`. */
export function initialState(home: RegionId): MachineState {
  return { name: 'active', serving: home, home, version: 0 }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const OPERATION_STATES: ReadonlySet<StateName> = new Set([
  'failing-over',
  'failing-back',
  'rolling-back',
])

/** Builds the next state: `operation` only while one is in flight, `halt` only when halted. */
function to(state: MachineState, name: StateName, patch: Partial<MachineState> = {}): MachineState {
  const next: Mutable<MachineState> = {
    name,
    serving: patch.serving ?? state.serving,
    home: state.home,
    version: state.version + 1,
  }
  const lastFailoverAt = patch.lastFailoverAt ?? state.lastFailoverAt
  if (lastFailoverAt !== undefined) next.lastFailoverAt = lastFailoverAt
  const operation = patch.operation ?? state.operation
  if (operation !== undefined && OPERATION_STATES.has(name)) next.operation = operation
  const halt = patch.halt ?? state.halt
  if (halt !== undefined && name === 'halted') next.halt = halt
  return next
}

const UNCHANGED: readonly Effect[] = []

/** True if `event` concerns the operation in flight (events for stale plan runs are ignored). */
function current(state: MachineState, operation: string): boolean {
  return state.operation !== undefined && state.operation.id === operation
}

/**
 * The next state and effects for `event` in `state`. Pure and total: an
 * event the state does not accept returns `state` itself and no effects.
 */
export function transition(state: MachineState, event: MachineEvent): Transition {
  // Losing the lease or an operator halt stops everything, from any live state.
  if (event.type === 'lease.lost' || event.type === 'halt') {
    if (state.name === 'halted') return [state, UNCHANGED]
    const reason = event.type === 'halt' ? event.reason : 'lease lost'
    const effects: Effect[] = []
    if (state.operation !== undefined) {
      effects.push({ type: 'cancel-plan', operation: state.operation.id, reason })
    }
    effects.push({ type: 'notify', kind: 'failed', detail: `halted: ${reason}` })
    return [to(state, 'halted', { halt: { reason, from: state.name } }), effects]
  }

  switch (state.name) {
    case 'active':
      if (event.type === 'health.degraded' && event.region === state.serving) {
        return [
          to(state, 'suspect'),
          [{ type: 'decide', region: event.region, status: event.status }],
        ]
      }
      if (
        event.type === 'failover.decided' &&
        event.mode === 'manual' &&
        event.from === state.serving
      ) {
        return startFailover(state, event)
      }
      return [state, UNCHANGED]

    case 'suspect':
      if (event.type === 'health.recovered' && event.region === state.serving) {
        return [to(state, 'active'), UNCHANGED]
      }
      if (event.type === 'health.degraded' && event.region === state.serving) {
        // Worse news (degraded → down): decide again, staying suspect.
        return [state, [{ type: 'decide', region: event.region, status: event.status }]]
      }
      if (event.type === 'failover.decided' && event.from === state.serving) {
        return startFailover(state, event)
      }
      if (event.type === 'failover.blocked') {
        return [
          state,
          [
            {
              type: 'notify',
              kind: 'blocked',
              detail: `failover blocked by ${event.guards.join(', ')}`,
            },
          ],
        ]
      }
      return [state, UNCHANGED]

    case 'failing-over': {
      const op = state.operation!
      if (event.type === 'plan.succeeded' && current(state, event.operation)) {
        return [
          to(state, 'failed-over', { serving: op.to, lastFailoverAt: event.at }),
          [
            {
              type: 'notify',
              kind: 'completed',
              operation: op,
              detail: `failed over ${op.from} → ${op.to}`,
            },
          ],
        ]
      }
      if (event.type === 'plan.failed' && current(state, event.operation)) {
        return startRollback(state, op, event)
      }
      return [state, UNCHANGED]
    }

    case 'failed-over':
      if (event.type === 'health.recovered' && event.region === state.home) {
        return [state, [{ type: 'consider-failback', region: state.home }]]
      }
      if (event.type === 'failback.decided') {
        const operation: Operation = {
          kind: 'failback',
          id: event.operation,
          from: state.serving,
          to: state.home,
          startedAt: event.at,
        }
        return [
          to(state, 'failing-back', { operation }),
          [
            { type: 'run-plan', operation },
            {
              type: 'notify',
              kind: 'initiated',
              operation,
              detail: `failing back ${operation.from} → ${operation.to}`,
            },
          ],
        ]
      }
      if (event.type === 'health.degraded' && event.region === state.serving) {
        // The region we failed over to is in trouble too: no automatic move from here.
        return [
          state,
          [
            {
              type: 'notify',
              kind: 'failed',
              detail: `${event.region} (serving after failover) is ${event.status}`,
            },
          ],
        ]
      }
      return [state, UNCHANGED]

    case 'failing-back': {
      const op = state.operation!
      if (event.type === 'plan.succeeded' && current(state, event.operation)) {
        return [
          to(state, 'active', { serving: op.to }),
          [
            {
              type: 'notify',
              kind: 'completed',
              operation: op,
              detail: `failed back ${op.from} → ${op.to}`,
            },
          ],
        ]
      }
      if (event.type === 'plan.failed' && current(state, event.operation)) {
        return startRollback(state, op, event)
      }
      return [state, UNCHANGED]
    }

    case 'rolling-back': {
      const op = state.operation!
      if (event.type === 'plan.succeeded' && current(state, event.operation)) {
        // Traffic is back where it was before the undone operation.
        const name: StateName = op.to === state.home ? 'active' : 'failed-over'
        return [
          to(state, name, { serving: op.to }),
          [{ type: 'notify', kind: 'completed', operation: op, detail: `rolled back to ${op.to}` }],
        ]
      }
      if (event.type === 'plan.failed' && current(state, event.operation)) {
        const reason = `rollback failed: ${event.error}`
        return [
          to(state, 'halted', { halt: { reason, from: 'rolling-back' } }),
          [{ type: 'notify', kind: 'failed', operation: op, detail: reason }],
        ]
      }
      return [state, UNCHANGED]
    }

    case 'halted':
      if (event.type === 'resume') {
        const name: StateName = event.serving === state.home ? 'active' : 'failed-over'
        return [to(state, name, { serving: event.serving }), [{ type: 'resync' }]]
      }
      return [state, UNCHANGED]
  }
}

function startFailover(
  state: MachineState,
  event: Extract<MachineEvent, { type: 'failover.decided' }>,
): Transition {
  const operation: Operation = {
    kind: 'failover',
    id: event.operation,
    from: event.from,
    to: event.to,
    startedAt: event.at,
  }
  return [
    to(state, 'failing-over', { operation }),
    [
      { type: 'run-plan', operation },
      {
        type: 'notify',
        kind: 'initiated',
        operation,
        detail: `${event.severity} ${event.mode} failover ${event.from} → ${event.to}`,
      },
    ],
  ]
}

function startRollback(
  state: MachineState,
  op: Operation,
  event: Extract<MachineEvent, { type: 'plan.failed' }>,
): Transition {
  const operation: Operation = {
    kind: 'rollback',
    id: `${op.id}:rollback`,
    from: op.to,
    to: op.from,
    startedAt: event.at,
    undoes: op.kind === 'failback' ? 'failback' : 'failover',
  }
  return [
    to(state, 'rolling-back', { operation }),
    [
      { type: 'run-plan', operation },
      {
        type: 'notify',
        kind: 'failed',
        operation: op,
        detail: `${op.kind} failed: ${event.error}; rolling back`,
      },
    ],
  ]
}

/** True if `event` changes `state` or produces effects (false: the state ignores it). */
export function accepts(state: MachineState, event: MachineEvent): boolean {
  const [next, effects] = transition(state, event)
  return next !== state || effects.length > 0
}
