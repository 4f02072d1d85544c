import { isBatonError } from '@baton/ledger'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type ActingDecision,
  createDefaultPolicy,
  createGuards,
  createHealthMonitor,
  DEFAULT_GUARD_OPTIONS,
  type Decision,
  defaultPolicy,
  defineTopology,
  evaluateGuards,
  GUARD_NAMES,
  type GuardContext,
  type GuardOptions,
  type GuardResult,
  type HealthStatus,
  initialState,
  isActing,
  type MachineEvent,
  type RegionAssessment,
  resolveGuardOptions,
  type Topology,
  toMachineEvent,
  transition,
} from '../src/index.js'

const NOW = Date.UTC(2026, 0, 1, 12)
const USE = 'us-east-1'
const USW = 'us-west-2'
const EUW = 'eu-west-1'
const EUC = 'eu-central-1'

const topology: Topology = defineTopology({
  home: USE,
  databasePrimary: USE,
  regions: [
    { id: USE, jurisdiction: 'US' },
    { id: USW, jurisdiction: 'US' },
    { id: EUW, jurisdiction: 'EU', pinned: true },
    { id: EUC, jurisdiction: 'EU', pinned: true },
  ],
})

function assess(
  region: string,
  status: HealthStatus,
  lagMs: number | null = 1_000,
): RegionAssessment {
  return {
    region,
    status,
    since: NOW,
    reasons: [],
    availability: 1,
    errorRate: 0,
    consecutiveFailures: 0,
    consecutiveSuccesses: 3,
    lagMs,
    samples: 30,
    lastSampleAt: NOW,
  }
}

const failover: ActingDecision = {
  action: 'failover',
  severity: 'P1',
  mode: 'automatic',
  trigger: 'health',
  from: USE,
  to: USW,
  fromStatus: 'down',
  reason: 'us-east-1 is down',
  database: 'promote',
  graceful: false,
  zeroDataLoss: false,
  requiresApproval: false,
  allowDataLoss: false,
}

const manual: ActingDecision = {
  ...failover,
  severity: 'P3',
  mode: 'manual',
  trigger: 'planned-maintenance',
  fromStatus: 'healthy',
  graceful: true,
  zeroDataLoss: true,
  requiresApproval: true,
  requestedBy: 'alice',
}

function context(patch: Partial<GuardContext> = {}): GuardContext {
  return {
    now: NOW,
    lease: { holder: 'i-1', epoch: 7, expiresAt: NOW + 10_000 },
    instance: 'i-1',
    lastFailoverAt: NOW - 3_600_000,
    assessments: {
      [USE]: assess(USE, 'down', null),
      [USW]: assess(USW, 'healthy'),
      [EUW]: assess(EUW, 'healthy'),
      [EUC]: assess(EUC, 'down'),
    },
    topology,
    readiness: { [USW]: { desired: 4, ready: 4 } },
    ...patch,
  }
}

function guard(
  name: string,
  decision: ActingDecision,
  ctx: GuardContext,
  options?: GuardOptions,
): GuardResult {
  const r = evaluateGuards(decision, ctx, options)
  return r.results.find((g) => g.name === name)!
}

