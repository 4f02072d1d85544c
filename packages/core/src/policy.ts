/**
 * Decisions: a policy maps the health assessments, the topology and any
 * manual request to what should happen (fail over, shift gradually, fall
 * back, monitor, nothing), with a severity and how to do it. Guards
 * (`guards.ts`) then say whether it may happen now.
 *
 * The default policy encodes the runbooks:
 * - HonuaIO's decision matrix: region completely unavailable → automatic
 *   failover; planned maintenance → manual procedure; database affected →
 *   promote the replica as part of the failover (before the traffic moves
 *   when graceful; after it, once the old primary is fenced, when the source
 *   is down: see `plans.ts`), else the application layer only;
 * - SomaAgent's assessment table: P1 complete region down → immediate
 *   failover; P2 partial degradation → gradual traffic shift; P3 non-critical
 *   → monitor; and its EU residency rule: EU users stay in the EU (read-only
 *   or maintenance mode instead);
 * - Aurum's manual triggers: planned maintenance, security isolation,
 *   residency, cost → manual switchover with zero data loss (HonuaIO's
 *   planned maintenance: RPO 0), which needs approval.
 *
 * @module
 */
import { ConfigError } from './errors.js'
import {
  DETECTOR_NAMES,
  type DetectorName,
  type HealthStatus,
  type RegionAssessment,
  worseThan,
} from './health.js'
import type { Severity } from './machine.js'
import type { RegionId } from './ports/context.js'

/** What pinned users get when no region of their jurisdiction can serve them. */
export type FallbackMode = 'read-only' | 'maintenance'

/** A region of the topology. */
export interface RegionInfo {
  /** The region id, e.g. `eu-west-1`. */
  readonly id: RegionId
  /** Jurisdiction tag, e.g. `EU`, `US`. */
  readonly jurisdiction?: string
  /**
   * The users this region serves are pinned to its jurisdiction (data
   * residency): they must never be routed to a region of another one.
   * Default false; needs `jurisdiction`.
   */
  readonly pinned?: boolean
  /** For a pinned region: the mode its users get when no region of the jurisdiction can take over. Default `read-only`. */
  readonly fallback?: FallbackMode
  /** Preference as a failover target among equally healthy regions, lower first. Default 0. */
  readonly priority?: number
}

/** The regions a service runs in. */
export interface Topology {
  /** The normal serving region. */
  readonly home: RegionId
  /** Every region, in order of preference for ties. */
  readonly regions: readonly RegionInfo[]
  /**
   * The region holding the database primary; omit when there is no managed
   * database (or one that fails over by itself).
   */
  readonly databasePrimary?: RegionId
}

/** The kinds of manual request (Aurum's manual triggers, plus an operator's own call). */
export type ManualKind =
  | 'planned-maintenance'
  | 'security-isolation'
  | 'residency'
  | 'cost'
  | 'operator'

/** Every manual kind. */
export const MANUAL_KINDS: readonly ManualKind[] = [
  'planned-maintenance',
  'security-isolation',
  'residency',
  'cost',
  'operator',
]

/** A person asking to move traffic off the serving region. */
export interface ManualRequest {
  /** Why traffic should move (Aurum's manual triggers, or `operator`). */
  readonly kind: ManualKind
  /** The region to move to; default: the policy picks one. */
  readonly target?: RegionId
  /** Accept losing data beyond the RPO (an audited override of the `rpo` guard). Default false. */
  readonly allowDataLoss?: boolean
  /** Who asked (recorded; the approval guard can require a different approver). */
  readonly requestedBy: string
  /** Free text for the record. */
  readonly reason?: string
}

/** Everything a policy decides from. */
export interface PolicyInput {
  /** The assessment of the region serving now (the `decide` effect's region). */
  readonly serving: RegionAssessment
  /** Every region's assessment, by region (a region without one is never a target). */
  readonly assessments: Readonly<Record<RegionId, RegionAssessment>>
  /** The regions, their jurisdictions and the database primary (validate it once with {@link defineTopology}). */
  readonly topology: Topology
  /**
   * Whether the database is affected (failed database probes, lag). Default:
   * inferred — the serving region's assessment has a `replicationLag` reason,
   * or it is down and holds `topology.databasePrimary`. For a manual
   * request: whether the database must move (default: its primary is in the
   * serving region).
   */
  readonly databaseAffected?: boolean
  /** A manual request, if this decision answers one. */
  readonly request?: ManualRequest
}

