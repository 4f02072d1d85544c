/**
 * The default plans: from an {@link Operation}, a decision and the ports,
 * the failover plan, the failback plan (see `failback.ts`) and the rollback
 * plan — the runbooks' procedures as DAGs.
 *
 * Failover (steps in brackets only with the port or option that enables them):
 *
 * ```
 * [notify-initiated] ───────────────────────────────────────────────────────────┐
 * preflight ─▶ [approval] ─┬─▶ snapshot* ─▶ fence ─▶ promote ─▶ verify-writes ─┐ │
 *                          └─▶ [scale] ─────────────────────────────────────────┴─▶ shift-traffic
 *   ─▶ [verify-endpoint] ─▶ [notify-completed]                 (* graceful only)
 * ```
 *
 * An ungraceful failover that promotes moves traffic before promoting:
 *
 * ```
 * preflight ─▶ [approval] ─┬─▶ fence ───┬─▶ shift-traffic ─▶ [verify-endpoint]
 *                          └─▶ [scale] ─┘   ─▶ promote ─▶ verify-writes ─▶ [notify-completed]
 * ```
 *
 * Its old primary usually cannot be fenced (it is down, or unreachable from
 * here), so it must receive no more traffic before another region's replica
 * becomes the primary (else a region that comes back, or was only
 * unreachable from this instance, takes writes under the old primary: split
 * brain). The fencing attempt itself runs beside the scale-up.
 *
 * The database chain (snapshot → fence → promote → verify-writes) exists
 * only with `database: 'promote'`. Rollback: [notify-initiated] →
 * shift-traffic (back) → [verify-endpoint] → [scale-back] → [notify-completed].
 *
 * Notifications: the machine also emits `notify` effects for initiated /
 * completed / failed. A controller that passes a `notifier` here should not
 * send those too (or pass none here and send them itself).
 *
 * @module
 */
import { ConfigError } from './errors.js'
import type { PlanResult } from './executor.js'
import { createFailbackPlan, type FailbackPlanOptions } from './failback.js'
import type { Operation } from './machine.js'
import {
  type AnyStepSpec,
  createPlan,
  type Plan,
  type PlanMode,
  type StepData,
  StepError,
} from './plan.js'
import type { CallContext } from './ports/context.js'
import type { Database } from './ports/database.js'
import type { Notifier } from './ports/notifier.js'
import type { Probe } from './ports/probe.js'
import type { Scaler } from './ports/scaler.js'
import type { TrafficRouter, Weights } from './ports/traffic-router.js'
import { bestEffort } from './steps/_common.js'
import { type FenceResult, fenceStep } from './steps/fence.js'
import { type NotifyResult, notifyStep } from './steps/notify.js'
import { type PreflightResult, preflightStep } from './steps/preflight.js'
import { type PromoteResult, promoteStep } from './steps/promote.js'
import { type DesiredCapacityInput, type ScaleResult, scaleStep } from './steps/scale.js'
import { allTrafficTo, type ShiftTrafficResult, shiftTrafficStep } from './steps/shift-traffic.js'
import { type SnapshotResult, snapshotStep } from './steps/snapshot.js'
import { type VerifyEndpointResult, verifyEndpointStep } from './steps/verify-endpoint.js'
import { type VerifyWritesResult, verifyWritesStep } from './steps/verify-writes.js'
import {
  type ApprovalResult,
  type Approvals,
  waitForApprovalStep,
} from './steps/wait-for-approval.js'

/** What the default plans need to know about the decision. */
export interface PlanDecision {
  /** Graceful (switchover: snapshot, wait for lag 0) or ungraceful (the source is down). */
  readonly graceful: boolean
  /** Promote the replica in the target before moving traffic, or move the application layer only. */
  readonly database: 'promote' | 'none'
  /** Proceed when the lag is above the limit (audited in the preflight result). */
  readonly allowDataLoss?: boolean
  /** Wait for an operator's approval after preflight (needs `approvals`). */
  readonly requireApproval?: boolean
}

