/**
 * The plan executor: runs a {@link Plan}'s steps in dependency order, in
 * parallel where the DAG allows, with per-step timeouts and retries on the
 * injected clock, `verify` after `run`, compensation in reverse order on
 * failure, pause / resume / cancel, dry runs, and fencing.
 *
 * **Fencing.** Every step runs with the operation's fencing epoch (in
 * `ctx.epoch` and `ctx.call`). Before each step starts, before each retry
 * and before each compensation the executor asks its {@link LeaseCheck}
 * whether the lease is still held at that epoch; steps can ask too
 * (`ctx.assertLease()`), and the controller can say so at once
 * (`run.leaseLost()`). When the lease is lost the plan stops safely: the
 * signals of running steps abort, no further step starts, and **nothing is
 * compensated** — the new holder owns the world now, and undoing our steps
 * (shifting traffic back, scaling down) could fight its plan. The result's
 * outcome is `lease-lost` with a `LEASE_LOST` error; the new holder resyncs.
 *
 * **Failure.** When a step fails after its retries, no further step starts;
 * steps already running are let finish (not aborted: half-done effects are
 * worse than finished ones), then the steps that completed are compensated
 * one at a time, in reverse order of completion. Compensation stops at the
 * first compensation that fails (e.g. if traffic cannot be shifted back,
 * scaling the target down would cause an outage); the rest are reported
 * as not compensated.
 *
 * **Cancel** (`run.cancel()` or the run's `signal`) aborts running steps and
 * compensates nothing further: stop safely, leave the world as it is, and
 * report it. **Pause** lets running steps finish and starts nothing new
 * (nor a retry) until `resume`.
 *
 * @module
 */
import { dryRunPlan, formatDryRun } from './_executor-dry-run.js'
import { DEFAULT_CONCURRENCY, runPlanInternal } from './_executor-run.js'
import { planEventToEngineEvent, planEventToReceipt, planOutcomeEvent } from './_executor-wiring.js'
import type { Clock } from './clock.js'
import type { CoreError } from './errors.js'
import type { Operation } from './machine.js'
import { createPlan, type Plan, type PlanMode, type StepData, type StepWhen } from './plan.js'
import type { Lease } from './ports/lease.js'

/** Whether this instance still holds the lease granted at an epoch. */
export interface LeaseCheck {
  /** True while the lease granted with `epoch` is held by this instance and not expired. */
  isHeld(epoch: number): boolean | Promise<boolean>
}

/**
 * A {@link LeaseCheck} reading a {@link Lease}: held while its current
 * grant is `holder`'s, at `epoch`, and not expired on `clock`. It reads the
 * lease on every check (before each step and retry); a controller that
 * renews the lease itself can pass a cheaper check of its own.
 */
export function createLeaseCheck(lease: Lease, holder: string, clock: Clock): LeaseCheck {
  return {
    async isHeld(epoch) {
      const grant = await lease.current()
      return (
        grant !== undefined &&
        grant.holder === holder &&
        grant.epoch === epoch &&
        grant.expiresAt > clock.now()
      )
    },
  }
}

/** A pino-compatible logger (`logger.info(fields, message)`). */
export interface PlanLogger {
  debug(fields: object, message?: string): void
  info(fields: object, message?: string): void
  warn(fields: object, message?: string): void
  error(fields: object, message?: string): void
}

interface PlanEventBase {
  /** When it happened, on the executor's clock (epoch ms). */
  readonly at: number
  /** The operation id (the plan run's id). */
  readonly operation: string
  /** The plan's id. */
  readonly plan: string
  /** The fencing epoch the plan runs with. */
  readonly epoch: number
}

interface StepEventBase extends PlanEventBase {
  /** The step's id. */
  readonly step: string
  /** The step's title. */
  readonly title: string
}

