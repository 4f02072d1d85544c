import { describe, expectTypeOf, it } from 'vitest'
import {
  type Effect,
  type EventType,
  type MachineEvent,
  type MachineState,
  type StateName,
  transition,
} from '../src/index.js'

describe('machine types', () => {
  it('returns a state and readonly effects', () => {
    const s = {} as MachineState
    const e = {} as MachineEvent
    expectTypeOf(transition(s, e)).toEqualTypeOf<
      readonly [next: MachineState, effects: readonly Effect[]]
    >()
  })

  it('narrows events and effects by type', () => {
    const e = {} as MachineEvent
    if (e.type === 'failover.decided') expectTypeOf(e.to).toEqualTypeOf<string>()
    const f = {} as Effect
    if (f.type === 'run-plan')
      expectTypeOf(f.operation.kind).toEqualTypeOf<'failover' | 'failback' | 'rollback'>()
  })

  it('has exactly these states and event types', () => {
    expectTypeOf<StateName>().toEqualTypeOf<
      | 'active'
      | 'suspect'
      | 'failing-over'
      | 'failed-over'
      | 'failing-back'
      | 'rolling-back'
      | 'halted'
    >()
    expectTypeOf<EventType>().toEqualTypeOf<
      | 'health.degraded'
      | 'health.recovered'
      | 'failover.decided'
      | 'failover.blocked'
      | 'failback.decided'
      | 'plan.succeeded'
      | 'plan.failed'
      | 'lease.lost'
      | 'halt'
      | 'resume'
    >()
  })

  it('refuses malformed events', () => {
    const s = {} as MachineState
    // @ts-expect-error a failover decision needs its regions
    transition(s, { type: 'failover.decided', at: 1, operation: 'x' })
    // @ts-expect-error unknown event type
    transition(s, { type: 'explode', at: 1 })
  })
})