/** What a decision does. */
export type DecisionAction =
  /** Move all traffic (and the database primary if `database: 'promote'`) to `to`. */
  | 'failover'
  /** Move traffic to `to` gradually (P2). */
  | 'shift'
  /** No region of the pinned users' jurisdiction can take over: put them in `fallback` mode instead. */
  | 'fallback'
  /** Do not move; watch (P3, or P2 when no move is allowed). */
  | 'monitor'
  /** Nothing to do. */
  | 'none'

/** The residency constraint a decision respected. */
export type ResidencyNote = {
  /** Jurisdictions a target must belong to. */
  readonly jurisdictions: readonly string[]
  /** The pinned regions (the one being left, and home) that impose them. */
  readonly pinnedBy: readonly RegionId[]
  /** Regions that would otherwise have been eligible, excluded for residency. */
  readonly excluded: readonly RegionId[]
}

/**
 * A policy's verdict. A plain JSON object (no `undefined`), so it can be
 * recorded as is in `failover.decided` / `failover.blocked` receipts.
 */
export type Decision = {
  /** What to do. */
  readonly action: DecisionAction
  /** P1 region down (or security isolation), P2 degraded, P3 monitor. */
  readonly severity: Severity
  /** `automatic` from health detection, `manual` from a request. */
  readonly mode: 'automatic' | 'manual'
  /** What prompted it: health detection, or the manual request's kind. */
  readonly trigger: 'health' | ManualKind
  /** The region traffic would leave (the serving region). */
  readonly from: RegionId
  /** The region traffic would go to; `null` when none is eligible (the `target` guard then blocks). */
  readonly to: RegionId | null
  /** The status of `from` when deciding. */
  readonly fromStatus: HealthStatus
  /** One line, for people. */
  readonly reason: string
  /**
   * `promote`: promote the target's replica (before moving traffic when
   * graceful, after it when not; see `plans.ts`); `none`: application layer only.
   */
  readonly database: 'promote' | 'none'
  /** `from` is reachable: drain it and promote gracefully (switchover) rather than abandon it. */
  readonly graceful: boolean
  /** The cut-over must wait for replication lag 0 (no data loss accepted). */
  readonly zeroDataLoss: boolean
  /** A person must approve before it runs (every manual kind). */
  readonly requiresApproval: boolean
  /** The request accepted data loss beyond the RPO (an audited override). */
  readonly allowDataLoss: boolean
  /** Who asked, for manual decisions. */
  readonly requestedBy?: string
  /** Present when a residency rule constrained the target. */
  readonly residency?: ResidencyNote
  /** For `fallback`: the mode pinned users get. */
  readonly fallback?: FallbackMode
}

/** A decision function. Replaceable: any function of this type can stand in for the default. */
export type Policy = (input: PolicyInput) => Decision

/** Options of {@link createDefaultPolicy}. */
export interface DefaultPolicyOptions {
  /**
   * Detectors whose trips are non-critical: a degraded region with only
   * these reasons is P3 (monitor), not P2 (shift). Default none.
   */
  readonly nonCritical?: readonly DetectorName[]
}

/** The severity of a region's status: down P1, degraded P2, healthy P3. */
export function severityOf(status: HealthStatus): Severity {
  return status === 'down' ? 'P1' : status === 'degraded' ? 'P2' : 'P3'
}

/**
 * Validates a topology: unique region ids, `home` and `databasePrimary`
 * among them, `pinned` only with a `jurisdiction`, valid `fallback` and
 * finite `priority`. Returns it unchanged.
 *
 * @throws ConfigError naming the bad field, e.g. `regions[2].jurisdiction: required when pinned`.
 */
export function defineTopology(topology: Topology): Topology {
  if (!Array.isArray(topology.regions) || topology.regions.length === 0)
    throw new ConfigError('regions', 'must be a non-empty array')
  const seen = new Set<RegionId>()
  topology.regions.forEach((r, i) => {
    const path = `regions[${i}]`
    if (typeof r?.id !== 'string' || r.id === '')
      throw new ConfigError(`${path}.id`, 'must be a non-empty string')
    if (seen.has(r.id)) throw new ConfigError(`${path}.id`, `duplicate region "${r.id}"`)
    seen.add(r.id)
    if (
      r.jurisdiction !== undefined &&
      (typeof r.jurisdiction !== 'string' || r.jurisdiction === '')
    )
      throw new ConfigError(`${path}.jurisdiction`, 'must be a non-empty string')
    if (r.pinned !== undefined && typeof r.pinned !== 'boolean')
      throw new ConfigError(`${path}.pinned`, 'must be a boolean')
    if (r.pinned === true && r.jurisdiction === undefined)
      throw new ConfigError(`${path}.jurisdiction`, 'required when pinned')
    if (r.fallback !== undefined && r.fallback !== 'read-only' && r.fallback !== 'maintenance')
      throw new ConfigError(`${path}.fallback`, "must be 'read-only' or 'maintenance'")
    if (r.priority !== undefined && !Number.isFinite(r.priority))
      throw new ConfigError(`${path}.priority`, 'must be a finite number')
  })
  if (!seen.has(topology.home)) throw new ConfigError('home', `unknown region "${topology.home}"`)
  if (topology.databasePrimary !== undefined && !seen.has(topology.databasePrimary))
    throw new ConfigError('databasePrimary', `unknown region "${topology.databasePrimary}"`)
  return topology
}