/** The ports the default plans use. */
export interface PlanPorts {
  /** Probes of the regions (the one for each region is picked by `region`). */
  readonly probes: Probe | readonly Probe[]
  /** A probe of the global endpoint reporting `servedBy`: adds `verify-endpoint`. */
  readonly globalProbe?: Probe
  readonly router: TrafficRouter
  /** Needed when the decision promotes. */
  readonly database?: Database
  /** Adds `scale` (failover), the preflight capacity check and `scale-back` (rollback). */
  readonly scaler?: Scaler
  /** Adds notify steps. */
  readonly notifier?: Notifier
  /** Needed when the decision requires approval. */
  readonly approvals?: Approvals
}

/** Tuning of the failover plan. */
export interface FailoverPlanOptions {
  /** Replication lag limit of the preflight, in ms. Default 60 000. */
  readonly maxLagMs?: number
  /** Ready instances the target needs at preflight. Default 1. */
  readonly minReady?: number
  /**
   * Desired capacity of the target. Default: the source's desired capacity
   * when it can be read within 10 s, else the target's current one.
   */
  readonly scaleTo?: number | ((input: DesiredCapacityInput) => number | Promise<number>)
  /** `verify-endpoint` tuning. */
  readonly verifyEndpoint?: {
    readonly times?: number
    readonly intervalMs?: number
    readonly maxChecks?: number
  }
  /** Steps run at once at most. */
  readonly concurrency?: number
}

/** Results of a failover plan by step id. */
export interface FailoverPlanResults {
  readonly 'notify-initiated'?: NotifyResult
  readonly preflight?: PreflightResult
  readonly approval?: ApprovalResult
  readonly snapshot?: SnapshotResult
  readonly fence?: FenceResult
  readonly promote?: PromoteResult
  readonly 'verify-writes'?: VerifyWritesResult
  readonly scale?: ScaleResult
  readonly 'shift-traffic'?: ShiftTrafficResult
  readonly 'verify-endpoint'?: VerifyEndpointResult
  readonly 'notify-completed'?: NotifyResult
}

/** Results of a rollback plan by step id. */
export interface RollbackPlanResults {
  readonly 'notify-initiated'?: NotifyResult
  readonly 'shift-traffic'?: ShiftTrafficResult
  readonly 'verify-endpoint'?: VerifyEndpointResult
  readonly 'scale-back'?: ScaleResult
  readonly 'notify-completed'?: NotifyResult
}

/** The mode of a decision. */
export function planModeOf(decision: Pick<PlanDecision, 'graceful'>): PlanMode {
  return decision.graceful ? 'graceful' : 'ungraceful'
}

/** The default desired capacity of the target: the source's, if readable within 10 s. */
async function mirrorSource(scaler: Scaler, input: DesiredCapacityInput): Promise<number> {
  const source = await bestEffort(input.clock, 10_000, input.call, (c) =>
    scaler.capacity(input.operation.from, c),
  )
  return source.ok ? Math.max(source.value.desired, input.current.desired) : input.current.desired
}

/**
 * True when a failover run attempted an ungraceful promotion (it may have
 * happened even if the step then failed) without fencing the old primary,
 * which may then still accept writes: traffic must not go back to it unless
 * the database says it still holds the primary.
 */
function mayHavePromotedUnfenced(result: PlanResult<unknown> | undefined): boolean {
  if (result?.operation?.kind !== 'failover' || result.mode !== 'ungraceful') return false
  const promote = result.steps?.find((s) => s.id === 'promote')
  if (promote === undefined || promote.attempts === 0) return false
  return (result.results as StepData).fence === undefined
    ? true
    : ((result.results as StepData).fence as FenceResult).fenced !== true
}

/** Whether traffic may go back to `old`: its primary was fenced, or it still holds the primary. */
async function mayReturnTo(
  database: Database | undefined,
  old: string,
  fenced: boolean,
  call: CallContext,
): Promise<boolean> {
  if (fenced) return true
  if (database === undefined) return false
  try {
    return (await database.primaryRegion(call)) === old
  } catch {
    return false
  }
}