/** Everything the executor reports, in order, through {@link ExecutorHooks.onEvent}. */
export type PlanEvent =
  | ({
      readonly type: 'plan.started'
      readonly kind: Operation['kind']
      readonly mode: PlanMode
      readonly steps: readonly string[]
    } & PlanEventBase)
  /** The step does not run in this mode. */
  | ({ readonly type: 'step.skipped'; readonly reason: string } & StepEventBase)
  /** An attempt starts (attempt 1, then each retry). */
  | ({ readonly type: 'step.started'; readonly attempt: number } & StepEventBase)
  /** An attempt failed and will be retried after `delayMs`. */
  | ({
      readonly type: 'step.retrying'
      readonly attempt: number
      readonly delayMs: number
      readonly error: string
      readonly cause: unknown
    } & StepEventBase)
  /** `undo`s registered by a failed attempt ran (see `StepContext.onFailure`). */
  | ({
      readonly type: 'step.undone'
      readonly attempt: number
      readonly ok: boolean
      readonly error?: string
    } & StepEventBase)
  | ({
      readonly type: 'step.succeeded'
      readonly attempts: number
      /** From the first attempt's start to success, on the clock. */
      readonly durationMs: number
      readonly result: unknown
    } & StepEventBase)
  /** The step failed for good (retries exhausted or not retryable). */
  | ({
      readonly type: 'step.failed'
      readonly attempts: number
      readonly durationMs: number
      /** The error's message. */
      readonly error: string
      /** The error's code, when it is a baton error. */
      readonly code?: string
      /** A {@link StepError}'s details (measured values). */
      readonly details?: Readonly<Record<string, unknown>>
      readonly cause: unknown
    } & StepEventBase)
  | ({
      readonly type: 'step.compensated'
      readonly ok: boolean
      readonly durationMs: number
      readonly error?: string
    } & StepEventBase)
  | ({ readonly type: 'plan.paused' } & PlanEventBase)
  | ({ readonly type: 'plan.resumed' } & PlanEventBase)
  | ({
      readonly type: 'plan.cancelled'
      readonly reason: string
      /** `ABORTED` (cancel, signal) or `LEASE_LOST`. */
      readonly code: 'ABORTED' | 'LEASE_LOST'
    } & PlanEventBase)
  | ({
      readonly type: 'plan.finished'
      readonly outcome: PlanOutcome
      readonly durationMs: number
      readonly failedStep?: string
      readonly error?: string
    } & PlanEventBase)

/** The `type` of every plan event. */
export type PlanEventType = PlanEvent['type']

/** Every plan event type, in a stable order. */
export const PLAN_EVENT_TYPES: readonly PlanEventType[] = [
  'plan.started',
  'step.skipped',
  'step.started',
  'step.retrying',
  'step.undone',
  'step.succeeded',
  'step.failed',
  'step.compensated',
  'plan.paused',
  'plan.resumed',
  'plan.cancelled',
  'plan.finished',
]

/** What the controller plugs into the executor. */
export interface ExecutorHooks {
  /**
   * Called with every event, one at a time in order; the executor awaits it
   * before going on (so a `step.started` receipt is written before the step
   * runs). A hook that throws does not fail the plan: see `onHookError`.
   */
  onEvent?(event: PlanEvent): void | Promise<void>
  /** Called when `onEvent` throws or rejects (default: logged as an error, if a logger is set). */
  onHookError?(error: unknown, event: PlanEvent): void
}

/** Options of {@link createExecutor}. */
export interface ExecutorOptions {
  /** Time, timeouts and backoff waits (a virtual clock in drills). */
  readonly clock: Clock
  /** Checked before each step, retry and compensation; without one the lease is assumed held. */
  readonly lease?: LeaseCheck
  /** Event hooks (receipts, engine events). */
  readonly hooks?: ExecutorHooks
  /** Steps run at once at most, unless the plan or run says otherwise. Default 4. */
  readonly concurrency?: number
  /** Receives step log lines (pino-compatible). */
  readonly logger?: PlanLogger
}

/** Options of one run. */
export interface RunOptions {
  /** The operation (from the machine's `run-plan` effect). */
  readonly operation: Operation
  /** The fencing epoch of the lease this instance holds. */
  readonly epoch: number
  /** Graceful or ungraceful: selects steps by their `when`. Default: the plan's mode, else graceful. */
  readonly mode?: PlanMode
  /** Cancels the run when aborted (like `run.cancel()`). */
  readonly signal?: AbortSignal
  /** Steps run at once at most, overriding the plan and the executor. */
  readonly concurrency?: number
}

/** Where a step ended up. */
export type StepStatus =
  | 'pending'
  | 'running'
  | 'skipped'
  | 'succeeded'
  | 'failed'
  | 'compensated'
  | 'compensation-failed'
  | 'cancelled'
  | 'not-run'

/** One step's part in a run. */
export interface StepReport {
  readonly id: string
  readonly title: string
  readonly when: StepWhen
  readonly status: StepStatus
  /** Attempts made (0 if it never started). */
  readonly attempts: number
  readonly startedAt?: number
  readonly finishedAt?: number
  readonly durationMs?: number
  /** Its result, once it succeeded. */
  readonly result?: unknown
  /** Why it failed (or was cancelled). */
  readonly error?: string
  readonly code?: string
  readonly details?: Readonly<Record<string, unknown>>
  /** Why it was skipped. */
  readonly skippedReason?: string
  /** Its compensation, if one ran. */
  readonly compensation?: { readonly ok: boolean; readonly error?: string }
}