function info(topology: Topology, id: RegionId): RegionInfo | undefined {
  for (const r of topology.regions) if (r.id === id) return r
  return undefined
}

/** The residency rule for traffic leaving `from`. */
export interface ResidencyRule {
  /** Jurisdictions a target must belong to (empty: unconstrained; two or more: no region can). */
  readonly jurisdictions: readonly string[]
  /** The pinned regions imposing them: `from` (its users) and `home` (its users, served from `from` after a failover). */
  readonly pinnedBy: readonly RegionId[]
  /** The fallback mode of the first pinned region (default `read-only`). */
  readonly fallback: FallbackMode
}

/** The residency rule for traffic leaving `from` (see {@link ResidencyRule}). */
export function residencyRule(topology: Topology, from: RegionId): ResidencyRule {
  const jurisdictions: string[] = []
  const pinnedBy: RegionId[] = []
  let fallback: FallbackMode | undefined
  for (const id of from === topology.home ? [from] : [from, topology.home]) {
    const r = info(topology, id)
    if (r?.pinned !== true || r.jurisdiction === undefined) continue
    pinnedBy.push(id)
    fallback ??= r.fallback
    if (!jurisdictions.includes(r.jurisdiction)) jurisdictions.push(r.jurisdiction)
  }
  return { jurisdictions, pinnedBy, fallback: fallback ?? 'read-only' }
}

/** Whether moving traffic from `from` to `to` respects residency, and the jurisdictions involved. */
export interface ResidencyCheck {
  /** `to` belongs to every jurisdiction the rule requires. */
  readonly ok: boolean
  /** The target's jurisdiction (`null`: untagged or unknown region). */
  readonly actual: string | null
  /** The rule it was judged against. */
  readonly rule: ResidencyRule
}

/** Checks that `to` satisfies the residency rule for traffic leaving `from`. */
export function checkResidency(topology: Topology, from: RegionId, to: RegionId): ResidencyCheck {
  const rule = residencyRule(topology, from)
  const actual = info(topology, to)?.jurisdiction ?? null
  return { ok: rule.jurisdictions.every((j) => j === actual), actual, rule }
}

const nullLast = (v: number | null, ifNull: number): number => (v === null ? ifNull : v)

/**
 * Regions eligible to take over from `from`, best first: assessed, not
 * `down`, not `from`, within the residency rule. Ranked by status, then
 * `priority`, replication lag (lower first), availability, error rate, and
 * topology order.
 */
export function rankTargets(input: PolicyInput, from: RegionId = input.serving.region): RegionId[] {
  return candidates(input, from, 'degraded').ranked
}

function candidates(
  input: PolicyInput,
  from: RegionId,
  worst: HealthStatus,
): { ranked: RegionId[]; excluded: RegionId[]; rule: ResidencyRule } {
  const { topology, assessments } = input
  const rule = residencyRule(topology, from)
  const ok: { id: RegionId; a: RegionAssessment; p: number; i: number }[] = []
  const excluded: RegionId[] = []
  topology.regions.forEach((r, i) => {
    const a = assessments[r.id]
    if (r.id === from || a === undefined || worseThan(a.status, worst)) return
    if (!rule.jurisdictions.every((j) => j === r.jurisdiction)) excluded.push(r.id)
    else ok.push({ id: r.id, a, p: r.priority ?? 0, i })
  })
  const rank = { healthy: 0, degraded: 1, down: 2 } as const
  ok.sort(
    (x, y) =>
      rank[x.a.status] - rank[y.a.status] ||
      x.p - y.p ||
      nullLast(x.a.lagMs, 0) - nullLast(y.a.lagMs, 0) ||
      nullLast(y.a.availability, 1) - nullLast(x.a.availability, 1) ||
      nullLast(x.a.errorRate, 0) - nullLast(y.a.errorRate, 0) ||
      x.i - y.i,
  )
  return { ranked: ok.map((c) => c.id), excluded, rule }
}

