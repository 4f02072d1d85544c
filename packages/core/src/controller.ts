/**
 * The controller: what a service embeds to fail itself over.
 *
 * It holds the lease (only the holder acts), probes every region on the
 * clock, feeds health changes to the pure machine, answers its `decide`
 * effects with the policy and guards, runs the plans its `run-plan` effects
 * ask for, and writes a receipt for every transition, decision, blocked
 * decision, step, approval and override, with the fencing epoch on each.
 *
 * When it acquires the lease it replays the ledger to learn where the run
 * is: a new holder continues the same machine. An operation the previous
 * holder left in flight is halted and resumed from where traffic really is.
 * So is a run the ledger cannot replay (a ledger restored at an anchor in
 * the middle of a run, a ledger with receipts the machine does not allow):
 * its recorded state is not trusted, the halt says why.
 *
 * @module
 */
import type { Ledger } from '@baton/ledger'
import { createLeaseHolder, type LeaseHolder } from './_controller-lease.js'
import { type Clock, createSystemClock } from './clock.js'
import { ConfigError, CoreError } from './errors.js'
import { createEventBus, type EngineEvent, type EngineEvents } from './events.js'
import {
  createExecutor,
  type DryRunReport,
  type PlanResult,
  type PlanRun,
  planEventToEngineEvent,
  planEventToReceipt,
} from './executor.js'
import { failbackStages } from './failback.js'
import { createGuards, type GuardOptions, type Guards, isActing } from './guards.js'
import {
  createHealthMonitor,
  type HealthChange,
  type HealthMonitorConfig,
  toMachineEvent,
} from './health.js'
import {
  type Effect,
  initialState,
  type MachineEvent,
  type MachineState,
  type Operation,
  transition,
} from './machine.js'
import type { Plan, StepData } from './plan.js'
import {
  createOperationPlan,
  type FailoverPlanOptions,
  failoverDataLossMs,
  type PlanDecision,
  type PlanPorts,
} from './plans.js'
import {
  type Decision,
  defaultPolicy,
  defineTopology,
  type ManualRequest,
  type Policy,
  type Topology,
} from './policy.js'
import type { CallContext, RegionId } from './ports/context.js'
import type { Database } from './ports/database.js'
import type { Lease, LeaseGrant } from './ports/lease.js'
import type { Notifier } from './ports/notifier.js'
import type { Probe, ProbeSample } from './ports/probe.js'
import type { Capacity, Scaler } from './ports/scaler.js'
import type { TrafficRouter, Weights } from './ports/traffic-router.js'
import type { EngineReceiptInput, Measured } from './receipts.js'
import { replay } from './replay.js'
import type { GateConfig } from './steps/gated-stage.js'

/** The ports a controller drives. */
export interface ControllerPorts {
  /** Health checks: at least one per region of the topology. */
  readonly probes: readonly Probe[]
  /** A check of the global endpoint (samples carry `servedBy`): the plans verify traffic really moved. */
  readonly globalProbe?: Probe
  readonly router: TrafficRouter
  readonly database?: Database
  readonly scaler?: Scaler
  readonly notifier?: Notifier
  /** Who may act. Several instances share one lease; only the holder acts. */
  readonly lease: Lease
}

/** A pino-compatible logger (any object with these methods). */
export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  debug?(obj: object, msg?: string): void
}

/** The parts of an OpenTelemetry `Tracer` the controller uses (no dependency on the API package). */
export interface TracerLike {
  startSpan(
    name: string,
    options?: { attributes?: Record<string, string | number | boolean> },
  ): {
    setAttribute(key: string, value: string | number | boolean): unknown
    setStatus(status: { code: number; message?: string }): unknown
    end(): void
  }
}

/** Recovery objectives the controller measures completed failovers against. */
export interface RecoveryTargets {
  /** Recovery time objective, ms. Default 900,000 (15 min, runbook 003). */
  readonly rtoMs: number
  /** Recovery point objective, ms. Default 300,000 (5 min, runbook 003). */
  readonly rpoMs: number
}

/** What a {@link ControllerOptions.plan} hook gets for each operation it plans. */
export interface PlanHookInput {
  /** The operation (failover, failback or rollback; `dry-run` for {@link Controller.dryRun}). */
  readonly operation: Operation
  /** What the decision asked of the plan (graceful, promote or not, data loss allowed). */
  readonly decision: PlanDecision
  /** The built-in plan for the operation: extend it with `extendPlan`, or ignore it. */
  readonly builtin: Plan<StepData>
  /** The controller's ports (the notifier included, for templated notification steps). */
  readonly ports: PlanPorts
}