function keepTraffic(promoted: string, old: string): StepError {
  return new StepError(
    `traffic stays on ${promoted}: the replica there may have been promoted while the old primary in ${old} was not fenced; sending traffic back would split the brain (fence or rebuild ${old} first)`,
    { retryable: false, details: { promoted, unfenced: old } },
  )
}

/** The failover plan for `operation` (see the module's graph). */
export function createFailoverPlan(
  operation: Operation,
  decision: PlanDecision,
  ports: PlanPorts,
  options: FailoverPlanOptions = {},
): Plan<FailoverPlanResults> {
  const { from, to } = operation
  const steps: AnyStepSpec[] = []
  const add = (s: AnyStepSpec): string => {
    steps.push(s)
    return s.id
  }
  if (decision.database === 'promote' && ports.database === undefined) {
    throw new ConfigError('ports.database', 'is required when the decision promotes the database')
  }
  if (decision.requireApproval === true && ports.approvals === undefined) {
    throw new ConfigError('ports.approvals', 'is required when the decision requires approval')
  }
  const initiated =
    ports.notifier === undefined
      ? undefined
      : add(notifyStep({ id: 'notify-initiated', notifier: ports.notifier, kind: 'initiated' }))

  let gate = add(
    preflightStep({
      id: 'preflight',
      title: `Preflight: ${to} healthy, ready${decision.database === 'promote' ? ', replication lag within the limit' : ''}`,
      probes: ports.probes,
      ...(ports.scaler === undefined ? {} : { scaler: ports.scaler }),
      ...(options.minReady === undefined ? {} : { minReady: options.minReady }),
      ...(decision.database === 'promote' ? { database: ports.database! } : {}),
      ...(options.maxLagMs === undefined ? {} : { maxLagMs: options.maxLagMs }),
      allowDataLoss: decision.allowDataLoss === true,
    }),
  )
  if (decision.requireApproval === true) {
    gate = add(
      waitForApprovalStep({
        id: 'approval',
        title: `Wait for approval of the ${operation.kind} ${from} → ${to}`,
        approvals: ports.approvals!,
        dependsOn: [gate],
        ...(ports.notifier === undefined ? {} : { notifier: ports.notifier }),
      }),
    )
  }

  /** snapshot* → fence, after `after`; returns the fence step. */
  const fenceChain = (after: readonly string[]): string => {
    const database = ports.database!
    const snapshot = add(
      snapshotStep({
        id: 'snapshot',
        title: `Final snapshot of the primary in ${from}`,
        database,
        probes: ports.probes,
        dependsOn: after,
        when: 'graceful',
      }),
    )
    return add(
      fenceStep({
        id: 'fence',
        title: `Fence the old primary in ${from}`,
        database,
        dependsOn: [snapshot],
      }),
    )
  }
  /** promote → verify-writes, after `after`; returns the last step. */
  const promoteChain = (after: readonly string[]): string => {
    const database = ports.database!
    const promote = add(
      promoteStep({
        id: 'promote',
        title: `Promote the replica in ${to}`,
        database,
        dependsOn: after,
      }),
    )
    return add(
      verifyWritesStep({
        id: 'verify-writes',
        title: `Verify ${to} accepts writes`,
        database,
        dependsOn: [promote],
      }),
    )
  }
  const verifyEndpoint = (after: string): string =>
    ports.globalProbe === undefined
      ? after
      : add(
          verifyEndpointStep({
            id: 'verify-endpoint',
            title: `Verify the global endpoint reports ${to}`,
            probe: ports.globalProbe,
            dependsOn: [after],
            ...options.verifyEndpoint,
          }),
        )
  // An ungraceful promotion leaves the old primary writable (it could not be
  // fenced: it is down, or only unreachable from here). So traffic leaves it
  // first, and the replica is promoted only once the endpoint routes to the
  // target: an old primary that comes back (a flapping region, a partition,
  // slow DNS) then receives no writes under another primary (split brain).
  const trafficFirst = decision.database === 'promote' && !decision.graceful

  const beforeTraffic: string[] = []
  // Fencing (and a graceful final snapshot) never waits for capacity: it runs
  // beside the scale-up. Graceful: the replica is promoted before traffic
  // moves; ungraceful: after (see above).
  if (decision.database === 'promote') {
    const fenced = fenceChain([gate])
    beforeTraffic.push(trafficFirst ? fenced : promoteChain([fenced]))
  }
  if (ports.scaler !== undefined) {
    const scaler = ports.scaler
    beforeTraffic.push(
      add(
        scaleStep({
          id: 'scale',
          title: `Scale ${to} up`,
          scaler,
          desired: options.scaleTo ?? ((input) => mirrorSource(scaler, input)),
          dependsOn: [gate],
        }),
      ),
    )
  }
  const shift = shiftTrafficStep({
    id: 'shift-traffic',
    title: `Shift all traffic from ${from} to ${to}`,
    router: ports.router,
    dependsOn: beforeTraffic.length > 0 ? beforeTraffic : [gate],
  })
  const shifted = add(
    trafficFirst
      ? {
          ...shift,
          // Once the replica is promoted, traffic must not go back to an old
          // primary that was never fenced: a later step's failure leaves it here.
          async compensate(ctx, result) {
            const fenced = (ctx.data.fence as FenceResult | undefined)?.fenced === true
            if (!(await mayReturnTo(ports.database, from, fenced, ctx.call))) {
              throw keepTraffic(to, from)
            }
            await shift.compensate!.call(shift, ctx, result)
          },
        }
      : shift,
  )
  let last = verifyEndpoint(shifted)
  if (trafficFirst) last = promoteChain([last])
  if (ports.notifier !== undefined) {
    add(
      notifyStep({
        id: 'notify-completed',
        notifier: ports.notifier,
        kind: 'completed',
        dependsOn: [last, ...(initiated === undefined ? [] : [initiated])],
      }),
    )
  }
  return createPlan<FailoverPlanResults>({
    id: 'failover',
    title: `${decision.graceful ? 'Graceful' : 'Ungraceful'} failover ${from} → ${to}`,
    steps,
    mode: planModeOf(decision),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  })
}

