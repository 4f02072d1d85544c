import { isBatonError } from '@baton/ledger'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkResidency,
  createDefaultPolicy,
  type Decision,
  defaultPolicy,
  defineTopology,
  type HealthReason,
  type HealthStatus,
  MANUAL_KINDS,
  type ManualRequest,
  type PolicyInput,
  type RegionAssessment,
  type RegionInfo,
  rankTargets,
  residencyRule,
  type Topology,
} from '../src/index.js'

const T = Date.UTC(2026, 0, 1)
const USE = 'us-east-1'
const USW = 'us-west-2'
const EUW = 'eu-west-1'
const EUC = 'eu-central-1'

function assess(
  region: string,
  status: HealthStatus,
  extra: Partial<RegionAssessment> = {},
): RegionAssessment {
  const reasons: HealthReason[] =
    status === 'down'
      ? [{ detector: 'consecutiveFailures', value: 3, threshold: 3 }]
      : status === 'degraded'
        ? [{ detector: 'errorRate', value: 0.2, threshold: 0.1 }]
        : []
  return {
    region,
    status,
    since: T,
    reasons,
    availability: status === 'healthy' ? 1 : 0.5,
    errorRate: status === 'healthy' ? 0 : 0.5,
    consecutiveFailures: status === 'down' ? 3 : 0,
    consecutiveSuccesses: status === 'down' ? 0 : 5,
    lagMs: null,
    samples: 30,
    lastSampleAt: T,
    ...extra,
  }
}

const US_HOME: Topology = defineTopology({
  home: USE,
  databasePrimary: USE,
  regions: [
    { id: USE, jurisdiction: 'US' },
    { id: USW, jurisdiction: 'US' },
    { id: EUW, jurisdiction: 'EU', pinned: true },
  ],
})

const EU_HOME: Topology = defineTopology({
  home: EUW,
  databasePrimary: EUW,
  regions: [
    { id: EUW, jurisdiction: 'EU', pinned: true },
    { id: USE, jurisdiction: 'US' },
    { id: EUC, jurisdiction: 'EU', pinned: true, fallback: 'maintenance' },
  ],
})

function input(
  topology: Topology,
  statuses: Record<string, HealthStatus | RegionAssessment>,
  serving: string,
  extra: Partial<PolicyInput> = {},
): PolicyInput {
  const assessments: Record<string, RegionAssessment> = {}
  for (const [id, s] of Object.entries(statuses))
    assessments[id] = typeof s === 'string' ? assess(id, s) : s
  return { serving: assessments[serving]!, assessments, topology, ...extra }
}