/** Options of {@link createController}. */
export interface ControllerOptions {
  /** This instance's id (unique among the instances sharing the lease). */
  readonly instance: string
  /** The regions (validated with `defineTopology`). */
  readonly topology: Topology
  readonly ports: ControllerPorts
  /** Where receipts go. Several instances may share it (create-only appends). */
  readonly ledger: Ledger
  /** Time; default the system clock (a virtual clock in drills). */
  readonly clock?: Clock
  /** Decision policy; default {@link defaultPolicy}. */
  readonly policy?: Policy
  /** Detection thresholds per region. */
  readonly health?: HealthMonitorConfig
  /** Guard options (cooldown, RPO limit, readiness). */
  readonly guards?: GuardOptions
  /** RTO and RPO targets, for `failover.completed`. */
  readonly targets?: Partial<RecoveryTargets>
  /** Time between probe rounds, ms. Default 30,000 (runbook 001: 3 failures × 30 s). */
  readonly probeIntervalMs?: number
  /** Lease time-to-live and renewal interval, ms. Defaults 30,000 and 10,000. */
  readonly lease?: { readonly ttlMs?: number; readonly renewEveryMs?: number }
  /** Tuning of the failover plan. */
  readonly failover?: FailoverPlanOptions
  /**
   * The plan each operation runs, from the built-in one: a team adds its own
   * steps (an end-to-end check, templated notifications) with `extendPlan`.
   * Called for every failover, failback, rollback and dry run. Default: the
   * built-in plan.
   */
  readonly plan?: (input: PlanHookInput) => Plan<StepData>
  /** Failback: automatic once home is healthy (default false: `requestFailback`), stages, gate. */
  readonly failback?: {
    readonly automatic?: boolean
    readonly stages?: readonly number[]
    readonly gate?: {
      readonly windowMs?: number
      readonly intervalMs?: number
      readonly maxErrorRate?: number
      readonly maxLatencyMs?: number
    }
  }
  /** Time limit for readiness and lag reads when deciding, ms. Default 5,000. */
  readonly decideTimeoutMs?: number
  readonly logger?: Logger
  readonly tracer?: TracerLike
}

/** What {@link Controller.requestFailover} did. */
export interface RequestResult {
  /** The request's id (approve it with this when it awaits approval). */
  readonly id: string
  /** `decided`: the failover started; `blocked`: guards refused (see `blockedBy`); `awaiting-approval`. */
  readonly status: 'decided' | 'blocked' | 'awaiting-approval'
  readonly decision: Decision
  readonly blockedBy: readonly string[]
}

/** The embedded failover engine of one service instance. */
export interface Controller extends EngineEvents {
  readonly instance: string
  /** The machine state as this instance knows it. */
  readonly state: MachineState
  /** The lease held now, if any. */
  readonly lease: LeaseGrant | undefined
  /** Starts the lease and probe loops (on the clock). */
  start(): Promise<void>
  /** Stops the loops, waits for the work in progress, releases the lease. */
  stop(): Promise<void>
  /** One lease round and one probe round, now (tests and drills step with this). */
  tick(): Promise<void>
  /** Resolves when no event is being processed and no plan is running. */
  idle(): Promise<void>
  /** A person asks to move traffic off the serving region (planned maintenance, isolation…). */
  requestFailover(request: ManualRequest): Promise<RequestResult>
  /** Approves a request awaiting approval; it is decided again with the approval. */
  approve(requestId: string, by: string): Promise<RequestResult>
  /** Denies a request awaiting approval. */
  deny(requestId: string, by: string, reason?: string): Promise<void>
  /** Starts the failback to home (state `failed-over`, home healthy). */
  requestFailback(by: string): Promise<void>
  /** Stops everything (the plan is cancelled safely) until {@link resume}. */
  halt(reason: string): Promise<void>
  /** Leaves `halted`, reading where traffic really is. */
  resume(): Promise<void>
  /** Pauses / resumes / cancels the plan in flight (between steps). */
  pausePlan(): void
  resumePlan(): void
  cancelPlan(reason: string): void
  /** What the plan for a failover to `to` would do now, without doing it. */
  dryRun(to: RegionId): Promise<DryRunReport>
}