/** Tuning of the rollback plan. */
export interface RollbackPlanOptions {
  /** The failed plan's result: its `shift-traffic.previous` and `scale.previousDesired` are restored. */
  readonly previous?: PlanResult<unknown>
  /** Weights to restore. Default: the failed plan's previous weights, else all to the operation's `to`. */
  readonly weights?: Weights
  /** Desired capacity to scale the operation's `from` back to. Default: the failed plan's previous. */
  readonly scaleBackTo?: number
}

/**
 * The rollback plan for `operation` (a `rollback` operation: `from` is
 * where traffic went, `to` where it returns). A promoted database is not
 * demoted: the `Database` port cannot, and operators decide that. When the
 * failed run may have promoted ungracefully without fencing the old primary
 * in `to` ({@link mayHavePromotedUnfenced}), a first step checks (with
 * `ports.database`) that `to` still holds the primary, and fails otherwise:
 * traffic stays where it is and the machine halts for an operator.
 */
export function createRollbackPlan(
  operation: Operation,
  ports: Omit<PlanPorts, 'approvals'>,
  options: RollbackPlanOptions = {},
): Plan<RollbackPlanResults> {
  const { from, to } = operation
  const previous = options.previous?.results as StepData | undefined
  const shifted = previous?.['shift-traffic'] as ShiftTrafficResult | undefined
  const scaled = previous?.scale as ScaleResult | undefined
  const weights = options.weights ?? shifted?.previous ?? allTrafficTo(operation)
  const scaleBackTo =
    options.scaleBackTo ??
    (scaled !== undefined && scaled.region === from ? scaled.previousDesired : undefined)
  const steps: AnyStepSpec[] = []
  const add = (s: AnyStepSpec): string => {
    steps.push(s)
    return s.id
  }
  const initiated =
    ports.notifier === undefined
      ? undefined
      : add(notifyStep({ id: 'notify-initiated', notifier: ports.notifier, kind: 'initiated' }))
  const hold = mayHavePromotedUnfenced(options.previous)
  if (hold) {
    // The failed failover may have promoted the replica in `from` without fencing the
    // old primary in `to`: traffic goes back only if `to` still holds the primary
    // (otherwise the rollback fails and the machine halts, traffic staying put).
    add({
      id: 'check-old-primary',
      title: `Check ${to} still holds the database primary before traffic returns`,
      async run(ctx) {
        if (!(await mayReturnTo(ports.database, to, false, ctx.call))) throw keepTraffic(from, to)
        return { region: to, primary: true }
      },
      describe: () => [
        `check ${to} still holds the primary (its old primary was not fenced); else keep traffic on ${from}`,
      ],
    })
  }
  let last = add(
    shiftTrafficStep({
      id: 'shift-traffic',
      title: `Shift traffic back from ${from} to ${to}`,
      router: ports.router,
      weights,
      ...(hold ? { dependsOn: ['check-old-primary'] } : {}),
    }),
  )
  if (ports.globalProbe !== undefined) {
    last = add(
      verifyEndpointStep({
        id: 'verify-endpoint',
        title: `Verify the global endpoint reports ${to}`,
        probe: ports.globalProbe,
        dependsOn: [last],
      }),
    )
  }
  if (ports.scaler !== undefined && scaleBackTo !== undefined) {
    last = add(
      scaleStep({
        id: 'scale-back',
        title: `Scale ${from} back to ${scaleBackTo}`,
        scaler: ports.scaler,
        region: 'from',
        desired: scaleBackTo,
        waitForReady: 0,
        dependsOn: [last],
      }),
    )
  }
  if (ports.notifier !== undefined) {
    add(
      notifyStep({
        id: 'notify-completed',
        notifier: ports.notifier,
        kind: 'completed',
        dependsOn: [last, ...(initiated === undefined ? [] : [initiated])],
      }),
    )
  }
  return createPlan<RollbackPlanResults>({
    id: 'rollback',
    title: `Roll back ${from} → ${to}`,
    steps,
    mode: 'graceful',
  })
}

