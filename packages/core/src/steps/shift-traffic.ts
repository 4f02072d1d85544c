/**
 * `shift-traffic`: set new traffic weights (Route 53 weighted records, a
 * load balancer's backends) and wait until the change is in sync. `verify`
 * reads the weights back; `compensate` restores the previous ones.
 *
 * @module
 */
import type { Operation } from '../machine.js'
import type { BaseStepOptions, StepData, StepSpec, StepWhen } from '../plan.js'
import type { TrafficRouter, Weights } from '../ports/traffic-router.js'
import { builtin, formatWeights, sameWeights } from './_common.js'

/** Options of {@link shiftTrafficStep}. */
export interface ShiftTrafficStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The router. */
  readonly router: TrafficRouter
  /**
   * The weights to set, or a function of the operation and the current
   * weights. Default: everything to the operation's `to`
   * (`{ [from]: 0, [to]: 100 }`).
   */
  readonly weights?: Weights | ((operation: Operation, current: Weights) => Weights)
}

/** What {@link shiftTrafficStep} did. */
export interface ShiftTrafficResult {
  /** The weights before (restored by `compensate`). */
  readonly previous: Weights
  /** The weights set. */
  readonly weights: Weights
  /** The router's change id. */
  readonly changeId: string
}

/** The weights sending all traffic to the operation's `to`. */
export function allTrafficTo(operation: Operation): Weights {
  return { [operation.from]: 0, [operation.to]: 100 }
}

/** Shifts traffic and waits until the change is in sync; restores the previous weights on compensation. */
export function shiftTrafficStep<
  const Id extends string = 'shift-traffic',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(
  options: ShiftTrafficStepOptions<Id, Dep, W>,
): StepSpec<Id, ShiftTrafficResult, StepData, Dep, W> {
  const { router } = options
  const target = (operation: Operation, current: Weights): Weights => {
    const w = options.weights
    if (w === undefined) return allTrafficTo(operation)
    return typeof w === 'function' ? w(operation, current) : w
  }

  return builtin(
    options,
    {
      id: 'shift-traffic',
      title: 'Shift traffic to the target region',
      timeoutMs: 10 * 60_000,
      retries: { max: 2, backoffMs: 5_000, factor: 2 },
    },
    {
      async run(ctx) {
        const previous = await router.getWeights(ctx.call)
        const weights = target(ctx.operation, previous)
        const change = await router.setWeights(weights, ctx.call)
        // If the wait or the verification fails, put the previous weights back.
        ctx.onFailure(async (call) => {
          const undo = await router.setWeights(previous, call)
          await router.waitInSync(undo, call)
        })
        await router.waitInSync(change, ctx.call)
        return { previous, weights, changeId: change.id }
      },
      async verify(ctx, result) {
        const now = await router.getWeights(ctx.call)
        return sameWeights(now, result.weights)
          ? true
          : `weights are ${formatWeights(now)}, expected ${formatWeights(result.weights)}`
      },
      async compensate(ctx, result) {
        const change = await router.setWeights(result.previous, ctx.call)
        await router.waitInSync(change, ctx.call)
      },
      async describe(ctx) {
        const current =
          typeof options.weights === 'function' ? await router.getWeights(ctx.call) : {}
        const weights = target(ctx.operation, current)
        return [...(await router.describe(weights)), `wait until ${router.name} is in sync`]
      },
    },
  )
}