describe('guards', () => {
  it('all pass: every guard reports its values, in order', () => {
    const v = evaluateGuards(failover, context())
    expect(v.ok).toBe(true)
    expect(v.blockedBy).toEqual([])
    expect(v.overrides).toEqual([])
    expect(v.results.map((r) => r.name)).toEqual(GUARD_NAMES)
    expect(v.results).toEqual([
      {
        name: 'lease',
        ok: true,
        value: 7,
        limit: NOW + 10_000,
        reason: expect.stringContaining('epoch 7'),
      },
      { name: 'cooldown', ok: true, value: 3_600_000, limit: 900_000, reason: expect.any(String) },
      {
        name: 'target',
        ok: true,
        value: 'healthy',
        limit: 'healthy',
        reason: 'us-west-2 is healthy',
      },
      {
        name: 'capacity',
        ok: true,
        value: 4,
        limit: 1,
        reason: 'us-west-2: 4 of 4 ready, 1 needed',
      },
      { name: 'residency', ok: true, value: 'US', limit: null, reason: 'no residency constraint' },
      { name: 'rpo', ok: true, value: 1_000, limit: 60_000, reason: expect.any(String) },
      { name: 'approval', ok: true, value: null, limit: false, reason: 'not required' },
    ])
    expect(JSON.parse(JSON.stringify(v))).toEqual(v)
  })

  describe('lease', () => {
    it('blocks without a lease', () => {
      expect(guard('lease', failover, context({ lease: undefined }))).toMatchObject({
        ok: false,
        value: null,
        reason: 'lease not held',
      })
    })
    it('blocks a lease held by another instance, with its epoch', () => {
      const lease = { holder: 'i-2', epoch: 8, expiresAt: NOW + 10_000 }
      expect(guard('lease', failover, context({ lease }))).toMatchObject({
        ok: false,
        value: 8,
        limit: 'i-1',
      })
    })
    it('blocks an expired lease', () => {
      const lease = { holder: 'i-1', epoch: 7, expiresAt: NOW }
      expect(guard('lease', failover, context({ lease }))).toMatchObject({
        ok: false,
        value: 7,
        limit: NOW,
      })
    })
  })

  describe('cooldown (anti-flap)', () => {
    it('blocks an automatic failover within the cooldown, with the elapsed time', () => {
      const r = guard('cooldown', failover, context({ lastFailoverAt: NOW - 60_000 }))
      expect(r).toMatchObject({ ok: false, value: 60_000, limit: 900_000 })
      expect(evaluateGuards(failover, context({ lastFailoverAt: NOW - 60_000 })).blockedBy).toEqual(
        ['cooldown'],
      )
    })
    it('passes exactly at the end of the cooldown, and when there was no failover', () => {
      expect(guard('cooldown', failover, context({ lastFailoverAt: NOW - 900_000 })).ok).toBe(true)
      expect(guard('cooldown', failover, context({ lastFailoverAt: undefined }))).toMatchObject({
        ok: true,
        value: null,
      })
    })
    it('does not hold back an approved manual decision', () => {
      const r = guard(
        'cooldown',
        manual,
        context({ lastFailoverAt: NOW - 60_000, approval: { by: 'bob', at: NOW } }),
      )
      expect(r).toMatchObject({ ok: true, value: 60_000, limit: 900_000 })
    })
    it('is configurable', () => {
      const r = guard('cooldown', failover, context({ lastFailoverAt: NOW - 60_000 }), {
        cooldownMs: 30_000,
      })
      expect(r.ok).toBe(true)
    })
  })

  describe('target', () => {
    it('blocks a degraded target unless allowed', () => {
      const ctx = context({
        assessments: { ...context().assessments, [USW]: assess(USW, 'degraded') },
      })
      expect(guard('target', failover, ctx)).toMatchObject({
        ok: false,
        value: 'degraded',
        limit: 'healthy',
      })
      expect(guard('target', failover, ctx, { allowDegradedTarget: true })).toMatchObject({
        ok: true,
        limit: 'degraded',
      })
    })
    it('blocks a down, unknown, missing or same-region target', () => {
      expect(guard('target', { ...failover, to: EUC }, context())).toMatchObject({
        ok: false,
        value: 'down',
      })
      expect(guard('target', { ...failover, to: 'ap-south-1' }, context())).toMatchObject({
        ok: false,
        value: null,
        reason: 'ap-south-1 has no assessment',
      })
      expect(guard('target', { ...failover, to: null }, context())).toMatchObject({
        ok: false,
        reason: 'no eligible region',
      })
      expect(guard('target', { ...failover, to: USE }, context())).toMatchObject({ ok: false })
    })
  })

  describe('capacity (readiness)', () => {
    it('blocks a target without enough ready capacity', () => {
      const ctx = context({ readiness: { [USW]: { desired: 10, ready: 4 } } })
      expect(guard('capacity', failover, ctx, { minReadyRatio: 0.5 })).toMatchObject({
        ok: false,
        value: 4,
        limit: 5,
      })
      expect(
        guard('capacity', failover, context({ readiness: { [USW]: { desired: 2, ready: 0 } } })),
      ).toMatchObject({
        ok: false,
        value: 0,
        limit: 1,
      })
    })
    it('takes a plain verdict', () => {
      expect(guard('capacity', failover, context({ readiness: { [USW]: false } }))).toMatchObject({
        ok: false,
        value: false,
        limit: true,
      })
    })
    it('is not checked without a value, unless required', () => {
      const ctx = context({ readiness: {} })
      expect(guard('capacity', failover, ctx)).toMatchObject({ ok: true, value: null })
      expect(guard('capacity', failover, ctx, { requireReadiness: true })).toMatchObject({
        ok: false,
      })
    })
  })

  describe('residency', () => {
    const fromEu: ActingDecision = { ...failover, from: EUW, to: USW }
    it('blocks routing EU-pinned users to a US region, with both jurisdictions', () => {
      const ctx = context({ assessments: { ...context().assessments, [EUW]: assess(EUW, 'down') } })
      expect(guard('residency', fromEu, ctx)).toMatchObject({
        ok: false,
        value: 'US',
        limit: 'EU',
        reason: 'users of eu-west-1 are pinned to EU; us-west-2 is US',
      })
      expect(guard('residency', { ...fromEu, to: EUC }, ctx)).toMatchObject({
        ok: true,
        value: 'EU',
        limit: 'EU',
      })
    })
    it('records a fallback decision as blocked, with the fallback mode', () => {
      const fallback: ActingDecision = {
        ...fromEu,
        action: 'fallback',
        to: null,
        fallback: 'read-only',
        residency: { jurisdictions: ['EU'], pinnedBy: [EUW], excluded: [USE, USW] },
      }
      const v = evaluateGuards(fallback, context())
      expect(v.ok).toBe(false)
      expect(v.blockedBy).toEqual(['target', 'residency'])
      expect(v.results.find((r) => r.name === 'residency')).toMatchObject({
        value: 'read-only',
        limit: 'EU',
      })
    })
  })

  describe('rpo', () => {
    it('blocks a promotion that would lose more than the RPO, with the lag', () => {
      const ctx = context({ lagMs: { [USW]: 120_000 } })
      expect(guard('rpo', failover, ctx)).toMatchObject({
        ok: false,
        value: 120_000,
        limit: 60_000,
      })
    })
    it('blocks when the lag is unknown', () => {
      const ctx = context({
        assessments: { ...context().assessments, [USW]: assess(USW, 'healthy', null) },
      })
      expect(guard('rpo', failover, ctx)).toMatchObject({ ok: false, value: null })
    })
    it('prefers the measured lag over the assessment', () => {
      expect(guard('rpo', failover, context({ lagMs: { [USW]: 0 } }))).toMatchObject({
        ok: true,
        value: 0,
      })
    })
    it('allowDataLoss overrides it, and the override is reported for the audit', () => {
      const d: ActingDecision = {
        ...manual,
        allowDataLoss: true,
        zeroDataLoss: false,
        requestedBy: 'bob',
      }
      const v = evaluateGuards(
        d,
        context({ lagMs: { [USW]: 120_000 }, approval: { by: 'carol', at: NOW } }),
      )
      const rpo = {
        name: 'rpo',
        ok: true,
        overridden: true,
        overriddenBy: 'bob',
        value: 120_000,
        limit: 60_000,
      }
      expect(v.ok).toBe(true)
      expect(v.results.find((r) => r.name === 'rpo')).toMatchObject(rpo)
      expect(v.overrides).toEqual([expect.objectContaining(rpo)])
    })
    it('does not apply without a database promotion', () => {
      expect(
        guard('rpo', { ...failover, database: 'none' }, context({ lagMs: { [USW]: 1e9 } })),
      ).toMatchObject({
        ok: true,
        reason: 'no database promotion',
      })
    })
  })

  describe('approval', () => {
    it('blocks a manual decision without approval', () => {
      expect(guard('approval', manual, context())).toMatchObject({
        ok: false,
        value: null,
        limit: true,
      })
    })
    it('passes with an approval, recording the approver', () => {
      expect(
        guard('approval', manual, context({ approval: { by: 'bob', at: NOW } })),
      ).toMatchObject({
        ok: true,
        value: 'bob',
      })
    })
    it('can require an approver other than the requester', () => {
      const ctx = context({ approval: { by: 'alice', at: NOW } })
      expect(guard('approval', manual, ctx).ok).toBe(true)
      expect(guard('approval', manual, ctx, { distinctApprover: true })).toMatchObject({
        ok: false,
        value: 'alice',
      })
    })
  })

  it('refuses to judge a decision that does not act', () => {
    const monitor: Decision = { ...failover, action: 'monitor', to: null }
    expect(isActing(monitor)).toBe(false)
    try {
      evaluateGuards(monitor as ActingDecision, context())
      expect.unreachable()
    } catch (error) {
      expect(isBatonError(error, 'INVALID_STATE')).toBe(true)
    }
  })

  it.each([
    [{ rpoMs: -1 }, 'rpoMs: must not be negative'],
    [{ cooldownMs: Number.POSITIVE_INFINITY }, 'cooldownMs: must be a finite number'],
    [{ minReadyRatio: 2 }, 'minReadyRatio: must be between 0 and 1'],
    [{ distinctApprover: 'yes' }, 'distinctApprover: must be a boolean'],
    [{ cooldown: 5 }, 'cooldown: unknown field'],
  ])('rejects options %j', (options, message) => {
    expect(() => createGuards(options as GuardOptions)).toThrow(message)
    expect(() => resolveGuardOptions(options as GuardOptions)).toThrow(message)
  })

  it('defaults come from the runbooks', () => {
    expect(DEFAULT_GUARD_OPTIONS).toMatchObject({
      cooldownMs: 900_000,
      rpoMs: 60_000,
      allowDegradedTarget: false,
    })
  })

  it('property: pure, and blocked exactly when some guard failed', () => {
    const guards = createGuards()
    fc.assert(
      fc.property(
        fc.record({
          leaseIn: fc.integer({ min: -5_000, max: 5_000 }),
          since: fc.option(fc.integer({ min: 0, max: 2_000_000 }), { nil: undefined }),
          status: fc.constantFrom<HealthStatus>('healthy', 'degraded', 'down'),
          lag: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: null }),
          ready: fc.integer({ min: 0, max: 4 }),
          approved: fc.boolean(),
          manual: fc.boolean(),
          allowDataLoss: fc.boolean(),
          to: fc.constantFrom(USW, EUW, EUC, null),
        }),
        (p) => {
          const decision: ActingDecision = {
            ...(p.manual ? manual : failover),
            to: p.to,
            allowDataLoss: p.allowDataLoss,
          }
          const ctx = context({
            lease: { holder: 'i-1', epoch: 3, expiresAt: NOW + p.leaseIn },
            lastFailoverAt: p.since === undefined ? undefined : NOW - p.since,
            assessments: { ...context().assessments, [USW]: assess(USW, p.status, p.lag) },
            readiness: { [USW]: { desired: 4, ready: p.ready } },
            ...(p.approved ? { approval: { by: 'bob', at: NOW } } : {}),
          })
          const a = guards(decision, ctx)
          expect(guards(decision, ctx)).toEqual(a)
          expect(a.ok).toBe(a.results.every((r) => r.ok))
          expect(a.blockedBy).toEqual(a.results.filter((r) => !r.ok).map((r) => r.name))
          for (const r of a.overrides)
            expect(r).toMatchObject({ name: 'rpo', overriddenBy: p.manual ? 'alice' : 'policy' })
          if (a.ok && decision.to !== null)
            expect(ctx.assessments[decision.to]!.status).toBe('healthy')
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('wiring: samples → monitor → machine → decide → policy → guards → machine', () => {
  it('a region outage becomes a guarded, recorded failover', () => {
    const topo = defineTopology({
      home: USE,
      databasePrimary: USE,
      regions: [{ id: USE }, { id: USW }],
    })
    const health = createHealthMonitor({ regions: [USE, USW] })
    const policy = createDefaultPolicy()
    const guards = createGuards()
    let state = initialState(USE)
    const events: MachineEvent[] = []
    const step = (event: MachineEvent) => {
      events.push(event)
      const [next, effects] = transition(state, event)
      state = next
      for (const effect of effects) {
        if (effect.type !== 'decide') continue
        const decision = policy({
          serving: health.assessment(effect.region),
          assessments: health.assessments(),
          topology: topo,
        })
        if (!isActing(decision)) continue
        const verdict = guards(decision, {
          now: event.at,
          lease: { holder: 'i-1', epoch: 1, expiresAt: event.at + 30_000 },
          lastFailoverAt: state.lastFailoverAt,
          assessments: health.assessments(),
          topology: topo,
          lagMs: { [USW]: 2_000 },
        })
        step(
          verdict.ok && decision.to !== null
            ? {
                type: 'failover.decided',
                at: event.at,
                operation: 'op-1',
                from: decision.from,
                to: decision.to,
                severity: decision.severity,
                mode: decision.mode,
              }
            : { type: 'failover.blocked', at: event.at, guards: verdict.blockedBy },
        )
      }
    }
    for (let i = 0; i < 5; i++) {
      for (const region of [USE, USW]) {
        const change = health.observe({
          region,
          ok: region === USW || i < 1,
          at: NOW + i * 30_000,
          latencyMs: 5,
        })
        if (change) step(toMachineEvent(change))
      }
    }
    expect(events.map((e) => e.type)).toEqual(['health.degraded', 'failover.decided'])
    expect(events[1]).toMatchObject({ from: USE, to: USW, severity: 'P1', mode: 'automatic' })
    expect(state.name).toBe('failing-over')
    expect(state.operation).toMatchObject({ from: USE, to: USW })
  })

  it('the same outage inside the cooldown is blocked, with the guard named', () => {
    const a = { [USE]: assess(USE, 'down'), [USW]: assess(USW, 'healthy') }
    const d = defaultPolicy({ serving: a[USE], assessments: a, topology })
    expect(isActing(d)).toBe(true)
    const v = evaluateGuards(
      d as ActingDecision,
      context({ assessments: a, lastFailoverAt: NOW - 1 }),
    )
    expect(v.blockedBy).toEqual(['cooldown'])
    const [next, effects] = transition(
      { ...initialState(USE), name: 'suspect' },
      { type: 'failover.blocked', at: NOW, guards: v.blockedBy },
    )
    expect(next.name).toBe('suspect')
    expect(effects).toEqual([
      { type: 'notify', kind: 'blocked', detail: 'failover blocked by cooldown' },
    ])
  })
})
