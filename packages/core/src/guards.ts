/**
 * Guards: checks run after a policy decided to act, each returning its
 * verdict with the values it judged, so a refusal is recorded as "blocked
 * because…" (`failover.blocked`) and an allowed decision carries its
 * evidence (`failover.decided`). Pure: the same decision and context always
 * give the same results.
 *
 * Defaults come from the runbooks: RPO 60 s (HonuaIO's promotion script
 * aborts above 60 s of replica lag; its "Database Failure" RPO is ~60 s);
 * cooldown 15 min (SomaAgent waits 15 min between restoration stages;
 * Aurum's window is 15 min); the target must be healthy (HonuaIO: "Verify DR
 * region health … `curl -f $DR_ENDPOINT/health || exit 1`"); manual kinds
 * need approval.
 *
 * @module
 */
import { ConfigError, CoreError } from './errors.js'
import type { HealthStatus, RegionAssessment } from './health.js'
import { checkResidency, type Decision, type Topology } from './policy.js'
import type { RegionId } from './ports/context.js'
import type { LeaseGrant } from './ports/lease.js'
import type { Capacity } from './ports/scaler.js'
import { formatMs } from './steps/_common.js'

/** The guards, in evaluation order. */
export type GuardName =
  | 'lease'
  | 'cooldown'
  | 'target'
  | 'capacity'
  | 'residency'
  | 'rpo'
  | 'approval'

/** Every guard, in evaluation order. */
export const GUARD_NAMES: readonly GuardName[] = [
  'lease',
  'cooldown',
  'target',
  'capacity',
  'residency',
  'rpo',
  'approval',
]

/** A recordable scalar (JSON-safe). */
export type GuardValue = string | number | boolean | null

/** One guard's verdict. Assignable to the receipts' `GuardRecord` (record `results` as is). */
export type GuardResult = {
  /** Which guard. */
  readonly name: GuardName
  /** It allows the decision (possibly by an override). */
  readonly ok: boolean
  /** What was measured (lease epoch, ms since the last failover, target status, lag…). */
  readonly value: GuardValue
  /** What it was judged against. */
  readonly limit: GuardValue
  /** One line, for people. */
  readonly reason: string
  /** Set when an override let a failing guard pass (`allowDataLoss` past the RPO). */
  readonly overridden?: true
  /** Who overrode it: the request's `requestedBy`, or `policy` when a policy set `allowDataLoss` itself. */
  readonly overriddenBy?: string
}

/** The result of {@link evaluateGuards}. */
export interface GuardEvaluation {
  /** Every guard passed: the decision may run. */
  readonly ok: boolean
  /** Every guard's verdict, in {@link GUARD_NAMES} order. */
  readonly results: readonly GuardResult[]
  /** Names of the guards that failed (the machine's `failover.blocked` `guards`). */
  readonly blockedBy: readonly GuardName[]
  /** Results that passed only by an override (each deserves an `override.used` receipt). */
  readonly overrides: readonly GuardResult[]
}

/** The facts guards judge, gathered by the controller at decision time. */
export interface GuardContext {
  /** Now, on the engine's clock (epoch ms). */
  readonly now: number
  /** The lease grant this instance holds, if any. */
  readonly lease: LeaseGrant | undefined
  /** This instance's id: when given, the lease must be held by it. */
  readonly instance?: string
  /** When the last failover completed (the machine state's `lastFailoverAt`). */
  readonly lastFailoverAt?: number | undefined
  /** Every region's assessment. */
  readonly assessments: Readonly<Record<RegionId, RegionAssessment>>
  /** The topology, for the residency rule. */
  readonly topology: Topology
  /** Readiness per region: its capacity (`Scaler.capacity`) or a plain verdict. */
  readonly readiness?: Readonly<Record<RegionId, Capacity | boolean>>
  /** Measured replication lag per region (`Database.replicationLag`), preferred over the assessments' `lagMs`. */
  readonly lagMs?: Readonly<Record<RegionId, number>>
  /** The approval given for this decision, if any. */
  readonly approval?: { readonly by: string; readonly at: number }
}

