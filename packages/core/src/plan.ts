/**
 * Plans: a DAG of steps the executor runs to carry out a failover, a
 * failback or a rollback.
 *
 * A step has a `run`, an optional `verify` (checks the effect really
 * happened) and `compensate` (undoes it when a later step fails), a timeout,
 * a retry policy, a mode (`graceful`, `ungraceful` or `always`) and a
 * `describe` for dry runs. Steps name the steps they depend on; steps with
 * no path between them run in parallel.
 *
 * {@link definePlan} builds a plan step by step with typed results: a step
 * sees the results of the steps it depends on in `ctx.data`, typed.
 * {@link createPlan} validates an untyped plan (from code that assembles
 * steps dynamically). Both throw a {@link ConfigError} naming the bad field,
 * e.g. `plan.steps[3].dependsOn[0]: unknown step "promote"`.
 *
 * @example
 * ```ts
 * const plan = definePlan({ id: 'switchover', title: 'Switch over to eu-west-1' })
 *   .step({ id: 'lag', title: 'Read lag', run: async (ctx) => ({ lagMs: await lagOf(ctx) }) })
 *   .step({
 *     id: 'promote',
 *     title: 'Promote',
 *     dependsOn: ['lag'],
 *     run: async (ctx) => promote(ctx.data.lag.lagMs), // typed: { lagMs: number }
 *   })
 *   .build()
 * ```
 *
 * @module
 */
import { isBatonError } from '@baton/ledger'
import type { Clock } from './clock.js'
import { ConfigError, CoreError } from './errors.js'
import type { Operation } from './machine.js'
import type { CallContext } from './ports/context.js'

/** How a plan runs: graceful (switchover, old primary reachable) or ungraceful (it is down). */
export type PlanMode = 'graceful' | 'ungraceful'

/** In which plan modes a step runs. */
export type StepWhen = 'graceful' | 'ungraceful' | 'always'

/** Every {@link StepWhen}, in a stable order. */
export const STEP_WHEN: readonly StepWhen[] = ['always', 'graceful', 'ungraceful']

/**
 * How a step is retried. Attempt `n` (1-based) that fails is followed,
 * when `n <= max`, by a wait of `min(maxBackoffMs, backoffMs * factor^(n-1))`
 * on the executor's clock.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (0: one attempt only). */
  readonly max: number
  /** Wait before the first retry, in ms. */
  readonly backoffMs: number
  /** Multiplier of the wait for each further retry (1: constant). */
  readonly factor: number
  /** Upper bound of any wait, in ms. */
  readonly maxBackoffMs: number
}

/** The retry policy of a step that does not set one: no retries. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  max: 0,
  backoffMs: 1_000,
  factor: 2,
  maxBackoffMs: 30_000,
}

/** The timeout of a step that does not set one: 5 minutes (per attempt). */
export const DEFAULT_STEP_TIMEOUT_MS = 5 * 60_000

/** The wait before retry `attempt` (1-based: the retry after failed attempt `attempt`). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const raw = policy.backoffMs * policy.factor ** Math.max(0, attempt - 1)
  return Math.min(policy.maxBackoffMs, raw)
}

/** Structured fields for a log line. */
export type LogFields = Readonly<Record<string, unknown>>

/** A step's logger; the executor adds the operation, step, attempt and epoch to every line. */
export interface StepLog {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void
  /** Progress worth knowing. */
  info(message: string, fields?: LogFields): void
  /** Something off that the step works around (e.g. an override, a skipped snapshot). */
  warn(message: string, fields?: LogFields): void
  /** A failure. */
  error(message: string, fields?: LogFields): void
}

/** The results of earlier steps, by step id (the untyped view). */
export type StepData = Readonly<Record<string, unknown>>

/** What a dry run's `describe` gets: everything about the run, but no results and no lease. */
export interface DescribeContext {
  /** The operation the plan would carry out. */
  readonly operation: Operation
  /** The mode it would run in. */
  readonly mode: PlanMode
  /** The fencing epoch it would run with. */
  readonly epoch: number
  /** The executor's clock. */
  readonly clock: Clock
  /** Aborts the dry run. */
  readonly signal: AbortSignal
  /** `{ epoch, signal }`, for read-only port calls (`TrafficRouter.describe`, `Scaler.capacity`). */
  readonly call: CallContext
}

