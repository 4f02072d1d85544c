/**
 * Helpers shared by the built-in steps.
 *
 * @module
 */
import type { Clock } from '../clock.js'
import { ConfigError, CoreError } from '../errors.js'
import type {
  BaseStepOptions,
  DescribeContext,
  RetryPolicy,
  StepContext,
  StepData,
  StepSpec,
  StepWhen,
  VerifyOutcome,
} from '../plan.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Probe } from '../ports/probe.js'
import type { Weights } from '../ports/traffic-router.js'

/** The behaviour of a built-in step (everything but the common options). */
export interface StepBody<R> {
  run(ctx: StepContext): Promise<R>
  verify?(ctx: StepContext, result: R): Promise<VerifyOutcome>
  compensate?(ctx: StepContext, result: R): Promise<void>
  describe(ctx: DescribeContext): Promise<readonly string[]> | readonly string[]
}

/** Defaults of a built-in step. */
export interface StepDefaults {
  readonly id: string
  readonly title: string
  readonly timeoutMs: number
  readonly retries?: Partial<RetryPolicy>
}

/** Merges a factory's defaults, the caller's options and the step's behaviour. */
export function builtin<Id extends string, Dep extends string, W extends StepWhen, R>(
  options: BaseStepOptions<Id, Dep, W>,
  defaults: StepDefaults,
  body: StepBody<R>,
): StepSpec<Id, R, StepData, Dep, W> {
  const spec: StepSpec<string, R, StepData, Dep, StepWhen> = {
    id: options.id ?? defaults.id,
    title: options.title ?? defaults.title,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    retries: { ...defaults.retries, ...options.retries },
    run: (ctx) => body.run(ctx),
    describe: (ctx) => body.describe(ctx),
    ...(options.dependsOn === undefined ? {} : { dependsOn: options.dependsOn }),
    ...(options.when === undefined ? {} : { when: options.when }),
    ...(body.verify === undefined ? {} : { verify: (ctx, r) => body.verify!(ctx, r) }),
    ...(body.compensate === undefined ? {} : { compensate: (ctx, r) => body.compensate!(ctx, r) }),
  }
  return spec as StepSpec<Id, R, StepData, Dep, W>
}

/** The probe for `region`: the only one, or the one whose `region` matches. */
export function pickProbe(probes: Probe | readonly Probe[], region: RegionId): Probe {
  if (!Array.isArray(probes)) return probes as Probe
  const list = probes as readonly Probe[]
  const probe = list.find((p) => p.region === region)
  if (probe === undefined) {
    throw new ConfigError(
      'probes',
      `no probe for region "${region}" (have ${list.map((p) => p.region).join(', ') || 'none'})`,
    )
  }
  return probe
}

/** The outcome of a best-effort call. */
export type BestEffort<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown }

/**
 * Calls `fn` with its own timeout on `clock` (and the step's signal); never
 * throws: for calls whose failure a step records instead of failing on
 * (notifications, fencing an unreachable primary, a final snapshot).
 */
export async function bestEffort<T>(
  clock: Clock,
  timeoutMs: number,
  call: CallContext,
  fn: (call: CallContext) => Promise<T>,
): Promise<BestEffort<T>> {
  const local = new AbortController()
  const timer = new AbortController()
  const signal =
    call.signal === undefined ? local.signal : AbortSignal.any([call.signal, local.signal])
  const timeout = clock.sleep(timeoutMs, timer.signal).then(
    () => {
      const error = new CoreError('TIMEOUT', `timed out after ${formatMs(timeoutMs)}`)
      local.abort(error)
      throw error
    },
    () => new Promise<never>(() => {}),
  )
  try {
    const work = fn({ epoch: call.epoch, signal })
    work.catch(() => {})
    return { ok: true, value: await Promise.race([work, timeout]) }
  } catch (error) {
    return { ok: false, error }
  } finally {
    timer.abort()
  }
}

/** The message of an unknown error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** A duration for people: `800 ms`, `45 s`, `15 min`, `2 h`. */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms} ms`
  if (ms < 120_000) return `${+(ms / 1_000).toFixed(1)} s`
  if (ms < 7_200_000) return `${+(ms / 60_000).toFixed(1)} min`
  return `${+(ms / 3_600_000).toFixed(1)} h`
}

/** Weights for people: `us-east-1=0, eu-west-1=100`. */
export function formatWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([r, w]) => `${r}=${w}`)
    .join(', ')
}

/** True if `a` and `b` give every region the same weight (absent = 0). */
export function sameWeights(a: Weights, b: Weights): boolean {
  const regions = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const r of regions) if ((a[r] ?? 0) !== (b[r] ?? 0)) return false
  return true
}

/** The weights sending `percent` % to `to` and the rest to `from`. */
export function splitWeights(from: RegionId, to: RegionId, percent: number): Weights {
  return { [from]: 100 - percent, [to]: percent }
}

/** Throws a {@link ConfigError} unless `value` is a finite number in `[min, max]`. */
export function checkNumber(
  value: number | undefined,
  path: string,
  min: number,
  max = Number.POSITIVE_INFINITY,
): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `in [${min}, ${max}]`
    throw new ConfigError(path, `must be a finite number ${range} (got ${String(value)})`)
  }
}