/** Options of the guards. */
export interface GuardOptions {
  /** Minimum time between a completed failover and the next automatic one, ms. Default 900,000 (15 min). */
  readonly cooldownMs?: number
  /** Recovery point objective: the most replication lag a promotion may lose, ms. Default 60,000. */
  readonly rpoMs?: number
  /** Accept a `degraded` target (default false: only `healthy`). */
  readonly allowDegradedTarget?: boolean
  /** Block when no readiness value is given for the target (default false: not checked then). */
  readonly requireReadiness?: boolean
  /** Ready instances the target needs, at least. Default 1. */
  readonly minReady?: number
  /** Ready / desired the target needs, at least (0..1). Default 0. */
  readonly minReadyRatio?: number
  /** The approver must not be the requester (four eyes). Default false. */
  readonly distinctApprover?: boolean
}

/** {@link GuardOptions} with every default filled in. */
export type ResolvedGuardOptions = Required<GuardOptions>

/** The defaults (see the module documentation for where each comes from). */
export const DEFAULT_GUARD_OPTIONS: ResolvedGuardOptions = {
  cooldownMs: 15 * 60_000,
  rpoMs: 60_000,
  allowDegradedTarget: false,
  requireReadiness: false,
  minReady: 1,
  minReadyRatio: 0,
  distinctApprover: false,
}

/**
 * Validates guard options and fills in the defaults.
 *
 * @throws ConfigError naming the bad field, e.g. `rpoMs: must not be negative`.
 */
export function resolveGuardOptions(options: GuardOptions = {}): ResolvedGuardOptions {
  const out: Record<string, unknown> = { ...DEFAULT_GUARD_OPTIONS }
  for (const [key, value] of Object.entries(options)) {
    if (!(key in DEFAULT_GUARD_OPTIONS)) throw new ConfigError(key, 'unknown field')
    if (value === undefined) continue
    const d = DEFAULT_GUARD_OPTIONS[key as keyof GuardOptions]
    if (typeof d === 'boolean') {
      if (typeof value !== 'boolean') throw new ConfigError(key, 'must be a boolean')
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ConfigError(key, 'must be a finite number')
    } else if (value < 0) {
      throw new ConfigError(key, 'must not be negative')
    } else if (key === 'minReadyRatio' && value > 1) {
      throw new ConfigError(key, 'must be between 0 and 1')
    }
    out[key] = value
  }
  return out as ResolvedGuardOptions
}

/** A decision that acts (the only kind guards judge). */
export type ActingDecision = Decision & { readonly action: 'failover' | 'shift' | 'fallback' }

/** True for a decision that acts (`failover`, `shift`, `fallback`), i.e. one to run the guards on. */
export function isActing(decision: Decision): decision is ActingDecision {
  return (
    decision.action === 'failover' || decision.action === 'shift' || decision.action === 'fallback'
  )
}

const result = (
  name: GuardName,
  ok: boolean,
  value: GuardValue,
  limit: GuardValue,
  reason: string,
): GuardResult => ({ name, ok, value, limit, reason })

function lease(ctx: GuardContext): GuardResult {
  const g = ctx.lease
  if (g === undefined) return result('lease', false, null, ctx.instance ?? null, 'lease not held')
  if (ctx.instance !== undefined && g.holder !== ctx.instance)
    return result(
      'lease',
      false,
      g.epoch,
      ctx.instance,
      `lease held by ${g.holder}, not ${ctx.instance}`,
    )
  if (g.expiresAt <= ctx.now)
    return result(
      'lease',
      false,
      g.epoch,
      g.expiresAt,
      `lease (epoch ${g.epoch}) expired at ${g.expiresAt}`,
    )
  return result(
    'lease',
    true,
    g.epoch,
    g.expiresAt,
    `held by ${g.holder} (epoch ${g.epoch}) until ${new Date(g.expiresAt).toISOString()}`,
  )
}