const fmt = (v: number): string => String(Number(v.toPrecision(4)))

/** `availability=0.8 (threshold 0.95), …` for the tripped detectors of an assessment. */
function describe(a: RegionAssessment): string {
  const parts = a.reasons.map(
    (r) => `${r.detector}=${fmt(r.value)} (threshold ${fmt(r.threshold)})`,
  )
  return parts.length === 0 ? a.status : `${a.status}: ${parts.join(', ')}`
}

function note(rule: ResidencyRule, excluded: readonly RegionId[]): { residency?: ResidencyNote } {
  return rule.jurisdictions.length === 0
    ? {}
    : { residency: { jurisdictions: rule.jurisdictions, pinnedBy: rule.pinnedBy, excluded } }
}

function validateRequest(request: ManualRequest): void {
  if (!MANUAL_KINDS.includes(request.kind))
    throw new ConfigError('request.kind', `must be one of ${MANUAL_KINDS.join(', ')}`)
  if (typeof request.requestedBy !== 'string' || request.requestedBy === '')
    throw new ConfigError('request.requestedBy', 'must be a non-empty string')
  if (request.target !== undefined && (typeof request.target !== 'string' || request.target === ''))
    throw new ConfigError('request.target', 'must be a non-empty string')
  if (request.allowDataLoss !== undefined && typeof request.allowDataLoss !== 'boolean')
    throw new ConfigError('request.allowDataLoss', 'must be a boolean')
}

function manual(input: PolicyInput, request: ManualRequest): Decision {
  validateRequest(request)
  const s = input.serving
  const from = s.region
  const reachable = s.status !== 'down'
  const allowDataLoss = request.allowDataLoss === true
  const movesDb = input.databaseAffected ?? input.topology.databasePrimary === from
  const why = `${request.kind} requested by ${request.requestedBy}${request.reason ? `: ${request.reason}` : ''}`
  const base = {
    severity: request.kind === 'security-isolation' ? 'P1' : severityOf(s.status),
    mode: 'manual',
    trigger: request.kind,
    from,
    fromStatus: s.status,
    graceful: reachable,
    zeroDataLoss: reachable && !allowDataLoss,
    requiresApproval: true,
    allowDataLoss,
    requestedBy: request.requestedBy,
  } as const
  const database = movesDb ? 'promote' : 'none'
  if (request.target !== undefined) {
    const rule = residencyRule(input.topology, from)
    return {
      ...base,
      action: 'failover',
      to: request.target,
      reason: `${why}; switch over ${from} → ${request.target}`,
      database,
      ...note(rule, []),
    }
  }
  const { ranked, excluded, rule } = candidates(input, from, 'degraded')
  const to = ranked[0] ?? null
  if (to === null && excluded.length > 0) {
    return {
      ...base,
      action: 'fallback',
      to: null,
      reason: `${why}; no ${rule.jurisdictions.join('/')} region can take over: ${rule.fallback} mode for pinned users`,
      database: 'none',
      zeroDataLoss: false,
      fallback: rule.fallback,
      ...note(rule, excluded),
    }
  }
  return {
    ...base,
    action: 'failover',
    to,
    reason: `${why}; switch over ${from} → ${to ?? '(no eligible region)'}`,
    database,
    ...note(rule, excluded),
  }
}

