/**
 * Extending a plan: a team's runbook adds its own steps to the default
 * failover plan (an end-to-end job check, a Kafka check, a row-count
 * comparison, templated notifications) without rebuilding the rest.
 *
 * {@link extendPlan} adds steps, makes existing steps wait for added ones
 * (`before`), and keeps every dependency the plan had; the result is
 * validated again (unknown steps, cycles and duplicate ids name the bad
 * field). {@link planSinks} names the steps nothing depends on: "after
 * everything else".
 *
 * @example
 * ```ts
 * const plan = extendPlan(builtin, {
 *   steps: [{ id: 'e2e', title: 'Create a job and watch it complete', dependsOn: planSinks(builtin), run: e2e }],
 * })
 * ```
 *
 * @module
 */
import { ConfigError } from './errors.js'
import { type AnyStepSpec, createPlan, type Plan, type RetryPolicy, type StepData } from './plan.js'

/** What {@link extendPlan} changes. */
export interface PlanExtension {
  /** Steps to add; their `dependsOn` may name the plan's steps and each other. */
  readonly steps?: readonly AnyStepSpec[]
  /**
   * Existing steps that must also wait for added (or other existing) steps,
   * e.g. `{ 'shift-traffic': ['capacity-check'] }`. A key the plan lacks is
   * a `ConfigError` unless `optional` is set.
   */
  readonly before?: Readonly<Record<string, readonly string[]>>
  /**
   * New timeouts and retry policies of existing steps, e.g. `{ promote: {
   * timeoutMs: 40 * 60_000 } }` for a promotion the runbook says takes half
   * an hour. A key the plan lacks is a `ConfigError` unless `optional` is set.
   */
  readonly tune?: Readonly<
    Record<string, { readonly timeoutMs?: number; readonly retries?: Partial<RetryPolicy> }>
  >
  /** Ignore `before` and `tune` keys the plan does not have (plans differ by ports and decision). Default false. */
  readonly optional?: boolean
  /** A new title. */
  readonly title?: string
  /** A new concurrency limit. */
  readonly concurrency?: number
}

/** The ids of the steps no other step depends on (the plan's last steps). */
export function planSinks(plan: Pick<Plan<unknown>, 'steps'>): string[] {
  const needed = new Set(plan.steps.flatMap((s) => s.dependsOn))
  return plan.steps.filter((s) => !needed.has(s.id)).map((s) => s.id)
}

/** Whether `plan` has a step `id`. */
export function hasStep(plan: Pick<Plan<unknown>, 'steps'>, id: string): boolean {
  return plan.steps.some((s) => s.id === id)
}

/**
 * A new plan: `plan`'s steps (with any extra `before` dependencies) and
 * the added steps, validated.
 *
 * @throws ConfigError naming the bad field (`extension.before.x: unknown
 *   step`, or what `createPlan` finds: duplicate ids, unknown
 *   dependencies, cycles).
 */
export function extendPlan<R = StepData>(plan: Plan<unknown>, extension: PlanExtension): Plan<R> {
  const before = extension.before ?? {}
  for (const key of Object.keys(before)) {
    if (!hasStep(plan, key) && extension.optional !== true) {
      throw new ConfigError(`extension.before.${key}`, `unknown step "${key}" in plan ${plan.id}`)
    }
    const deps = before[key]
    if (!Array.isArray(deps)) {
      throw new ConfigError(`extension.before.${key}`, 'must be an array of step ids')
    }
  }
  const tune = extension.tune ?? {}
  for (const key of Object.keys(tune)) {
    if (!hasStep(plan, key) && extension.optional !== true) {
      throw new ConfigError(`extension.tune.${key}`, `unknown step "${key}" in plan ${plan.id}`)
    }
  }
  const steps: AnyStepSpec[] = plan.steps.map((s) => {
    const extra = before[s.id]
    const t = tune[s.id]
    let out: AnyStepSpec = s
    if (extra !== undefined && extra.length > 0) {
      out = { ...out, dependsOn: [...new Set([...s.dependsOn, ...extra])] }
    }
    if (t !== undefined) {
      out = {
        ...out,
        ...(t.timeoutMs === undefined ? {} : { timeoutMs: t.timeoutMs }),
        ...(t.retries === undefined ? {} : { retries: { ...s.retries, ...t.retries } }),
      }
    }
    return out
  })
  steps.push(...(extension.steps ?? []))
  return createPlan<R>({
    id: plan.id,
    title: extension.title ?? plan.title,
    steps,
    ...(extension.concurrency !== undefined
      ? { concurrency: extension.concurrency }
      : plan.concurrency === undefined
        ? {}
        : { concurrency: plan.concurrency }),
    ...(plan.mode === undefined ? {} : { mode: plan.mode }),
  })
}