function cooldown(d: ActingDecision, ctx: GuardContext, o: ResolvedGuardOptions): GuardResult {
  const last = ctx.lastFailoverAt
  if (last === undefined) return result('cooldown', true, null, o.cooldownMs, 'no failover yet')
  const elapsed = ctx.now - last
  if (elapsed >= o.cooldownMs)
    return result(
      'cooldown',
      true,
      elapsed,
      o.cooldownMs,
      `${formatMs(elapsed)} since the last failover`,
    )
  if (d.mode === 'manual')
    return result(
      'cooldown',
      true,
      elapsed,
      o.cooldownMs,
      'manual decision: the cooldown applies to automatic ones',
    )
  return result(
    'cooldown',
    false,
    elapsed,
    o.cooldownMs,
    `only ${formatMs(elapsed)} since the last failover (cooldown ${formatMs(o.cooldownMs)})`,
  )
}

function target(d: ActingDecision, ctx: GuardContext, o: ResolvedGuardOptions): GuardResult {
  const limit: HealthStatus = o.allowDegradedTarget ? 'degraded' : 'healthy'
  if (d.to === null) {
    const why = d.fallback ? `no eligible region: ${d.fallback} fallback` : 'no eligible region'
    return result('target', false, null, limit, why)
  }
  if (d.to === d.from)
    return result('target', false, d.to, limit, `${d.to} is the region being left`)
  const a = ctx.assessments[d.to]
  if (a === undefined) return result('target', false, null, limit, `${d.to} has no assessment`)
  const ok = a.status === 'healthy' || (a.status === 'degraded' && o.allowDegradedTarget)
  return result('target', ok, a.status, limit, `${d.to} is ${a.status}`)
}

function capacity(d: ActingDecision, ctx: GuardContext, o: ResolvedGuardOptions): GuardResult {
  if (d.to === null) return result('capacity', true, null, null, 'no target region')
  const r = ctx.readiness?.[d.to]
  if (r === undefined)
    return o.requireReadiness
      ? result('capacity', false, null, o.minReady, `no readiness value for ${d.to}`)
      : result('capacity', true, null, null, `readiness of ${d.to} not supplied; not checked`)
  if (typeof r === 'boolean')
    return result('capacity', r, r, true, `${d.to} ${r ? 'is' : 'is not'} ready`)
  const need = Math.max(o.minReady, Math.ceil(o.minReadyRatio * r.desired))
  const ok = r.ready >= need
  return result(
    'capacity',
    ok,
    r.ready,
    need,
    `${d.to}: ${r.ready} of ${r.desired} ready, ${need} needed`,
  )
}

function residency(d: ActingDecision, ctx: GuardContext): GuardResult {
  if (d.to === null) {
    if (d.fallback === undefined) return result('residency', true, null, null, 'no target region')
    const j = d.residency?.jurisdictions.join('/') ?? null
    return result(
      'residency',
      false,
      d.fallback,
      j,
      `no ${j} region can take over: ${d.fallback} mode for pinned users`,
    )
  }
  const c = checkResidency(ctx.topology, d.from, d.to)
  const need = c.rule.jurisdictions.length === 0 ? null : c.rule.jurisdictions.join('/')
  if (need === null) return result('residency', true, c.actual, null, 'no residency constraint')
  return c.ok
    ? result('residency', true, c.actual, need, `${d.to} is in ${need}`)
    : result(
        'residency',
        false,
        c.actual,
        need,
        `users of ${c.rule.pinnedBy.join(', ')} are pinned to ${need}; ${d.to} is ${c.actual ?? 'untagged'}`,
      )
}