/** The controller's defaults, shared with drill scenarios (which run controllers). */
export const CONTROLLER_DEFAULTS = {
  targets: { rtoMs: 15 * 60_000, rpoMs: 5 * 60_000 } as RecoveryTargets,
  probeIntervalMs: 30_000,
  lease: { ttlMs: 30_000, renewEveryMs: 10_000 },
} as const

function withTimeout<T>(
  clock: Clock,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  const controller = new AbortController()
  return Promise.race([
    work(controller.signal).catch(() => undefined),
    clock.sleep(ms, controller.signal).then(
      () => undefined,
      () => undefined,
    ),
  ]).finally(() => controller.abort())
}

/**
 * The controller's failback gate options in the gated stage's terms: its
 * `intervalMs` is the stage's `sampleIntervalMs` (passed as is, it was
 * silently ignored and the gate sampled every 30 s).
 */
function gateOptions(
  gate: NonNullable<NonNullable<ControllerOptions['failback']>['gate']>,
): Partial<GateConfig> {
  const { intervalMs, ...rest } = gate
  return intervalMs === undefined ? rest : { ...rest, sampleIntervalMs: intervalMs }
}

interface Pending {
  readonly request: ManualRequest
  readonly at: number
}

/**
 * Creates a controller. Nothing happens until {@link Controller.start} (or
 * {@link Controller.tick}).
 *
 * @throws {@link ConfigError} naming the bad option.
 */