describe('default policy: the runbook table', () => {
  it('complete region outage → automatic failover, P1, database promoted once traffic has left', () => {
    const d = defaultPolicy(
      input(US_HOME, { [USE]: 'down', [USW]: 'healthy', [EUW]: 'healthy' }, USE),
    )
    expect(d).toMatchObject({
      action: 'failover',
      severity: 'P1',
      mode: 'automatic',
      trigger: 'health',
      from: USE,
      to: USW, // topology order breaks the tie with eu-west-1 after status and priority
      fromStatus: 'down',
      database: 'promote', // down and holding the database primary
      graceful: false,
      zeroDataLoss: false,
      requiresApproval: false,
      allowDataLoss: false,
    })
    expect(d.residency).toBeUndefined()
    expect(d.reason).toContain('consecutiveFailures=3 (threshold 3)')
    // The reason tells the order the ungraceful plan really runs in.
    expect(d.reason).toContain('move traffic off it, then fence the old primary and promote')
  })

  it('the reason names the order of promotion and traffic the plan will follow', () => {
    const lag = assess(USE, 'degraded', {
      reasons: [{ detector: 'replicationLag', value: 4e6, threshold: 3.6e6 }],
    })
    const shift = defaultPolicy(input(US_HOME, { [USE]: lag, [USW]: 'healthy' }, USE))
    expect(shift).toMatchObject({ action: 'shift', graceful: true, database: 'promote' })
    expect(shift.reason).toContain('promote the replica, then move traffic')
    const appOnly = defaultPolicy(
      input(US_HOME, { [USE]: 'degraded', [USW]: 'healthy', [EUW]: 'healthy' }, USE),
    )
    expect(appOnly.reason).toContain('application layer only')
  })

  it('partial degradation → gradual traffic shift, P2, application layer only', () => {
    const d = defaultPolicy(
      input(US_HOME, { [USE]: 'degraded', [USW]: 'healthy', [EUW]: 'healthy' }, USE),
    )
    expect(d).toMatchObject({
      action: 'shift',
      severity: 'P2',
      mode: 'automatic',
      to: USW,
      database: 'none',
      graceful: true,
      zeroDataLoss: false,
      requiresApproval: false,
    })
  })

  it('a shift goes only to a healthy region', () => {
    const d = defaultPolicy(
      input(US_HOME, { [USE]: 'degraded', [USW]: 'degraded', [EUW]: 'down' }, USE),
    )
    expect(d).toMatchObject({ action: 'shift', severity: 'P2', to: null })
  })

  it('non-critical component down → monitor, P3', () => {
    const lag = assess(USE, 'degraded', {
      reasons: [{ detector: 'replicationLag', value: 4e6, threshold: 3.6e6 }],
    })
    const policy = createDefaultPolicy({ nonCritical: ['replicationLag'] })
    const d = policy(input(US_HOME, { [USE]: lag, [USW]: 'healthy' }, USE))
    expect(d).toMatchObject({ action: 'monitor', severity: 'P3', to: null, database: 'none' })
    // Without the option the same lag is a P2 with the database affected.
    expect(defaultPolicy(input(US_HOME, { [USE]: lag, [USW]: 'healthy' }, USE))).toMatchObject({
      action: 'shift',
      severity: 'P2',
      database: 'promote',
    })
  })

  it('serving healthy → none, or monitor when another region is in trouble (P3)', () => {
    expect(
      defaultPolicy(input(US_HOME, { [USE]: 'healthy', [USW]: 'healthy' }, USE)),
    ).toMatchObject({
      action: 'none',
      severity: 'P3',
      to: null,
    })
    const d = defaultPolicy(input(US_HOME, { [USE]: 'healthy', [USW]: 'down' }, USE))
    expect(d).toMatchObject({ action: 'monitor', severity: 'P3' })
    expect(d.reason).toContain('us-west-2 is down')
  })

  it('database affected → promote; not affected → application layer only', () => {
    const other = { ...US_HOME, databasePrimary: USW }
    const statuses = { [USE]: 'down', [USW]: 'healthy' } as const
    expect(defaultPolicy(input(other, statuses, USE)).database).toBe('none')
    expect(defaultPolicy(input(other, statuses, USE, { databaseAffected: true })).database).toBe(
      'promote',
    )
    expect(defaultPolicy(input(US_HOME, statuses, USE, { databaseAffected: false })).database).toBe(
      'none',
    )
    const { databasePrimary: _, ...noDb } = US_HOME
    expect(defaultPolicy(input(noDb, statuses, USE)).database).toBe('none')
  })

  it('no region left to take over → failover with no target (the target guard blocks it)', () => {
    const d = defaultPolicy(input(US_HOME, { [USE]: 'down', [USW]: 'down', [EUW]: 'down' }, USE))
    expect(d).toMatchObject({ action: 'failover', severity: 'P1', to: null })
  })

  it('decisions are plain JSON (recordable in receipts as is)', () => {
    const d = defaultPolicy(input(EU_HOME, { [EUW]: 'down', [USE]: 'healthy', [EUC]: 'down' }, EUW))
    expect(JSON.parse(JSON.stringify(d))).toEqual(d)
  })
})