/** What a step's `run`, `verify` and `compensate` get. */
export interface StepContext<D = StepData> extends DescribeContext {
  /** The step's id. */
  readonly step: string
  /** The attempt, from 1. */
  readonly attempt: number
  /**
   * Aborted when the step times out, the plan is cancelled or the lease is
   * lost. Pass it (or `call`) to every port call and `clock.sleep`.
   */
  readonly signal: AbortSignal
  /** A logger for this step. */
  readonly log: StepLog
  /** Results of the steps that completed before this one started (typed for its dependencies). */
  readonly data: D
  /**
   * Rejects with a `LEASE_LOST` error (and stops the plan) if this instance
   * no longer holds the lease at `epoch`. Long steps call it between waits.
   */
  assertLease(): Promise<void>
  /**
   * Registers an undo for a partial effect of this attempt (e.g. weights
   * already set when `waitInSync` then times out). If the attempt fails
   * (error, timeout or failed `verify`), the executor runs the registered
   * undos, last first, before retrying or failing the step; they get a fresh
   * signal bounded by the step's timeout. They do not run when the attempt
   * succeeds (`compensate` takes over), nor when the plan is cancelled or
   * the lease lost (stop safely).
   */
  onFailure(undo: (call: CallContext) => Promise<void> | void): void
}

/**
 * What `verify` returns: `false` or a string (the reason) fails the
 * attempt; `true` or nothing passes. Throwing also fails it.
 */
export type VerifyOutcome = boolean | string | undefined

/**
 * A step as written: `Id` is its id, `R` its result, `D` the data it reads,
 * `Dep` the ids it depends on, `W` when it runs.
 */
export interface StepSpec<
  Id extends string = string,
  R = unknown,
  D = StepData,
  Dep extends string = string,
  W extends StepWhen = StepWhen,
> {
  /** Unique within the plan. */
  readonly id: Id
  /** One line for people (events, receipts, dry runs). */
  readonly title: string
  /** Steps that must complete (or be skipped for the mode) first. */
  readonly dependsOn?: readonly Dep[]
  /** Does the work; its result is stored under `data[id]` for later steps. */
  run(ctx: StepContext<D>): Promise<R> | R
  /** Checks the effect really happened (after `run`, within the same attempt). */
  verify?(ctx: StepContext<D>, result: R): Promise<VerifyOutcome> | VerifyOutcome
  /** Undoes the step when a later step fails. */
  compensate?(ctx: StepContext<D>, result: R): Promise<void> | void
  /** Timeout of one attempt (`run` + `verify`), in ms. Default {@link DEFAULT_STEP_TIMEOUT_MS}. */
  readonly timeoutMs?: number
  /** Retry policy; missing fields from {@link DEFAULT_RETRY_POLICY}. */
  readonly retries?: Partial<RetryPolicy>
  /** Modes it runs in. Default `always`. */
  readonly when?: W
  /** What it would do, for dry runs; must change nothing. Default: its title. */
  describe?(ctx: DescribeContext): Promise<readonly string[]> | readonly string[]
}

/** A validated step, with every default filled in. */
export interface Step<R = unknown, D = StepData> {
  /** Unique within the plan. */
  readonly id: string
  /** One line for people. */
  readonly title: string
  /** Steps that must complete (or be skipped for the mode) first. */
  readonly dependsOn: readonly string[]
  /** Does the work. */
  run(ctx: StepContext<D>): Promise<R> | R
  /** Checks the effect really happened. */
  verify?(ctx: StepContext<D>, result: R): Promise<VerifyOutcome> | VerifyOutcome
  /** Undoes the step when a later step fails. */
  compensate?(ctx: StepContext<D>, result: R): Promise<void> | void
  /** Timeout of one attempt, in ms. */
  readonly timeoutMs: number
  /** Retry policy. */
  readonly retries: RetryPolicy
  /** Modes it runs in. */
  readonly when: StepWhen
  /** What it would do (dry run). */
  describe(ctx: DescribeContext): Promise<readonly string[]> | readonly string[]
}

declare const RESULTS: unique symbol

/** A validated plan; `R` maps step ids to their results (for typed results of a run). */
export interface Plan<R = StepData> {
  /** The plan's id, e.g. `failover`. */
  readonly id: string
  /** One line for people. */
  readonly title: string
  /** Steps in declaration order (a topological order). */
  readonly steps: readonly Step[]
  /** Steps run at once at most (default: the executor's). */
  readonly concurrency?: number
  /** Mode used when a run does not give one. */
  readonly mode?: PlanMode
  /** @internal type-only marker of the results map. */
  readonly [RESULTS]?: R
}

