/**
 * `scale`: set a region's desired capacity and wait until it is ready
 * (runbook 003: "Scale EU-West-1", runbook 001: "Scale Up DR Resources");
 * `compensate` sets the previous desired capacity back.
 *
 * @module
 */
import type { Clock } from '../clock.js'
import type { Operation } from '../machine.js'
import type { BaseStepOptions, StepData, StepSpec, StepWhen } from '../plan.js'
import type { CallContext, RegionId } from '../ports/context.js'
import type { Capacity, Scaler } from '../ports/scaler.js'
import { builtin, checkNumber, errorMessage } from './_common.js'

/** What a capacity function of {@link ScaleStepOptions} gets. */
export interface DesiredCapacityInput {
  readonly operation: Operation
  /** The region being scaled. */
  readonly region: RegionId
  /** Its capacity now. */
  readonly current: Capacity
  /** For read-only port calls (e.g. the capacity of the other region). */
  readonly call: CallContext
  /** The executor's clock (for timeouts of such calls). */
  readonly clock: Clock
}

/** Options of {@link scaleStep}. */
export interface ScaleStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The scaler. */
  readonly scaler: Scaler
  /** Which region of the operation to scale. Default `to` (the target). */
  readonly region?: 'to' | 'from'
  /** The desired capacity, or a function computing it. */
  readonly desired: number | ((input: DesiredCapacityInput) => number | Promise<number>)
  /** Ready instances to wait for. Default: the desired capacity. */
  readonly waitForReady?: number
}

/** What {@link scaleStep} did. */
export interface ScaleResult {
  readonly region: RegionId
  /** Desired capacity before (restored by `compensate`). */
  readonly previousDesired: number
  readonly desired: number
  /** Ready instances once the wait ended. */
  readonly ready: number
}

/** Scales a region and waits until it is ready; scales back on compensation. */
export function scaleStep<
  const Id extends string = 'scale',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: ScaleStepOptions<Id, Dep, W>): StepSpec<Id, ScaleResult, StepData, Dep, W> {
  const { scaler } = options
  if (typeof options.desired === 'number') checkNumber(options.desired, 'desired', 0)
  checkNumber(options.waitForReady, 'waitForReady', 0)
  const regionOf = (op: Operation): RegionId => (options.region === 'from' ? op.from : op.to)
  const desiredFor = async (input: DesiredCapacityInput): Promise<number> => {
    const d = options.desired
    const n = typeof d === 'number' ? d : await d(input)
    checkNumber(n, 'desired', 0)
    return Math.round(n)
  }

  return builtin(
    options,
    {
      id: 'scale',
      title: 'Scale the target region',
      timeoutMs: 10 * 60_000,
      retries: { max: 1, backoffMs: 5_000 },
    },
    {
      async run(ctx) {
        const region = regionOf(ctx.operation)
        const current = await scaler.capacity(region, ctx.call)
        const desired = await desiredFor({
          operation: ctx.operation,
          region,
          current,
          call: ctx.call,
          clock: ctx.clock,
        })
        if (desired !== current.desired) {
          await scaler.scale(region, desired, ctx.call)
          ctx.onFailure((call) => scaler.scale(region, current.desired, call))
        }
        const ready = await scaler.waitReady(region, options.waitForReady ?? desired, ctx.call)
        return { region, previousDesired: current.desired, desired, ready: ready.ready }
      },
      async compensate(ctx, result) {
        if (result.desired !== result.previousDesired) {
          await scaler.scale(result.region, result.previousDesired, ctx.call)
        }
      },
      async describe(ctx) {
        const region = regionOf(ctx.operation)
        let n: string
        try {
          const current = await scaler.capacity(region, ctx.call)
          n = String(
            await desiredFor({
              operation: ctx.operation,
              region,
              current,
              call: ctx.call,
              clock: ctx.clock,
            }),
          )
        } catch (error) {
          n = `a capacity computed at run time (${errorMessage(error)})`
        }
        const wait = options.waitForReady === undefined ? 'all' : String(options.waitForReady)
        return [`scale ${scaler.name} in ${region} to ${n}; wait until ${wait} are ready`]
      },
    },
  )
}