describe('default policy: target selection', () => {
  it('prefers healthy, then priority, then lower lag, then availability, then topology order', () => {
    const t = defineTopology({
      home: 'a',
      regions: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd', priority: -1 }],
    })
    const base = { a: assess('a', 'down') }
    const rank = (s: Record<string, RegionAssessment>) =>
      rankTargets(input(t, { ...base, ...s }, 'a'))
    expect(
      rank({ b: assess('b', 'degraded'), c: assess('c', 'healthy'), d: assess('d', 'down') }),
    ).toEqual(['c', 'b'])
    expect(
      rank({ b: assess('b', 'healthy'), c: assess('c', 'healthy'), d: assess('d', 'healthy') }),
    ).toEqual(['d', 'b', 'c'])
    expect(
      rank({
        b: assess('b', 'healthy', { lagMs: 5000 }),
        c: assess('c', 'healthy', { lagMs: 10 }),
      }),
    ).toEqual(['c', 'b'])
    expect(
      rank({
        b: assess('b', 'healthy', { availability: 0.97 }),
        c: assess('c', 'healthy', { availability: 0.99 }),
      }),
    ).toEqual(['c', 'b'])
  })

  it('never targets a region without an assessment', () => {
    const d = defaultPolicy(input(US_HOME, { [USE]: 'down', [EUW]: 'healthy' }, USE))
    expect(d.to).toBe(EUW)
  })
})

describe('default policy: EU data residency', () => {
  it('EU users stay in the EU: fail over to an EU region, excluding the others', () => {
    const d = defaultPolicy(
      input(EU_HOME, { [EUW]: 'down', [USE]: 'healthy', [EUC]: 'degraded' }, EUW),
    )
    expect(d).toMatchObject({
      action: 'failover',
      to: EUC,
      residency: { jurisdictions: ['EU'], pinnedBy: [EUW], excluded: [USE] },
    })
  })

  it('no EU region can take over → read-only fallback instead, never a US region', () => {
    const d = defaultPolicy(input(EU_HOME, { [EUW]: 'down', [USE]: 'healthy', [EUC]: 'down' }, EUW))
    expect(d).toMatchObject({
      action: 'fallback',
      severity: 'P1',
      to: null,
      fallback: 'read-only',
      residency: { jurisdictions: ['EU'], excluded: [USE] },
    })
    expect(d.reason).toContain('read-only mode for pinned users')
  })

  it("the pinned region's configured fallback is used (maintenance page)", () => {
    const d = defaultPolicy(input(EU_HOME, { [EUC]: 'down', [USE]: 'healthy', [EUW]: 'down' }, EUC))
    // Leaving eu-central-1 (maintenance) with home eu-west-1 (read-only): the region left comes first.
    expect(d).toMatchObject({ action: 'fallback', fallback: 'maintenance' })
  })

  it('a degraded pinned region with no healthy EU region keeps serving (monitor P2), never shifts out', () => {
    const d = defaultPolicy(
      input(EU_HOME, { [EUW]: 'degraded', [USE]: 'healthy', [EUC]: 'degraded' }, EUW),
    )
    expect(d).toMatchObject({
      action: 'monitor',
      severity: 'P2',
      to: null,
      residency: { excluded: [USE] },
    })
  })

  it("after a failover, home's pinned users still constrain the next move", () => {
    const t = defineTopology({
      home: EUW,
      regions: [
        { id: EUW, jurisdiction: 'EU', pinned: true },
        { id: EUC, jurisdiction: 'EU' },
        { id: USE, jurisdiction: 'US' },
      ],
    })
    expect(residencyRule(t, EUC)).toEqual({
      jurisdictions: ['EU'],
      pinnedBy: [EUW],
      fallback: 'read-only',
    })
    const d = defaultPolicy(input(t, { [EUC]: 'down', [USE]: 'healthy', [EUW]: 'down' }, EUC))
    expect(d).toMatchObject({ action: 'fallback', to: null })
  })

  it('non-pinned users may go anywhere, including into the EU', () => {
    const d = defaultPolicy(input(US_HOME, { [USE]: 'down', [USW]: 'down', [EUW]: 'healthy' }, USE))
    expect(d).toMatchObject({ action: 'failover', to: EUW })
    expect(checkResidency(US_HOME, USE, EUW).ok).toBe(true)
    expect(checkResidency(US_HOME, EUW, USE)).toMatchObject({ ok: false, actual: 'US' })
  })
})