/** The results map of a plan. */
export type PlanResults<P> = P extends Plan<infer R> ? R : never

/** A step of any id, result, data and mode (for plans assembled at run time). */
// biome-ignore lint/suspicious/noExplicitAny: steps of any result and data type
export type AnyStepSpec = StepSpec<string, any, any, string, StepWhen>

/** A plan as written, for {@link createPlan}. */
export interface PlanSpec {
  readonly id: string
  readonly title?: string
  readonly steps: readonly AnyStepSpec[]
  readonly concurrency?: number
  readonly mode?: PlanMode
}

/**
 * A step failed in a way worth describing: `details` carries measured
 * values (e.g. a health gate's error rate against its threshold) into
 * events and receipts; `retryable: false` skips the remaining retries.
 */
export class StepError extends CoreError {
  /** Whether the executor may retry the step after this error. */
  readonly retryable: boolean
  /** Structured facts about the failure (JSON values). */
  readonly details: Readonly<Record<string, unknown>>

  constructor(
    message: string,
    options: {
      readonly retryable?: boolean
      readonly details?: Readonly<Record<string, unknown>>
      readonly cause?: unknown
    } = {},
  ) {
    super(
      'STEP_FAILED',
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.retryable = options.retryable ?? true
    this.details = options.details ?? {}
  }
}

/** True if the executor may retry after `error` (not a lost lease, fencing, abort, bad config, or a non-retryable {@link StepError}). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof StepError) return error.retryable
  if (isBatonError(error, 'LEASE_LOST', 'FENCED', 'ABORTED', 'INVALID_CONFIG')) return false
  return true
}

// ---------------------------------------------------------------------------
// Validation

const validated = new WeakSet<object>()

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function nonNegative(value: unknown, path: string, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(path, `${what} must be a finite number ≥ 0 (got ${String(value)})`)
  }
  return value
}

function normalizeRetries(value: unknown, path: string): RetryPolicy {
  if (value === undefined) return DEFAULT_RETRY_POLICY
  if (!isObject(value)) throw new ConfigError(path, 'must be an object')
  const r = { ...DEFAULT_RETRY_POLICY, ...(value as Partial<RetryPolicy>) }
  if (!Number.isInteger(r.max) || r.max < 0) {
    throw new ConfigError(`${path}.max`, `must be an integer ≥ 0 (got ${String(r.max)})`)
  }
  nonNegative(r.backoffMs, `${path}.backoffMs`, 'backoff')
  if (typeof r.factor !== 'number' || !Number.isFinite(r.factor) || r.factor < 1) {
    throw new ConfigError(`${path}.factor`, `must be a finite number ≥ 1 (got ${String(r.factor)})`)
  }
  nonNegative(r.maxBackoffMs, `${path}.maxBackoffMs`, 'maximum backoff')
  return { max: r.max, backoffMs: r.backoffMs, factor: r.factor, maxBackoffMs: r.maxBackoffMs }
}

function optionalFunction(value: unknown, path: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(path, 'must be a function')
  }
}

function normalizeStep(spec: unknown, i: number): Step {
  const path = `plan.steps[${i}]`
  if (!isObject(spec)) throw new ConfigError(path, 'must be an object')
  if (typeof spec.id !== 'string' || spec.id.trim() === '' || spec.id !== spec.id.trim()) {
    throw new ConfigError(`${path}.id`, 'must be a non-empty string without surrounding spaces')
  }
  if (typeof spec.title !== 'string' || spec.title.trim() === '') {
    throw new ConfigError(`${path}.title`, 'must be a non-empty string')
  }
  if (typeof spec.run !== 'function') throw new ConfigError(`${path}.run`, 'must be a function')
  optionalFunction(spec.verify, `${path}.verify`)
  optionalFunction(spec.compensate, `${path}.compensate`)
  optionalFunction(spec.describe, `${path}.describe`)
  const timeoutMs = spec.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError(
      `${path}.timeoutMs`,
      `must be a finite number > 0 (got ${String(timeoutMs)})`,
    )
  }
  const when = spec.when ?? 'always'
  if (!STEP_WHEN.includes(when as StepWhen)) {
    throw new ConfigError(
      `${path}.when`,
      `must be one of ${STEP_WHEN.join(', ')} (got ${String(when)})`,
    )
  }
  const deps = spec.dependsOn ?? []
  if (!Array.isArray(deps))
    throw new ConfigError(`${path}.dependsOn`, 'must be an array of step ids')
  deps.forEach((d, j) => {
    if (typeof d !== 'string') throw new ConfigError(`${path}.dependsOn[${j}]`, 'must be a step id')
    if (deps.indexOf(d) !== j) {
      throw new ConfigError(`${path}.dependsOn[${j}]`, `duplicate dependency "${d}"`)
    }
  })
  const title = spec.title
  const s = spec as unknown as StepSpec
  const step: Step = {
    id: spec.id,
    title,
    dependsOn: Object.freeze([...(deps as string[])]),
    run: (ctx) => s.run(ctx),
    timeoutMs,
    retries: normalizeRetries(spec.retries, `${path}.retries`),
    when: when as StepWhen,
    describe: s.describe === undefined ? () => [title] : (ctx) => s.describe!(ctx),
  }
  if (s.verify !== undefined)
    (step as { verify?: Step['verify'] }).verify = (c, r) => s.verify!(c, r)
  if (s.compensate !== undefined) {
    ;(step as { compensate?: Step['compensate'] }).compensate = (c, r) => s.compensate!(c, r)
  }
  return Object.freeze(step)
}

/** Finds a dependency cycle (in declaration order) and throws naming it. */
function checkCycles(steps: readonly Step[]): void {
  const index = new Map(steps.map((s, i) => [s.id, i]))
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (id: string): void => {
    state.set(id, 'visiting')
    stack.push(id)
    const i = index.get(id)!
    steps[i]!.dependsOn.forEach((dep, j) => {
      const s = state.get(dep)
      if (s === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep]
        throw new ConfigError(
          `plan.steps[${i}].dependsOn[${j}]`,
          `dependency cycle ${cycle.join(' → ')}`,
        )
      }
      if (s === undefined) visit(dep)
    })
    stack.pop()
    state.set(id, 'done')
  }
  for (const s of steps) if (!state.has(s.id)) visit(s.id)
}