function automatic(input: PolicyInput, nonCritical: ReadonlySet<DetectorName>): Decision {
  const s = input.serving
  const from = s.region
  const base = {
    mode: 'automatic',
    trigger: 'health',
    from,
    fromStatus: s.status,
    requiresApproval: false,
    allowDataLoss: false,
  } as const
  const idle = { to: null, database: 'none', graceful: true, zeroDataLoss: false } as const

  if (s.status === 'healthy') {
    const troubled = input.topology.regions
      .map((r) => input.assessments[r.id])
      .filter(
        (a): a is RegionAssessment =>
          a !== undefined && a.region !== from && a.status !== 'healthy',
      )
    if (troubled.length === 0)
      return { ...base, ...idle, action: 'none', severity: 'P3', reason: `${from} is healthy` }
    return {
      ...base,
      ...idle,
      action: 'monitor',
      severity: 'P3',
      reason: `${from} is healthy; ${troubled.map((a) => `${a.region} is ${a.status}`).join(', ')}: monitor and fix`,
    }
  }

  const detectors = s.reasons.filter((r) => r.detector !== 'recovery')
  if (
    s.status === 'degraded' &&
    detectors.length > 0 &&
    detectors.every((r) => nonCritical.has(r.detector as DetectorName))
  ) {
    return {
      ...base,
      ...idle,
      action: 'monitor',
      severity: 'P3',
      reason: `${from} is ${describe(s)} (non-critical): monitor and fix`,
    }
  }

  const affected =
    input.databaseAffected ??
    (s.reasons.some((r) => r.detector === 'replicationLag') ||
      (s.status === 'down' && input.topology.databasePrimary === from))
  const database = affected ? 'promote' : 'none'
  // Says what the default plans do (plans.ts): a graceful promotion comes
  // before the traffic moves; an ungraceful one after it (split-brain safety).
  const layer = (graceful: boolean): string =>
    !affected
      ? 'application layer only'
      : graceful
        ? 'promote the replica, then move traffic'
        : 'move traffic off it, then fence the old primary and promote the replica'

  if (s.status === 'down') {
    const { ranked, excluded, rule } = candidates(input, from, 'degraded')
    const to = ranked[0] ?? null
    if (to === null && excluded.length > 0) {
      return {
        ...base,
        ...idle,
        graceful: false,
        action: 'fallback',
        severity: 'P1',
        reason: `${from} is ${describe(s)}; no ${rule.jurisdictions.join('/')} region can take over: ${rule.fallback} mode for pinned users`,
        fallback: rule.fallback,
        ...note(rule, excluded),
      }
    }
    return {
      ...base,
      action: 'failover',
      severity: 'P1',
      to,
      reason: `${from} is ${describe(s)}; automatic failover to ${to ?? '(no eligible region)'}, ${layer(false)}`,
      database,
      graceful: false,
      zeroDataLoss: false,
      ...note(rule, excluded),
    }
  }

  // Degraded: a gradual shift, only to a healthy region.
  const { ranked, excluded, rule } = candidates(input, from, 'healthy')
  const to = ranked[0] ?? null
  if (to === null && excluded.length > 0) {
    return {
      ...base,
      ...idle,
      action: 'monitor',
      severity: 'P2',
      reason: `${from} is ${describe(s)}; no healthy ${rule.jurisdictions.join('/')} region to shift to: keep serving and monitor`,
      ...note(rule, excluded),
    }
  }
  return {
    ...base,
    action: 'shift',
    severity: 'P2',
    to,
    reason: `${from} is ${describe(s)}; gradual traffic shift to ${to ?? '(no healthy region)'}, ${layer(true)}`,
    database,
    graceful: true,
    zeroDataLoss: false,
    ...note(rule, excluded),
  }
}

/**
 * Creates the default policy (the runbooks' rules, see the module
 * documentation):
 *
 * | input | action | severity | mode |
 * |---|---|---|---|
 * | serving `down` | `failover` to the best non-down region (`fallback` if residency excludes every one) | P1 | automatic |
 * | serving `degraded` | `shift` to the best healthy region (`monitor` if residency excludes every one) | P2 | automatic |
 * | serving `degraded`, only non-critical detectors | `monitor` | P3 | automatic |
 * | serving `healthy`, another region not | `monitor` | P3 | automatic |
 * | all healthy | `none` | P3 | automatic |
 * | manual request | `failover` (switchover: graceful, zero data loss unless `allowDataLoss` or `from` is down), approval required | P1 for security isolation, else by status | manual |
 *
 * The database is promoted when affected (see {@link PolicyInput.databaseAffected}).
 *
 * @param options - see {@link DefaultPolicyOptions}.
 * @throws ConfigError for an unknown detector in `nonCritical`; the policy
 *   itself throws ConfigError for a malformed manual request.
 *
 * @example
 * ```ts
 * const policy = createDefaultPolicy()
 * const decision = policy({
 *   serving: health.assessment(effect.region),
 *   assessments: health.assessments(),
 *   topology,
 * })
 * if (decision.action === 'failover' || decision.action === 'shift') evaluateGuards(decision, context)
 * ```
 */
export function createDefaultPolicy(options: DefaultPolicyOptions = {}): Policy {
  const list = options.nonCritical ?? []
  if (!Array.isArray(list)) throw new ConfigError('nonCritical', 'must be an array')
  list.forEach((d, i) => {
    if (!DETECTOR_NAMES.includes(d))
      throw new ConfigError(`nonCritical[${i}]`, `unknown detector "${String(d)}"`)
  })
  const nonCritical: ReadonlySet<DetectorName> = new Set(list)
  return (input) =>
    input.request === undefined ? automatic(input, nonCritical) : manual(input, input.request)
}

/** The default policy with default options. */
export const defaultPolicy: Policy = createDefaultPolicy()
