/**
 * `verify-endpoint`: probe the global endpoint until the target region
 * answers N times in a row (runbook 001: "All requests should show DR
 * region"; the region comes from `ProbeSample.servedBy`).
 *
 * @module
 */

import {
  type BaseStepOptions,
  type StepData,
  StepError,
  type StepSpec,
  type StepWhen,
} from '../plan.js'
import type { RegionId } from '../ports/context.js'
import type { Probe } from '../ports/probe.js'
import { builtin, checkNumber, formatMs } from './_common.js'

/** Options of {@link verifyEndpointStep}. */
export interface VerifyEndpointStepOptions<
  Id extends string,
  Dep extends string,
  W extends StepWhen,
> extends BaseStepOptions<Id, Dep, W> {
  /** A probe of the global endpoint that reports `servedBy`. */
  readonly probe: Probe
  /** Answers from the target in a row needed. Default 5. */
  readonly times?: number
  /** Wait between checks, in ms. Default 2 000. */
  readonly intervalMs?: number
  /** Give up after this many checks. Default 60. */
  readonly maxChecks?: number
  /** The region expected to answer. Default: the operation's `to`. */
  readonly expect?: RegionId
}

/** What {@link verifyEndpointStep} saw. */
export interface VerifyEndpointResult {
  readonly region: RegionId
  /** Checks made. */
  readonly checks: number
  /** Answers counted by the region that gave them (`unknown` when not reported, `error` when failed). */
  readonly servedBy: Readonly<Record<string, number>>
}

/** Verifies the global endpoint reports the target region `times` times in a row. */
export function verifyEndpointStep<
  const Id extends string = 'verify-endpoint',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(
  options: VerifyEndpointStepOptions<Id, Dep, W>,
): StepSpec<Id, VerifyEndpointResult, StepData, Dep, W> {
  const times = options.times ?? 5
  const intervalMs = options.intervalMs ?? 2_000
  const maxChecks = options.maxChecks ?? 60
  checkNumber(times, 'times', 1)
  checkNumber(intervalMs, 'intervalMs', 0)
  checkNumber(maxChecks, 'maxChecks', times)
  const { probe } = options

  return builtin(
    options,
    {
      id: 'verify-endpoint',
      title: 'Verify the global endpoint reports the target region',
      timeoutMs: 5 * 60_000,
    },
    {
      async run(ctx) {
        const region = options.expect ?? ctx.operation.to
        const servedBy: Record<string, number> = {}
        let streak = 0
        let last = ''
        for (let checks = 1; ; checks++) {
          const s = await probe.check(ctx.call)
          const key = !s.ok ? 'error' : (s.servedBy ?? 'unknown')
          servedBy[key] = (servedBy[key] ?? 0) + 1
          if (s.ok && s.servedBy === region) {
            streak++
            if (streak >= times) return { region, checks, servedBy }
          } else {
            streak = 0
            last = s.ok
              ? `served by ${s.servedBy ?? 'an unknown region'}`
              : `failed: ${s.error ?? 'error'}`
          }
          if (checks >= maxChecks) {
            throw new StepError(
              `${probe.name}: ${region} did not answer ${times} times in a row in ${checks} checks (last ${last})`,
              { details: { region, checks, times, servedBy, last } },
            )
          }
          await ctx.clock.sleep(intervalMs, ctx.signal)
        }
      },
      describe(ctx) {
        const region = options.expect ?? ctx.operation.to
        return [
          `probe ${probe.name} every ${formatMs(intervalMs)} until ${region} answers ${times} times in a row (at most ${maxChecks} checks)`,
        ]
      },
    },
  )
}