/** Orders steps so every step comes after its dependencies (stable: ties keep declaration order). */
function topoSort(steps: readonly Step[]): Step[] {
  const done = new Set<string>()
  const out: Step[] = []
  while (out.length < steps.length) {
    for (const s of steps) {
      if (!done.has(s.id) && s.dependsOn.every((d) => done.has(d))) {
        done.add(s.id)
        out.push(s)
        break
      }
    }
  }
  return out
}

/**
 * Validates a plan and fills in defaults. Throws a {@link ConfigError} whose
 * `path` names the bad field: a missing or duplicate id, an unknown or
 * self dependency, a dependency cycle (named `a → b → a`), a timeout that is
 * not a positive number, a bad retry policy or mode.
 */
export function createPlan<R = StepData>(spec: PlanSpec): Plan<R> {
  if (validated.has(spec)) return spec as unknown as Plan<R>
  if (!isObject(spec)) throw new ConfigError('plan', 'must be an object')
  if (typeof spec.id !== 'string' || spec.id.trim() === '') {
    throw new ConfigError('plan.id', 'must be a non-empty string')
  }
  if (spec.title !== undefined && (typeof spec.title !== 'string' || spec.title === '')) {
    throw new ConfigError('plan.title', 'must be a non-empty string')
  }
  if (
    spec.concurrency !== undefined &&
    !(
      (Number.isInteger(spec.concurrency) && spec.concurrency >= 1) ||
      spec.concurrency === Number.POSITIVE_INFINITY
    )
  ) {
    throw new ConfigError(
      'plan.concurrency',
      `must be an integer ≥ 1 or Infinity (got ${String(spec.concurrency)})`,
    )
  }
  if (spec.mode !== undefined && spec.mode !== 'graceful' && spec.mode !== 'ungraceful') {
    throw new ConfigError('plan.mode', `must be graceful or ungraceful (got ${String(spec.mode)})`)
  }
  if (!Array.isArray(spec.steps)) throw new ConfigError('plan.steps', 'must be an array of steps')
  const steps = spec.steps.map((s, i) => normalizeStep(s, i))
  const first = new Map<string, number>()
  steps.forEach((s, i) => {
    const prev = first.get(s.id)
    if (prev !== undefined) {
      throw new ConfigError(
        `plan.steps[${i}].id`,
        `duplicate step id "${s.id}" (first at plan.steps[${prev}])`,
      )
    }
    first.set(s.id, i)
  })
  steps.forEach((s, i) => {
    s.dependsOn.forEach((d, j) => {
      if (d === s.id) {
        throw new ConfigError(`plan.steps[${i}].dependsOn[${j}]`, `step "${d}" depends on itself`)
      }
      if (!first.has(d))
        throw new ConfigError(`plan.steps[${i}].dependsOn[${j}]`, `unknown step "${d}"`)
    })
  })
  checkCycles(steps)
  const plan: Plan<R> = {
    id: spec.id,
    title: spec.title ?? spec.id,
    steps: Object.freeze(topoSort(steps)),
    ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
    ...(spec.mode === undefined ? {} : { mode: spec.mode }),
  }
  Object.freeze(plan)
  validated.add(plan)
  return plan
}