describe('default policy: manual requests', () => {
  const healthy = { [USE]: 'healthy', [USW]: 'healthy', [EUW]: 'healthy' } as const

  it.each(MANUAL_KINDS)('%s → manual switchover, zero data loss, approval required', (kind) => {
    const request: ManualRequest = { kind, requestedBy: 'alice', reason: 'ticket OPS-1' }
    const d = defaultPolicy(input(US_HOME, healthy, USE, { request }))
    expect(d).toMatchObject({
      action: 'failover',
      severity: kind === 'security-isolation' ? 'P1' : 'P3',
      mode: 'manual',
      trigger: kind,
      from: USE,
      to: USW,
      database: 'promote', // the primary is in the region being left
      graceful: true,
      zeroDataLoss: true,
      requiresApproval: true,
      allowDataLoss: false,
      requestedBy: 'alice',
    })
    expect(d.reason).toContain(`${kind} requested by alice: ticket OPS-1`)
  })

  it('severity follows the serving region for non-security kinds', () => {
    const request: ManualRequest = { kind: 'planned-maintenance', requestedBy: 'alice' }
    const degraded = { ...healthy, [USE]: 'degraded' } as const
    expect(defaultPolicy(input(US_HOME, degraded, USE, { request })).severity).toBe('P2')
  })

  it('allowDataLoss gives up zero data loss (the rpo guard records the override)', () => {
    const request: ManualRequest = { kind: 'operator', requestedBy: 'bob', allowDataLoss: true }
    expect(defaultPolicy(input(US_HOME, healthy, USE, { request }))).toMatchObject({
      zeroDataLoss: false,
      allowDataLoss: true,
      graceful: true,
    })
  })

  it('an unreachable serving region cannot be drained: ungraceful, no zero-data-loss promise', () => {
    const request: ManualRequest = { kind: 'operator', requestedBy: 'bob' }
    const d = defaultPolicy(input(US_HOME, { ...healthy, [USE]: 'down' }, USE, { request }))
    expect(d).toMatchObject({ severity: 'P1', graceful: false, zeroDataLoss: false })
  })

  it('an explicit target is passed on as asked (the guards judge it)', () => {
    const request: ManualRequest = { kind: 'cost', requestedBy: 'carol', target: USE }
    const d = defaultPolicy(
      input(EU_HOME, { [EUW]: 'healthy', [USE]: 'healthy', [EUC]: 'healthy' }, EUW, { request }),
    )
    expect(d).toMatchObject({
      action: 'failover',
      to: USE,
      residency: { jurisdictions: ['EU'], excluded: [] },
    })
  })

  it('a residency request with no EU region available → fallback', () => {
    const request: ManualRequest = { kind: 'residency', requestedBy: 'dpo' }
    const d = defaultPolicy(
      input(EU_HOME, { [EUW]: 'healthy', [USE]: 'healthy', [EUC]: 'down' }, EUW, { request }),
    )
    expect(d).toMatchObject({ action: 'fallback', mode: 'manual', to: null, fallback: 'read-only' })
  })

  it.each([
    [{ kind: 'vacation', requestedBy: 'a' }, 'request.kind'],
    [{ kind: 'cost', requestedBy: '' }, 'request.requestedBy'],
    [{ kind: 'cost', requestedBy: 'a', target: '' }, 'request.target'],
    [{ kind: 'cost', requestedBy: 'a', allowDataLoss: 'yes' }, 'request.allowDataLoss'],
  ])('rejects a malformed request %j', (request, path) => {
    try {
      defaultPolicy(input(US_HOME, healthy, USE, { request: request as ManualRequest }))
      expect.unreachable()
    } catch (error) {
      expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
      expect((error as { path: string }).path).toBe(path)
    }
  })
})