export function createController(options: ControllerOptions): Controller {
  const topology = defineTopology(options.topology)
  const { instance, ports, ledger } = options
  if (typeof instance !== 'string' || instance === '')
    throw new ConfigError('instance', 'must be a non-empty string')
  const regions = topology.regions.map((r) => r.id)
  for (const r of regions) {
    if (!ports.probes.some((p) => p.region === r))
      throw new ConfigError('ports.probes', `no probe for region ${r}`)
  }
  const clock = options.clock ?? createSystemClock()
  const policy = options.policy ?? defaultPolicy
  const guards: Guards = createGuards(options.guards)
  const targets: RecoveryTargets = { ...CONTROLLER_DEFAULTS.targets, ...options.targets }
  const probeEveryMs = options.probeIntervalMs ?? CONTROLLER_DEFAULTS.probeIntervalMs
  const ttlMs = options.lease?.ttlMs ?? CONTROLLER_DEFAULTS.lease.ttlMs
  const renewEveryMs = options.lease?.renewEveryMs ?? CONTROLLER_DEFAULTS.lease.renewEveryMs
  const decideTimeoutMs = options.decideTimeoutMs ?? 5_000
  for (const [path, v] of [
    ['probeIntervalMs', probeEveryMs],
    ['lease.ttlMs', ttlMs],
    ['lease.renewEveryMs', renewEveryMs],
    ['decideTimeoutMs', decideTimeoutMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0)
      throw new ConfigError(path, `must be a positive number, got ${v}`)
  }
  if (options.plan !== undefined && typeof options.plan !== 'function')
    throw new ConfigError('plan', 'must be a function')
  if (renewEveryMs >= ttlMs)
    throw new ConfigError('lease.renewEveryMs', 'must be shorter than lease.ttlMs')

  const bus = createEventBus()
  const health = createHealthMonitor({ ...options.health, regions })
  const log = options.logger
  const planPorts: PlanPorts = {
    probes: ports.probes,
    router: ports.router,
    ...(ports.globalProbe === undefined ? {} : { globalProbe: ports.globalProbe }),
    ...(ports.database === undefined ? {} : { database: ports.database }),
    ...(ports.scaler === undefined ? {} : { scaler: ports.scaler }),
  }

  const hookPorts: PlanPorts =
    ports.notifier === undefined ? planPorts : { ...planPorts, notifier: ports.notifier }

  /** The built-in plan for `operation`, through the `plan` hook when there is one. */
  const customize = (
    operation: Operation,
    input: Parameters<typeof createOperationPlan>[1],
  ): Plan<StepData> => {
    const builtin = createOperationPlan(operation, input)
    if (options.plan === undefined) return builtin
    return options.plan({ operation, decision: input.decision, builtin, ports: hookPorts })
  }

  let state: MachineState = initialState(topology.home)
  let running = false
  let stopped = false
  let plan: { readonly run: PlanRun<StepData>; readonly operation: Operation } | undefined
  let planDone: Promise<void> = Promise.resolve()
  let decision: Decision | undefined
  let decidedAt = 0
  let lastFailedRun: PlanResult<StepData> | undefined
  let incidentStart: number | undefined
  let opCounter = 0
  const pending = new Map<string, Pending>()
  const approvals = new Map<string, { by: string; at: number }>()

  const epoch = (): number => holder.grant?.epoch ?? 0
  const ctx = (): CallContext => ({ epoch: epoch() })
  const emit = (event: EngineEvent): void => bus.emit(event)
  const now = (): number => clock.now()

  /** Appends a receipt, only while this instance holds the lease. */
  const record = async (input: EngineReceiptInput): Promise<void> => {
    if (holder.grant === undefined) return
    try {
      await ledger.append(input as never)
    } catch (error) {
      emit({ type: 'error', at: now(), error, context: `receipt ${input.type}` })
      log?.error({ err: error, receipt: input.type }, 'baton: could not write a receipt')
    }
  }

  const executor = createExecutor({
    clock,
    lease: { isHeld: (e) => holder.grant !== undefined && holder.grant.epoch === e },
    hooks: {
      onEvent: async (event) => {
        const receipt = planEventToReceipt(event)
        if (receipt !== undefined) await record(receipt)
        const engineEvent = planEventToEngineEvent(event)
        if (engineEvent !== undefined) emit(engineEvent)
      },
    },
    ...(log === undefined ? {} : { logger: log as never }),
  })

  /**
   * Events and manual work are handled one at a time, in order, by a single
   * drain loop. Code running inside the loop (effects, decisions) only
   * enqueues; code outside it dispatches and can await the drain.
   */
  const inbox: (MachineEvent | (() => Promise<void>))[] = []
  let draining: Promise<void> | undefined

  const drain = async (): Promise<void> => {
    while (inbox.length > 0) {
      const item = inbox.shift()!
      try {
        if (typeof item === 'function') await item()
        else await handle(item)
      } catch (error) {
        emit({
          type: 'error',
          at: now(),
          error,
          context: typeof item === 'function' ? 'work' : `event ${item.type}`,
        })
      }
    }
  }

  /** From inside the loop: handled after the current item. */
  const enqueue = (item: MachineEvent | (() => Promise<void>)): void => {
    inbox.push(item)
  }

  /** From outside the loop: resolves once the inbox (with this item) is drained. */
  const dispatch = (item: MachineEvent | (() => Promise<void>)): Promise<void> => {
    inbox.push(item)
    if (draining === undefined) {
      draining = drain().finally(() => {
        draining = undefined
      })
    }
    return draining
  }

  const handle = async (event: MachineEvent): Promise<void> => {
    if (holder.grant === undefined && event.type !== 'lease.lost') return
    const before = state
    const [next, effects] = transition(state, event)
    state = next
    if (next.name !== before.name) {
      await record({
        type: 'state.changed',
        data: { from: before.name, to: next.name, event, epoch: epoch() },
      })
      emit({
        type: 'state.changed',
        at: now(),
        from: before.name,
        to: next.name,
        event,
        epoch: epoch(),
      })
      log?.info({ from: before.name, to: next.name, event: event.type }, 'baton: state changed')
    }
    for (const effect of effects) await perform(effect)
  }

  const perform = async (effect: Effect): Promise<void> => {
    switch (effect.type) {
      case 'decide':
        await decide(effect.region, undefined)
        return
      case 'run-plan':
        startPlan(effect.operation)
        return
      case 'cancel-plan':
        if (plan?.operation.id === effect.operation) {
          if (effect.reason === 'lease lost') plan.run.leaseLost(effect.reason)
          else plan.run.cancel(effect.reason)
        }
        return
      case 'notify': {
        if (ports.notifier === undefined) return
        const severity = decision?.severity ?? 'P1'
        try {
          await ports.notifier.notify(
            {
              kind: effect.kind,
              severity,
              title: `baton ${instance}: ${effect.detail}`,
              body: effect.detail,
              ...(effect.operation === undefined
                ? {}
                : {
                    fields: {
                      operation: effect.operation.id,
                      from: effect.operation.from,
                      to: effect.operation.to,
                    },
                  }),
            },
            ctx(),
          )
        } catch (error) {
          emit({ type: 'error', at: now(), error, context: 'notify' })
        }
        return
      }
      case 'consider-failback':
        if (options.failback?.automatic === true) {
          enqueue({ type: 'failback.decided', at: now(), operation: nextOperationId('failback') })
        }
        return
      case 'resync':
        return
    }
  }

  const nextOperationId = (kind: string): string => `${instance}:${kind}:${epoch()}:${++opCounter}`

  /** Answers a `decide` effect (or a manual request) with the policy and guards. */
  const decide = async (
    region: RegionId,
    request: { readonly id: string; readonly request: ManualRequest } | undefined,
  ): Promise<RequestResult | undefined> => {
    const assessments = health.assessments()
    const input = {
      serving: health.assessment(region),
      assessments,
      topology,
      ...(request === undefined ? {} : { request: request.request }),
    }
    const d = policy(input)
    if (!isActing(d)) return undefined
    const to = d.to
    const readiness: Record<RegionId, Capacity | boolean> = {}
    const lagMs: Record<RegionId, number> = {}
    if (to !== null) {
      if (ports.scaler !== undefined) {
        const cap = await withTimeout(clock, decideTimeoutMs, (signal) =>
          ports.scaler!.capacity(to, { ...ctx(), signal }),
        )
        if (cap !== undefined) readiness[to] = cap
      }
      if (ports.database !== undefined && d.database === 'promote') {
        const lag = await withTimeout(clock, decideTimeoutMs, (signal) =>
          ports.database!.replicationLag(to, { ...ctx(), signal }),
        )
        if (lag !== undefined) lagMs[to] = lag.lagMs
      }
    }
    const approval = request === undefined ? undefined : approvals.get(request.id)
    const evaluation = guards(d, {
      now: now(),
      lease: holder.grant,
      instance,
      lastFailoverAt: state.lastFailoverAt,
      assessments,
      topology,
      readiness,
      lagMs,
      ...(approval === undefined ? {} : { approval }),
    })
    const decisionRecord = d as unknown as Readonly<Record<string, unknown>>
    if (!evaluation.ok || to === null) {
      await record({
        type: 'failover.blocked',
        data: { decision: decisionRecord, guards: evaluation.results, epoch: epoch() },
      })
      emit({
        type: 'failover.blocked',
        at: now(),
        decision: decisionRecord,
        guards: evaluation.results,
      })
      const awaiting =
        request !== undefined &&
        evaluation.blockedBy.length === 1 &&
        evaluation.blockedBy[0] === 'approval'
      if (awaiting) {
        emit({ type: 'approval.requested', at: now(), operation: request.id, reason: d.reason })
      } else {
        enqueue({ type: 'failover.blocked', at: now(), guards: evaluation.blockedBy })
      }
      return {
        id: request?.id ?? '',
        status: awaiting ? 'awaiting-approval' : 'blocked',
        decision: d,
        blockedBy: evaluation.blockedBy,
      }
    }
    const operation = nextOperationId('failover')
    decision = d
    decidedAt = now()
    await record({
      type: 'failover.decided',
      data: { operation, decision: decisionRecord, guards: evaluation.results, epoch: epoch() },
    })
    for (const o of evaluation.overrides) {
      await record({
        type: 'override.used',
        data: {
          operation,
          guard: o.name,
          by: o.overriddenBy ?? 'unknown',
          value: o.value,
          epoch: epoch(),
        },
      })
    }
    emit({
      type: 'failover.decided',
      at: now(),
      operation,
      decision: decisionRecord,
      guards: evaluation.results,
    })
    enqueue({
      type: 'failover.decided',
      at: now(),
      operation,
      from: d.from,
      to,
      severity: d.severity,
      mode: d.mode,
    })
    return { id: request?.id ?? operation, status: 'decided', decision: d, blockedBy: [] }
  }

  const startPlan = (operation: Operation): void => {
    const d = decision
    const planDecision = {
      graceful: d?.graceful ?? false,
      database: d?.database ?? 'none',
      allowDataLoss: d?.allowDataLoss ?? false,
    } as const
    let built: Plan<StepData>
    try {
      built = customize(operation, {
        decision: planDecision,
        ports: planPorts,
        ...(options.failover === undefined ? {} : { failover: options.failover }),
        ...(options.failback === undefined
          ? {}
          : {
              failback: {
                ...(options.failback.stages === undefined
                  ? {}
                  : { stages: options.failback.stages }),
                ...(options.failback.gate === undefined
                  ? {}
                  : { gate: gateOptions(options.failback.gate) }),
              },
            }),
        ...(operation.kind === 'rollback' && lastFailedRun !== undefined
          ? { rollback: { previous: lastFailedRun as never } }
          : {}),
      })
    } catch (error) {
      // A plan that cannot be built (a bad plan hook) fails the operation
      // like a failed step would, instead of leaving it in flight forever.
      const message = `the ${operation.kind} plan could not be built: ${error instanceof Error ? error.message : String(error)}`
      emit({ type: 'error', at: now(), error, context: `plan of ${operation.id}` })
      log?.error({ operation: operation.id, error: message }, 'baton: plan not built')
      enqueue({ type: 'plan.failed', at: now(), operation: operation.id, error: message })
      return
    }
    const span = options.tracer?.startSpan(`baton.${operation.kind}`, {
      attributes: {
        operation: operation.id,
        from: operation.from,
        to: operation.to,
        epoch: epoch(),
      },
    })
    const run = executor.run(built, {
      operation,
      epoch: epoch(),
      mode: planDecision.graceful ? 'graceful' : 'ungraceful',
    })
    plan = { run, operation }
    planDone = run.result.then(async (result) => {
      span?.setAttribute('outcome', result.outcome)
      span?.setStatus({
        code: result.ok ? 1 : 2,
        ...(result.ok ? {} : { message: result.failure?.message ?? result.outcome }),
      })
      span?.end()
      if (plan?.run === run) plan = undefined
      if (result.outcome === 'failed') lastFailedRun = result
      await completed(operation, result)
      if (result.outcome === 'succeeded') {
        await dispatch({ type: 'plan.succeeded', at: result.finishedAt, operation: operation.id })
      } else if (result.outcome === 'failed') {
        await dispatch({
          type: 'plan.failed',
          at: result.finishedAt,
          operation: operation.id,
          error: result.failure?.message ?? 'plan failed',
        })
      }
    })
  }

  /** Writes `failover.completed` / `failback.completed` with the measured RTO and RPO. */
  const completed = async (operation: Operation, result: PlanResult<StepData>): Promise<void> => {
    if (result.outcome !== 'succeeded') return
    const at = result.finishedAt
    if (operation.kind === 'failover') {
      // From the first failed check of the region left, when there was one (also for
      // a manual failover during an incident: users were down since then); a planned
      // switchover of a healthy region is measured from its decision.
      const start = incidentStart ?? decidedAt
      const rtoMs = at - start
      const lossMs = failoverDataLossMs(result as never)
      const rto: Measured = {
        measuredMs: rtoMs,
        targetMs: targets.rtoMs,
        met: rtoMs <= targets.rtoMs,
      }
      const rpo: Measured = {
        measuredMs: lossMs,
        targetMs: targets.rpoMs,
        met: lossMs !== null && lossMs <= targets.rpoMs,
      }
      await record({
        type: 'failover.completed',
        data: {
          operation,
          detectedAt: incidentStart ?? null,
          decidedAt,
          completedAt: at,
          rto,
          rpo,
          epoch: epoch(),
        },
      })
      emit({ type: 'failover.completed', at, operation, rto, rpo })
      incidentStart = undefined
    } else if (operation.kind === 'failback') {
      const stages = failbackStages(result).map((s) => ({ percent: s.percent, ok: s.ok }))
      const durationMs = at - operation.startedAt
      await record({
        type: 'failback.completed',
        data: { operation, completedAt: at, durationMs, stages, epoch: epoch() },
      })
      emit({ type: 'failback.completed', at, operation, durationMs })
    }
  }

  /** Where traffic really goes: the region with the largest weight. */
  const servingNow = async (): Promise<RegionId> => {
    const weights = await withTimeout<Weights>(clock, decideTimeoutMs, (signal) =>
      ports.router.getWeights({ ...ctx(), signal }),
    )
    if (weights === undefined) return state.serving
    let best: RegionId = state.serving
    let max = -1
    for (const [region, w] of Object.entries(weights)) {
      if (w > max) {
        max = w
        best = region
      }
    }
    return max > 0 ? best : state.serving
  }

  const holder: LeaseHolder = createLeaseHolder({
    lease: ports.lease,
    holder: instance,
    clock,
    ttlMs,
    everyMs: renewEveryMs,
    events: {
      acquired: (grant) =>
        dispatch(async () => {
          // Continue the run the ledger records (another instance may have written it).
          const replayed = await replay(ledger.read(), { home: topology.home })
          const trusted = replayed.status === 'REPLAYED'
          const resumedFrom = (trusted ? replayed.final : undefined) ?? initialState(topology.home)
          state = resumedFrom
          await record({
            type: 'lease.acquired',
            data: { holder: instance, epoch: grant.epoch, expiresAt: grant.expiresAt },
          })
          await record({
            type: 'controller.started',
            data: {
              instance,
              home: topology.home,
              regions,
              resumedFrom: resumedFrom.name,
              epoch: grant.epoch,
              ...(trusted
                ? {}
                : { replay: { status: replayed.status, problems: replayed.problems.length } }),
            },
          })
          emit({ type: 'lease.acquired', at: now(), holder: instance, epoch: grant.epoch })
          // A run the ledger cannot vouch for, or one left mid-operation, is
          // halted; a halted run resumes from where traffic really is.
          const first = replayed.problems[0]
          const haltReason =
            first !== undefined
              ? `the ledger's run does not replay (${replayed.problems.length} problem(s); first at seq ${first.seq}: ${first.message}): resuming from where traffic really is`
              : state.operation !== undefined
                ? `takeover: ${state.operation.id} was interrupted`
                : undefined
          if (haltReason !== undefined)
            await handle({ type: 'halt', at: now(), reason: haltReason })
          if (state.name === 'halted') {
            await handle({ type: 'resume', at: now(), serving: await servingNow() })
          }
          // News that arrived while another instance held the lease.
          const serving = health.assessment(state.serving)
          if (
            serving.status !== 'healthy' &&
            (state.name === 'active' || state.name === 'suspect')
          ) {
            enqueue({
              type: 'health.degraded',
              at: now(),
              region: state.serving,
              status: serving.status,
            })
          }
        }),
      lost: (grant, reason) =>
        dispatch(async () => {
          emit({ type: 'lease.lost', at: now(), holder: instance, epoch: grant.epoch })
          log?.warn({ epoch: grant.epoch, reason }, 'baton: lease lost')
          // Not the holder any more: the machine halts locally, nothing is recorded.
          const [next, effects] = transition(state, { type: 'lease.lost', at: now() })
          state = next
          for (const e of effects) if (e.type === 'cancel-plan') await perform(e)
        }),
      error: (error, what) => {
        emit({ type: 'error', at: now(), error, context: what })
      },
    },
  })

  const observe = async (sample: ProbeSample): Promise<void> => {
    emit({ type: 'probe.sampled', at: sample.at, sample })
    if (!sample.ok && sample.region === state.serving && incidentStart === undefined)
      incidentStart = sample.at
    if (sample.ok && sample.region === state.serving && state.name === 'active')
      incidentStart = undefined
    const change: HealthChange | undefined = health.observe(sample)
    if (change === undefined) return
    await record({
      type: 'health.changed',
      data: {
        region: change.region,
        from: change.from,
        to: change.to,
        reasons: change.reasons.map((r) => ({
          detector: r.detector,
          value: r.value,
          threshold: r.threshold,
        })),
        epoch: epoch(),
      },
    })
    if (change.to === 'healthy')
      emit({ type: 'health.recovered', at: change.at, region: change.region })
    else {
      emit({
        type: 'health.degraded',
        at: change.at,
        region: change.region,
        status: change.to,
        reasons: change.reasons.map((r) => `${r.detector} ${r.value} vs ${r.threshold}`),
      })
    }
    await dispatch(toMachineEvent(change))
  }

  const probeRound = async (): Promise<void> => {
    const samples = await Promise.all(
      ports.probes.map(async (probe) => {
        try {
          return await probe.check(ctx())
        } catch (error) {
          emit({ type: 'error', at: now(), error, context: `probe ${probe.name}` })
          return undefined
        }
      }),
    )
    // A round still in flight when `stop()` was called must not start anything.
    if (stopped) return
    for (const s of samples) if (s !== undefined) await observe(s)
  }

  let loops: Promise<void>[] = []
  const stopSignal = new AbortController()

  const controller: Controller = {
    instance,
    get state() {
      return state
    },
    get lease() {
      return holder.grant
    },
    on: bus.on,
    once: bus.once,
    onAny: bus.onAny,
    async start() {
      if (running) return
      if (stopped) throw new CoreError('INVALID_STATE', 'a stopped controller cannot start again')
      running = true
      const loop = async (everyMs: number, body: () => Promise<void>): Promise<void> => {
        while (running) {
          try {
            await body()
          } catch (error) {
            emit({ type: 'error', at: now(), error, context: 'loop' })
          }
          try {
            await clock.sleep(everyMs, stopSignal.signal)
          } catch {
            return
          }
        }
      }
      loops = [loop(renewEveryMs, () => holder.step()), loop(probeEveryMs, probeRound)]
    },
    async stop() {
      running = false
      stopped = true
      stopSignal.abort()
      await Promise.all(loops)
      plan?.run.cancel('controller stopped')
      await planDone
      await draining
      await holder.release()
    },
    async tick() {
      await holder.step()
      await probeRound()
      await draining
    },
    async idle() {
      for (;;) {
        const d = draining
        const p = planDone
        await d
        await p
        if (draining === undefined && p === planDone) return
      }
    },
    async requestFailover(request) {
      const id = `${instance}:request:${++opCounter}`
      pending.set(id, { request, at: now() })
      let result: RequestResult | undefined
      await dispatch(async () => {
        result = await decide(state.serving, { id, request })
      })
      if (result === undefined) {
        return { id, status: 'blocked', decision: {} as Decision, blockedBy: ['policy'] }
      }
      if (result.status !== 'awaiting-approval') pending.delete(id)
      return result
    },
    async approve(requestId, by) {
      const p = pending.get(requestId)
      if (p === undefined)
        throw new ConfigError('requestId', `no request ${requestId} awaits approval`)
      approvals.set(requestId, { by, at: now() })
      await record({ type: 'approval.granted', data: { operation: requestId, by, epoch: epoch() } })
      emit({ type: 'approval.granted', at: now(), operation: requestId, by })
      let result: RequestResult | undefined
      await dispatch(async () => {
        result = await decide(state.serving, { id: requestId, request: p.request })
      })
      pending.delete(requestId)
      approvals.delete(requestId)
      return (
        result ?? {
          id: requestId,
          status: 'blocked',
          decision: {} as Decision,
          blockedBy: ['policy'],
        }
      )
    },
    async deny(requestId, by, reason) {
      if (!pending.delete(requestId))
        throw new ConfigError('requestId', `no request ${requestId} awaits approval`)
      await record({
        type: 'approval.denied',
        data: {
          operation: requestId,
          by,
          ...(reason === undefined ? {} : { reason }),
          epoch: epoch(),
        },
      })
      emit({ type: 'approval.denied', at: now(), operation: requestId, by })
    },
    async requestFailback(by) {
      if (state.name !== 'failed-over') {
        throw new CoreError('INVALID_STATE', `failback needs state failed-over, not ${state.name}`)
      }
      log?.info({ by }, 'baton: failback requested')
      await dispatch({
        type: 'failback.decided',
        at: now(),
        operation: nextOperationId('failback'),
      })
    },
    async halt(reason) {
      await dispatch({ type: 'halt', at: now(), reason })
    },
    async resume() {
      await dispatch({ type: 'resume', at: now(), serving: await servingNow() })
    },
    pausePlan() {
      plan?.run.pause()
    },
    resumePlan() {
      plan?.run.resume()
    },
    cancelPlan(reason) {
      plan?.run.cancel(reason)
    },
    async dryRun(to) {
      const operation: Operation = {
        kind: 'failover',
        id: 'dry-run',
        from: state.serving,
        to,
        startedAt: now(),
      }
      const decision: PlanDecision = {
        graceful: true,
        database: ports.database === undefined ? 'none' : 'promote',
      }
      const built = customize(operation, {
        decision,
        ports: planPorts,
        ...(options.failover === undefined ? {} : { failover: options.failover }),
      })
      return executor.dryRun(built, { operation, epoch: epoch() })
    },
  }

  return controller
}