/** How a run ended. */
export type PlanOutcome = 'succeeded' | 'failed' | 'cancelled' | 'lease-lost'

/** The step a failed run failed at. */
export interface PlanFailure {
  readonly step: string
  readonly title: string
  readonly error: unknown
  readonly message: string
  readonly attempts: number
  readonly code?: string
  readonly details?: Readonly<Record<string, unknown>>
}

/** The outcome of a run. */
export interface PlanResult<R = StepData> {
  readonly plan: string
  readonly operation: Operation
  readonly mode: PlanMode
  readonly epoch: number
  readonly outcome: PlanOutcome
  /** `outcome === 'succeeded'`. */
  readonly ok: boolean
  /** Results of the steps that succeeded, by id. */
  readonly results: Partial<R>
  /** Every step, in plan order. */
  readonly steps: readonly StepReport[]
  /** Ids of the steps that completed, in completion order. */
  readonly completed: readonly string[]
  /** Set when a step failed. */
  readonly failure?: PlanFailure
  /** `STEP_FAILED`, `ABORTED` or `LEASE_LOST`, when not ok; its message fits `plan.failed`. */
  readonly error?: CoreError
  readonly startedAt: number
  readonly finishedAt: number
  readonly durationMs: number
}

/** The state of a run. */
export type PlanRunStatus = 'running' | 'paused' | 'compensating' | PlanOutcome

/** A plan being run. */
export interface PlanRun<R = StepData> {
  readonly operation: Operation
  /** Resolves when the run is over (never rejects). */
  readonly result: Promise<PlanResult<R>>
  /** The run's state now. */
  readonly status: PlanRunStatus
  /** Starts nothing new until `resume` (running steps finish). False if not running. */
  pause(): boolean
  /** Continues a paused run. False if not paused. */
  resume(): boolean
  /** Aborts running steps, compensates nothing further, outcome `cancelled`. False if already over. */
  cancel(reason?: string): boolean
  /** Like `cancel`, but the outcome is `lease-lost` (the controller lost the lease). */
  leaseLost(reason?: string): boolean
  /** Every step's report so far. */
  steps(): readonly StepReport[]
}

/** One step in a dry run. */
export interface DryRunStep {
  readonly id: string
  readonly title: string
  readonly dependsOn: readonly string[]
  readonly when: StepWhen
  /** Whether it would run in this mode. */
  readonly selected: boolean
  /** Why not, when not selected. */
  readonly skippedReason?: string
  /** Its wave: steps of one wave can run in parallel. */
  readonly wave: number
  /** What it would do (its `describe`). */
  readonly lines: readonly string[]
  /** Set when `describe` threw. */
  readonly error?: string
  readonly timeoutMs: number
  readonly retries: number
  readonly compensable: boolean
}

/** What a plan would do. */
export interface DryRunReport {
  readonly plan: string
  readonly title: string
  readonly operation: Operation
  readonly mode: PlanMode
  readonly steps: readonly DryRunStep[]
  /** Step ids by wave. */
  readonly waves: readonly (readonly string[])[]
}

/** Runs plans. */
export interface Executor {
  /**
   * Starts `plan` for `options.operation`; returns at once with a handle.
   * Throws a `ConfigError` (synchronously) if the plan is invalid.
   */
  run<R>(plan: Plan<R>, options: RunOptions): PlanRun<R>
  /** What `plan` would do: each selected step's `describe`, calling no `run`. */
  dryRun(plan: Plan<unknown>, options: Omit<RunOptions, 'concurrency'>): Promise<DryRunReport>
}

/** The default concurrency of an executor: 4 steps at once. */
export { DEFAULT_CONCURRENCY }

/** Creates an executor. */
export function createExecutor(options: ExecutorOptions): Executor {
  return {
    run(plan, runOptions) {
      return runPlanInternal(createPlan(plan as never), runOptions, options) as never
    },
    dryRun(plan, runOptions) {
      return dryRunPlan(createPlan(plan as never), runOptions, options.clock)
    },
  }
}

/** Runs one plan with a one-off executor: `createExecutor(options).run(plan, options)`. */
export function runPlan<R>(plan: Plan<R>, options: RunOptions & ExecutorOptions): PlanRun<R> {
  return createExecutor(options).run(plan, options)
}

// Dry-run text and the wiring to the machine, event bus and ledger (documented where defined).
export { formatDryRun, planEventToEngineEvent, planEventToReceipt, planOutcomeEvent }
