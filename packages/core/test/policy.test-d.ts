import { describe, expectTypeOf, it } from 'vitest'
import {
  type ActingDecision,
  type Decision,
  type DecisionAction,
  defaultPolicy,
  type EventType,
  evaluateGuards,
  type GuardContext,
  type GuardEvaluation,
  type GuardName,
  type GuardRecord,
  type GuardResult,
  type HealthChange,
  type HealthStatus,
  isActing,
  type MachineEvent,
  type ManualKind,
  type Policy,
  type PolicyInput,
  type ReceiptDataMap,
  type RegionAssessment,
  type RegionMonitor,
  type Severity,
  toMachineEvent,
} from '../src/index.js'

describe('decision and policy types', () => {
  it('a policy is a plain function from input to decision', () => {
    expectTypeOf<Policy>().toEqualTypeOf<(input: PolicyInput) => Decision>()
    expectTypeOf(defaultPolicy).toEqualTypeOf<Policy>()
    const custom: Policy = (input) => ({ ...defaultPolicy(input), requiresApproval: true })
    expectTypeOf(custom).returns.toEqualTypeOf<Decision>()
  })

  it('has exactly these actions, severities, modes and manual kinds', () => {
    expectTypeOf<DecisionAction>().toEqualTypeOf<
      'failover' | 'shift' | 'fallback' | 'monitor' | 'none'
    >()
    expectTypeOf<Decision['severity']>().toEqualTypeOf<Severity>()
    expectTypeOf<Severity>().toEqualTypeOf<'P1' | 'P2' | 'P3'>()
    expectTypeOf<Decision['mode']>().toEqualTypeOf<'automatic' | 'manual'>()
    expectTypeOf<Decision['database']>().toEqualTypeOf<'promote' | 'none'>()
    expectTypeOf<ManualKind>().toEqualTypeOf<
      'planned-maintenance' | 'security-isolation' | 'residency' | 'cost' | 'operator'
    >()
    expectTypeOf<Decision['to']>().toEqualTypeOf<string | null>()
    expectTypeOf<Decision['fallback']>().toEqualTypeOf<'read-only' | 'maintenance' | undefined>()
  })

  it('a decision is recordable as receipt data', () => {
    expectTypeOf<Decision>().toExtend<Readonly<Record<string, unknown>>>()
    expectTypeOf<Decision>().toExtend<ReceiptDataMap['failover.blocked']['decision']>()
  })

  it('decisions are immutable', () => {
    const d = {} as Decision
    // @ts-expect-error readonly
    d.to = 'x'
  })

  it('guards take only acting decisions; isActing narrows', () => {
    const d = {} as Decision
    const ctx = {} as GuardContext
    // @ts-expect-error a monitor/none decision has nothing to guard
    evaluateGuards(d, ctx)
    if (isActing(d)) {
      expectTypeOf(d).toEqualTypeOf<ActingDecision>()
      expectTypeOf(d.action).toEqualTypeOf<'failover' | 'shift' | 'fallback'>()
      expectTypeOf(evaluateGuards(d, ctx)).toEqualTypeOf<GuardEvaluation>()
    }
  })

  it('guard results are the receipts’ guard records, named', () => {
    expectTypeOf<GuardResult>().toExtend<GuardRecord>()
    expectTypeOf<GuardEvaluation['blockedBy']>().toEqualTypeOf<readonly GuardName[]>()
    expectTypeOf<readonly GuardName[]>().toExtend<
      Extract<MachineEvent, { type: 'failover.blocked' }>['guards']
    >()
    expectTypeOf<GuardName>().toEqualTypeOf<
      'lease' | 'cooldown' | 'target' | 'capacity' | 'residency' | 'rpo' | 'approval'
    >()
  })

  it('health changes become machine events', () => {
    expectTypeOf(toMachineEvent).parameter(0).toEqualTypeOf<HealthChange>()
    expectTypeOf(toMachineEvent({} as HealthChange).type).toExtend<EventType>()
    expectTypeOf<HealthStatus>().toEqualTypeOf<'healthy' | 'degraded' | 'down'>()
    expectTypeOf<RegionMonitor['observe']>().returns.toEqualTypeOf<HealthChange | undefined>()
    expectTypeOf<RegionAssessment['availability']>().toEqualTypeOf<number | null>()
  })
})