/** Input of {@link createOperationPlan}. */
export interface OperationPlanInput {
  readonly decision: PlanDecision
  readonly ports: PlanPorts
  readonly failover?: FailoverPlanOptions
  readonly failback?: Omit<FailbackPlanOptions, 'router' | 'probes' | 'operation'>
  readonly rollback?: RollbackPlanOptions
}

/**
 * The default plan for a machine `run-plan` effect's operation: failover,
 * failback or rollback by `operation.kind`.
 */
export function createOperationPlan(
  operation: Operation,
  input: OperationPlanInput,
): Plan<StepData> {
  const { ports } = input
  switch (operation.kind) {
    case 'failover':
      return createFailoverPlan(operation, input.decision, ports, input.failover) as Plan<StepData>
    case 'failback':
      return createFailbackPlan({
        router: ports.router,
        probes: ports.probes,
        operation,
        ...(ports.scaler === undefined ? {} : { scaler: ports.scaler }),
        ...(ports.database === undefined ? {} : { database: ports.database }),
        ...(ports.notifier === undefined ? {} : { notifier: ports.notifier }),
        ...(ports.globalProbe === undefined ? {} : { globalProbe: ports.globalProbe }),
        ...input.failback,
      }) as Plan<StepData>
    case 'rollback':
      return createRollbackPlan(operation, ports, input.rollback) as Plan<StepData>
  }
}

/**
 * The data loss of a failover run, in ms, as well as it can be told: what
 * the database reported lost, else the lag at promotion, else the lag at
 * preflight; 0 for a graceful promotion; `null` when unknown. Feeds the
 * RPO of `failover.completed`.
 */
export function failoverDataLossMs(result: PlanResult<FailoverPlanResults>): number | null {
  const promote = result.results.promote
  if (promote !== undefined) {
    if (promote.lost?.ms !== undefined) return promote.lost.ms
    if (promote.graceful) return 0
    if (promote.lagMsAtPromotion !== null) return promote.lagMsAtPromotion
  }
  return result.results.preflight?.lag?.lagMs ?? null
}
