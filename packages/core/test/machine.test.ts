import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  accepts,
  EVENT_TYPES,
  type EventType,
  initialState,
  type MachineEvent,
  type MachineState,
  type Operation,
  STATE_NAMES,
  type StateName,
  transition,
} from '../src/index.js'

const A = 'us-east-1'
const B = 'us-west-2'
const T = 1_000

const failover: Operation = { kind: 'failover', id: 'op1', from: A, to: B, startedAt: T }
const failback: Operation = { kind: 'failback', id: 'op2', from: B, to: A, startedAt: T }
const rollbackOfFailover: Operation = {
  kind: 'rollback',
  id: 'op1:rollback',
  from: B,
  to: A,
  startedAt: T,
  undoes: 'failover',
}

/** A representative state of each name. */
const states: Record<StateName, MachineState> = {
  active: { name: 'active', serving: A, home: A, version: 3 },
  suspect: { name: 'suspect', serving: A, home: A, version: 4 },
  'failing-over': { name: 'failing-over', serving: A, home: A, operation: failover, version: 5 },
  'failed-over': { name: 'failed-over', serving: B, home: A, lastFailoverAt: T, version: 6 },
  'failing-back': { name: 'failing-back', serving: B, home: A, operation: failback, version: 7 },
  'rolling-back': {
    name: 'rolling-back',
    serving: A,
    home: A,
    operation: rollbackOfFailover,
    version: 8,
  },
  halted: {
    name: 'halted',
    serving: A,
    home: A,
    halt: { reason: 'operator', from: 'active' },
    version: 9,
  },
}

/** A representative event of each type, aimed at the state's own region or operation. */
function eventFor(type: EventType, s: MachineState): MachineEvent {
  const at = T + 500
  const op = s.operation?.id ?? 'op2'
  switch (type) {
    case 'health.degraded':
      return { type, at, region: s.serving, status: 'down' }
    case 'health.recovered':
      return { type, at, region: s.name === 'failed-over' ? s.home : s.serving }
    case 'failover.decided':
      return {
        type,
        at,
        operation: 'op9',
        from: s.serving,
        to: B,
        severity: 'P1',
        mode: 'automatic',
      }
    case 'failover.blocked':
      return { type, at, guards: ['cooldown'] }
    case 'failback.decided':
      return { type, at, operation: 'op2' }
    case 'plan.succeeded':
      return { type, at, operation: op }
    case 'plan.failed':
      return { type, at, operation: op, error: 'step promote failed' }
    case 'lease.lost':
      return { type, at }
    case 'halt':
      return { type, at, reason: 'operator' }
    case 'resume':
      return { type, at, serving: A }
  }
}