/**
 * The plan's steps in waves: each wave holds the steps whose dependencies
 * are all in earlier waves (the steps of a wave can run in parallel).
 */
export function planWaves(plan: Plan<unknown>): readonly (readonly string[])[] {
  const wave = new Map<string, number>()
  const waves: string[][] = []
  for (const s of plan.steps) {
    const w = s.dependsOn.reduce((m, d) => Math.max(m, (wave.get(d) ?? 0) + 1), 0)
    wave.set(s.id, w)
    const ids = waves[w] ?? []
    ids.push(s.id)
    waves[w] = ids
  }
  return waves
}

/** True if `step` runs in `mode`. */
export function stepRunsIn(step: Pick<Step, 'when'>, mode: PlanMode): boolean {
  return step.when === 'always' || step.when === mode
}

// ---------------------------------------------------------------------------
// The typed builder

/** The data a step with dependencies `Dep` sees: those results for sure, others maybe. */
export type StepDataOf<R, Dep extends keyof R> = Readonly<Pick<R, Dep>> & Readonly<Partial<R>>

/** The result a step contributes to the results map: possibly missing unless it always runs. */
export type ResultFor<R, W extends StepWhen> = W extends 'always' ? R : R | undefined

type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** An empty results map. */
export type NoResults = Record<never, never>

/**
 * Builds a plan step by step. Each step can depend only on steps added
 * before it (so a built plan has no cycle), and sees their results typed.
 */
export interface PlanBuilder<R extends object = NoResults> {
  /** Adds a step; its result becomes `data[id]` for later steps. */
  step<
    const Id extends string,
    Res,
    const Dep extends keyof R & string = never,
    const W extends StepWhen = 'always',
  >(
    spec: StepSpec<Id, Res, StepDataOf<R, Dep>, Dep, W>,
  ): PlanBuilder<Simplify<R & { readonly [K in Id]: ResultFor<Awaited<Res>, W> }>>
  /** Validates the plan (see {@link createPlan}) and returns it. */
  build(): Plan<R>
}

/** Options of {@link definePlan}. */
export interface PlanOptions {
  /** The plan's id, e.g. `failover`. */
  readonly id: string
  /** One line for people (default: the id). */
  readonly title?: string
  /** Steps run at once at most (default: the executor's). */
  readonly concurrency?: number
  /** Mode used when a run does not give one. */
  readonly mode?: PlanMode
}

/** Starts a typed plan; add steps with `.step(...)`, finish with `.build()`. */
export function definePlan(options: PlanOptions): PlanBuilder {
  const make = <R extends object>(steps: readonly StepSpec[]): PlanBuilder<R> => ({
    step(spec) {
      return make([...steps, spec as unknown as StepSpec])
    },
    build() {
      return createPlan<R>({ ...options, steps })
    },
  })
  return make<NoResults>([])
}

/** Options every built-in step factory takes (`Id`, `Dep`, `W` keep the builder's typing). */
export interface BaseStepOptions<
  Id extends string = string,
  Dep extends string = never,
  W extends StepWhen = 'always',
> {
  /** The step's id (each factory has a default, e.g. `preflight`). */
  readonly id?: Id
  /** Its title (each factory has a default naming the regions and ports). */
  readonly title?: string
  /** Steps it runs after. */
  readonly dependsOn?: readonly Dep[]
  /** Timeout of one attempt, in ms (each factory has a default). */
  readonly timeoutMs?: number
  /** Retry policy (each factory has a default). */
  readonly retries?: Partial<RetryPolicy>
  /** Modes it runs in. Default `always`. */
  readonly when?: W
}