function rpo(d: ActingDecision, ctx: GuardContext, o: ResolvedGuardOptions): GuardResult {
  if (d.database === 'none') return result('rpo', true, null, o.rpoMs, 'no database promotion')
  if (d.to === null) return result('rpo', true, null, o.rpoMs, 'no target region')
  const lag = ctx.lagMs?.[d.to] ?? ctx.assessments[d.to]?.lagMs ?? null
  if (lag !== null && lag <= o.rpoMs)
    return result('rpo', true, lag, o.rpoMs, `replication lag of ${d.to} is ${formatMs(lag)}`)
  const why =
    lag === null
      ? `replication lag of ${d.to} unknown`
      : `replication lag of ${d.to} is ${formatMs(lag)}`
  if (d.allowDataLoss) {
    const by = d.requestedBy ?? 'policy'
    return {
      ...result('rpo', true, lag, o.rpoMs, `${why}, beyond the RPO: data loss accepted by ${by}`),
      overridden: true,
      overriddenBy: by,
    }
  }
  return result('rpo', false, lag, o.rpoMs, `${why}, beyond the RPO of ${formatMs(o.rpoMs)}`)
}

function approval(d: ActingDecision, ctx: GuardContext, o: ResolvedGuardOptions): GuardResult {
  const by = ctx.approval?.by ?? null
  if (!d.requiresApproval) return result('approval', true, by, false, 'not required')
  if (by === null || by === '')
    return result('approval', false, null, true, 'approval required, none given')
  if (o.distinctApprover && by === d.requestedBy)
    return result(
      'approval',
      false,
      by,
      true,
      `approved by the requester ${by}; another approver is required`,
    )
  return result('approval', true, by, true, `approved by ${by}`)
}

function run(d: Decision, ctx: GuardContext, o: ResolvedGuardOptions): GuardEvaluation {
  if (!isActing(d))
    throw new CoreError('INVALID_STATE', `guards judge acting decisions only, not "${d.action}"`)
  const results = [
    lease(ctx),
    cooldown(d, ctx, o),
    target(d, ctx, o),
    capacity(d, ctx, o),
    residency(d, ctx),
    rpo(d, ctx, o),
    approval(d, ctx, o),
  ]
  const blockedBy: GuardName[] = []
  const overrides: GuardResult[] = []
  for (const r of results) {
    if (!r.ok) blockedBy.push(r.name)
    else if (r.overridden) overrides.push(r)
  }
  return { ok: blockedBy.length === 0, results, blockedBy, overrides }
}

/**
 * Runs every guard on an acting decision. Pure. Resolves `options` on each
 * call; on a hot path, create the guards once with {@link createGuards}.
 *
 * @param decision - a `failover`, `shift` or `fallback` decision (a
 *   `fallback` is always blocked by `target` and `residency`, recording why).
 * @param context - the facts at decision time.
 * @param options - see {@link GuardOptions}; defaults {@link DEFAULT_GUARD_OPTIONS}.
 * @throws CoreError `INVALID_STATE` for a `monitor` / `none` decision (nothing to
 *   guard; the type already refuses one not narrowed with {@link isActing});
 *   ConfigError for invalid options.
 *
 * @example
 * ```ts
 * const verdict = evaluateGuards(decision, { now, lease: grant, lastFailoverAt: state.lastFailoverAt,
 *   assessments: health.assessments(), topology, approval })
 * const event = verdict.ok
 *   ? { type: 'failover.decided', at: now, operation: id, from: decision.from, to: decision.to!,
 *       severity: decision.severity, mode: decision.mode }
 *   : { type: 'failover.blocked', at: now, guards: verdict.blockedBy }
 * ```
 */
export function evaluateGuards(
  decision: ActingDecision,
  context: GuardContext,
  options?: GuardOptions,
): GuardEvaluation {
  return run(decision, context, resolveGuardOptions(options))
}

/** Guards with options resolved once: `(decision, context) → GuardEvaluation`. */
export type Guards = (decision: ActingDecision, context: GuardContext) => GuardEvaluation

/**
 * Creates the guards with `options` validated once (the hot-path form of
 * {@link evaluateGuards}).
 *
 * @throws ConfigError naming the bad option.
 */
export function createGuards(options?: GuardOptions): Guards {
  const o = resolveGuardOptions(options)
  return (decision, context) => run(decision, context, o)
}