/** Expected outcome of every (state, event) pair: the next state name and the effect types. */
const expected: Record<StateName, Record<EventType, [StateName, string[]]>> = {
  active: {
    'health.degraded': ['suspect', ['decide']],
    'health.recovered': ['active', []],
    'failover.decided': ['active', []], // automatic decisions need a suspect state
    'failover.blocked': ['active', []],
    'failback.decided': ['active', []],
    'plan.succeeded': ['active', []],
    'plan.failed': ['active', []],
    'lease.lost': ['halted', ['notify']],
    halt: ['halted', ['notify']],
    resume: ['active', []],
  },
  suspect: {
    'health.degraded': ['suspect', ['decide']],
    'health.recovered': ['active', []],
    'failover.decided': ['failing-over', ['run-plan', 'notify']],
    'failover.blocked': ['suspect', ['notify']],
    'failback.decided': ['suspect', []],
    'plan.succeeded': ['suspect', []],
    'plan.failed': ['suspect', []],
    'lease.lost': ['halted', ['notify']],
    halt: ['halted', ['notify']],
    resume: ['suspect', []],
  },
  'failing-over': {
    'health.degraded': ['failing-over', []],
    'health.recovered': ['failing-over', []],
    'failover.decided': ['failing-over', []],
    'failover.blocked': ['failing-over', []],
    'failback.decided': ['failing-over', []],
    'plan.succeeded': ['failed-over', ['notify']],
    'plan.failed': ['rolling-back', ['run-plan', 'notify']],
    'lease.lost': ['halted', ['cancel-plan', 'notify']],
    halt: ['halted', ['cancel-plan', 'notify']],
    resume: ['failing-over', []],
  },
  'failed-over': {
    'health.degraded': ['failed-over', ['notify']],
    'health.recovered': ['failed-over', ['consider-failback']],
    'failover.decided': ['failed-over', []],
    'failover.blocked': ['failed-over', []],
    'failback.decided': ['failing-back', ['run-plan', 'notify']],
    'plan.succeeded': ['failed-over', []],
    'plan.failed': ['failed-over', []],
    'lease.lost': ['halted', ['notify']],
    halt: ['halted', ['notify']],
    resume: ['failed-over', []],
  },
  'failing-back': {
    'health.degraded': ['failing-back', []],
    'health.recovered': ['failing-back', []],
    'failover.decided': ['failing-back', []],
    'failover.blocked': ['failing-back', []],
    'failback.decided': ['failing-back', []],
    'plan.succeeded': ['active', ['notify']],
    'plan.failed': ['rolling-back', ['run-plan', 'notify']],
    'lease.lost': ['halted', ['cancel-plan', 'notify']],
    halt: ['halted', ['cancel-plan', 'notify']],
    resume: ['failing-back', []],
  },
  'rolling-back': {
    'health.degraded': ['rolling-back', []],
    'health.recovered': ['rolling-back', []],
    'failover.decided': ['rolling-back', []],
    'failover.blocked': ['rolling-back', []],
    'failback.decided': ['rolling-back', []],
    'plan.succeeded': ['active', ['notify']],
    'plan.failed': ['halted', ['notify']],
    'lease.lost': ['halted', ['cancel-plan', 'notify']],
    halt: ['halted', ['cancel-plan', 'notify']],
    resume: ['rolling-back', []],
  },
  halted: {
    'health.degraded': ['halted', []],
    'health.recovered': ['halted', []],
    'failover.decided': ['halted', []],
    'failover.blocked': ['halted', []],
    'failback.decided': ['halted', []],
    'plan.succeeded': ['halted', []],
    'plan.failed': ['halted', []],
    'lease.lost': ['halted', []],
    halt: ['halted', []],
    resume: ['active', ['resync']],
  },
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

describe('transition: every state × every event', () => {
  for (const name of STATE_NAMES) {
    for (const type of EVENT_TYPES) {
      const [nextName, effects] = expected[name][type]
      it(`${name} + ${type} → ${nextName} [${effects.join(', ')}]`, () => {
        const state = deepFreeze(structuredClone(states[name]))
        const event = deepFreeze(eventFor(type, state))
        const [next, out] = transition(state, event)
        expect(next.name).toBe(nextName)
        expect(out.map((e) => e.type)).toEqual(effects)
        expect(accepts(state, event)).toBe(next !== state || out.length > 0)
        if (next === state) expect(out.length === 0 || next.name === name).toBe(true)
        else expect(next.version).toBe(state.version + 1)
        // Pure: the same input gives an equal output.
        expect(transition(state, event)).toEqual([next, out])
      })
    }
  }
})

describe('transition: the facts it carries', () => {
  it('a failover serves the target, records its time and returns home on failback', () => {
    let s = initialState(A)
    s = transition(s, { type: 'health.degraded', at: 1, region: A, status: 'down' })[0]
    const [failing, effects] = transition(s, {
      type: 'failover.decided',
      at: 2,
      operation: 'f1',
      from: A,
      to: B,
      severity: 'P1',
      mode: 'automatic',
    })
    expect(failing.operation).toMatchObject({ kind: 'failover', id: 'f1', from: A, to: B })
    expect(effects[0]).toEqual({ type: 'run-plan', operation: failing.operation })
    const [over] = transition(failing, { type: 'plan.succeeded', at: 10, operation: 'f1' })
    expect(over).toMatchObject({ name: 'failed-over', serving: B, lastFailoverAt: 10 })
    expect(over.operation).toBeUndefined()
    const [back] = transition(over, { type: 'failback.decided', at: 20, operation: 'b1' })
    expect(back.operation).toMatchObject({ kind: 'failback', from: B, to: A })
    const [home] = transition(back, { type: 'plan.succeeded', at: 30, operation: 'b1' })
    expect(home).toMatchObject({ name: 'active', serving: A, lastFailoverAt: 10 })
  })

  it('ignores plan results for other operations (stale runs)', () => {
    const s = states['failing-over']
    expect(transition(s, { type: 'plan.succeeded', at: 1, operation: 'other' })[0]).toBe(s)
    expect(transition(s, { type: 'plan.failed', at: 1, operation: 'other', error: 'x' })[0]).toBe(s)
  })

  it('ignores health news about regions that are not serving', () => {
    const s = states.active
    expect(transition(s, { type: 'health.degraded', at: 1, region: B, status: 'down' })[0]).toBe(s)
  })

  it('rolls a failed failback back to the region it was serving', () => {
    const [rolling] = transition(states['failing-back'], {
      type: 'plan.failed',
      at: 5,
      operation: 'op2',
      error: 'gate 50% failed',
    })
    expect(rolling.operation).toMatchObject({
      kind: 'rollback',
      from: A,
      to: B,
      undoes: 'failback',
    })
    const [done] = transition(rolling, {
      type: 'plan.succeeded',
      at: 6,
      operation: rolling.operation!.id,
    })
    expect(done).toMatchObject({ name: 'failed-over', serving: B })
  })

  it('halts with the reason and resumes to the state the serving region implies', () => {
    const [halted, effects] = transition(states['failing-over'], { type: 'lease.lost', at: 5 })
    expect(halted.halt).toEqual({ reason: 'lease lost', from: 'failing-over' })
    expect(effects[0]).toEqual({ type: 'cancel-plan', operation: 'op1', reason: 'lease lost' })
    expect(transition(halted, { type: 'resume', at: 6, serving: B })[0]).toMatchObject({
      name: 'failed-over',
      serving: B,
    })
    expect(transition(halted, { type: 'resume', at: 6, serving: A })[0].name).toBe('active')
  })
})

describe('transition: properties over random runs', () => {
  const region = fc.constantFrom(A, B)
  const op = fc.constantFrom('op1', 'op2', 'op1:rollback', 'op2:rollback', 'x')
  const event: fc.Arbitrary<MachineEvent> = fc.oneof(
    fc.record({
      type: fc.constant('health.degraded' as const),
      at: fc.nat(),
      region,
      status: fc.constantFrom('degraded' as const, 'down' as const),
    }),
    fc.record({ type: fc.constant('health.recovered' as const), at: fc.nat(), region }),
    fc.record({
      type: fc.constant('failover.decided' as const),
      at: fc.nat(),
      operation: op,
      from: region,
      to: region,
      severity: fc.constantFrom('P1' as const, 'P2' as const),
      mode: fc.constantFrom('automatic' as const, 'manual' as const),
    }),
    fc.record({
      type: fc.constant('failover.blocked' as const),
      at: fc.nat(),
      guards: fc.constant(['cooldown']),
    }),
    fc.record({ type: fc.constant('failback.decided' as const), at: fc.nat(), operation: op }),
    fc.record({ type: fc.constant('plan.succeeded' as const), at: fc.nat(), operation: op }),
    fc.record({
      type: fc.constant('plan.failed' as const),
      at: fc.nat(),
      operation: op,
      error: fc.constant('boom'),
    }),
    fc.record({ type: fc.constant('lease.lost' as const), at: fc.nat() }),
    fc.record({ type: fc.constant('halt' as const), at: fc.nat(), reason: fc.constant('op') }),
    fc.record({ type: fc.constant('resume' as const), at: fc.nat(), serving: region }),
  )

  it('keeps its invariants whatever happens', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let s = initialState(A)
        for (const e of events) {
          const [next, effects] = transition(s, e)
          const inFlight = ['failing-over', 'failing-back', 'rolling-back'].includes(next.name)
          expect(next.operation !== undefined).toBe(inFlight)
          expect(next.halt !== undefined).toBe(next.name === 'halted')
          expect(next.home).toBe(A)
          expect([A, B]).toContain(next.serving)
          expect(next.version).toBe(next === s ? s.version : s.version + 1)
          // A plan starts only when entering an operation state, with that operation.
          for (const eff of effects) {
            if (eff.type === 'run-plan') expect(eff.operation).toBe(next.operation)
          }
          // Never more than one plan in flight: starting one requires not having one.
          if (effects.some((x) => x.type === 'run-plan') && s.operation !== undefined) {
            expect(next.operation!.kind).toBe('rollback')
          }
          s = next
        }
      }),
      { numRuns: 3000 },
    )
  })
})