describe('configuration', () => {
  it.each([
    [{ home: 'a', regions: [] }, 'regions'],
    [{ home: 'a', regions: [{ id: 'a' }, { id: 'a' }] }, 'regions[1].id'],
    [{ home: 'x', regions: [{ id: 'a' }] }, 'home'],
    [{ home: 'a', regions: [{ id: 'a', pinned: true }] }, 'regions[0].jurisdiction'],
    [
      { home: 'a', regions: [{ id: 'a', jurisdiction: 'EU', pinned: true, fallback: 'off' }] },
      'regions[0].fallback',
    ],
    [{ home: 'a', regions: [{ id: 'a', priority: Number.NaN }] }, 'regions[0].priority'],
    [{ home: 'a', databasePrimary: 'b', regions: [{ id: 'a' }] }, 'databasePrimary'],
  ])('defineTopology rejects %j at %s', (topology, path) => {
    try {
      defineTopology(topology as Topology)
      expect.unreachable()
    } catch (error) {
      expect(isBatonError(error, 'INVALID_CONFIG')).toBe(true)
      expect((error as { path: string }).path).toBe(path)
    }
  })

  it('rejects an unknown non-critical detector', () => {
    expect(() => createDefaultPolicy({ nonCritical: ['latency' as never] })).toThrow(
      'nonCritical[0]: unknown detector "latency"',
    )
  })

  it('policies are replaceable functions', () => {
    const cautious = (i: PolicyInput): Decision => ({
      ...defaultPolicy(i),
      requiresApproval: true,
    })
    expect(
      cautious(input(US_HOME, { [USE]: 'down', [USW]: 'healthy' }, USE)).requiresApproval,
    ).toBe(true)
  })
})

// --- property: never a target that violates residency or is down ---------------------------

const JURISDICTIONS = ['EU', 'US', 'UK'] as const
const topologyArb = fc
  .array(
    fc.record({
      jurisdiction: fc.option(fc.constantFrom(...JURISDICTIONS), { nil: undefined }),
      pinned: fc.boolean(),
      priority: fc.integer({ min: -2, max: 2 }),
      status: fc.constantFrom<HealthStatus>('healthy', 'degraded', 'down'),
      assessed: fc.boolean(),
      lag: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .chain((regions) =>
    fc.record({
      regions: fc.constant(regions),
      home: fc.integer({ min: 0, max: regions.length - 1 }),
      serving: fc.integer({ min: 0, max: regions.length - 1 }),
      request: fc.option(
        fc.record({
          kind: fc.constantFrom(...MANUAL_KINDS),
          requestedBy: fc.constant('op'),
          allowDataLoss: fc.boolean(),
        }),
        { nil: undefined },
      ),
    }),
  )

describe('property', () => {
  it('the default policy never picks a target that is down, unassessed, the serving region, or outside residency', () => {
    fc.assert(
      fc.property(topologyArb, ({ regions, home, serving, request }) => {
        const infos: RegionInfo[] = regions.map((r, i) => ({
          id: `r${i}`,
          priority: r.priority,
          ...(r.jurisdiction ? { jurisdiction: r.jurisdiction, pinned: r.pinned } : {}),
        }))
        const topology = defineTopology({ home: `r${home}`, regions: infos })
        const assessments: Record<string, RegionAssessment> = {}
        regions.forEach((r, i) => {
          if (r.assessed || i === serving)
            assessments[`r${i}`] = assess(`r${i}`, r.status, { lagMs: r.lag })
        })
        const from = `r${serving}`
        const d = defaultPolicy({
          serving: assessments[from]!,
          assessments,
          topology,
          ...(request ? { request } : {}),
        })
        expect(JSON.parse(JSON.stringify(d))).toEqual(d)
        if (d.to !== null) {
          expect(d.to).not.toBe(from)
          expect(assessments[d.to]).toBeDefined()
          expect(assessments[d.to]!.status).not.toBe('down')
          expect(checkResidency(topology, from, d.to).ok).toBe(true)
          if (d.action === 'shift') expect(assessments[d.to]!.status).toBe('healthy')
        }
        // A fallback only when residency excluded every otherwise eligible region.
        const rule = residencyRule(topology, from)
        const inJurisdiction = infos.filter(
          (r) =>
            r.id !== from &&
            assessments[r.id] !== undefined &&
            assessments[r.id]!.status !== 'down' &&
            rule.jurisdictions.every((j) => j === r.jurisdiction),
        )
        if (d.action === 'fallback') {
          expect(rule.jurisdictions.length).toBeGreaterThan(0)
          expect(inJurisdiction).toEqual([])
        }
        if (d.action === 'failover' && d.mode === 'automatic' && inJurisdiction.length > 0)
          expect(d.to).not.toBeNull()
      }),
      { numRuns: 1000 },
    )
  })
})
