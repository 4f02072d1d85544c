/**
 * `verify-writes`: write and read back a probe row on the new primary
 * (runbook 000: "perform a small, controlled write operation").
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
import type { Database } from '../ports/database.js'
import { builtin, checkNumber } from './_common.js'

/** Options of {@link verifyWritesStep}. */
export interface VerifyWritesStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The database whose primary in the operation's `to` is checked. */
  readonly database: Database
  /** Fail when the write + read back takes longer, in ms. Default: no limit. */
  readonly maxLatencyMs?: number
}

/** What {@link verifyWritesStep} measured. */
export interface VerifyWritesResult {
  readonly region: RegionId
  readonly latencyMs: number
}

/** Checks the new primary (the operation's `to`) accepts writes; retried 3 times by default. */
export function verifyWritesStep<
  const Id extends string = 'verify-writes',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(
  options: VerifyWritesStepOptions<Id, Dep, W>,
): StepSpec<Id, VerifyWritesResult, StepData, Dep, W> {
  checkNumber(options.maxLatencyMs, 'maxLatencyMs', 0)
  const { database } = options
  return builtin(
    options,
    {
      id: 'verify-writes',
      title: 'Verify the new primary accepts writes',
      timeoutMs: 60_000,
      retries: { max: 3, backoffMs: 2_000, factor: 2 },
    },
    {
      async run(ctx) {
        const region = ctx.operation.to
        const r = await database.verifyWrites(region, ctx.call)
        if (!r.ok) {
          throw new StepError(`writes to ${region} failed: ${r.error ?? 'unknown error'}`, {
            details: { region, latencyMs: r.latencyMs, error: r.error ?? null },
          })
        }
        if (options.maxLatencyMs !== undefined && r.latencyMs > options.maxLatencyMs) {
          throw new StepError(
            `writes to ${region} took ${r.latencyMs} ms, above the ${options.maxLatencyMs} ms limit`,
            { details: { region, latencyMs: r.latencyMs, maxLatencyMs: options.maxLatencyMs } },
          )
        }
        return { region, latencyMs: r.latencyMs }
      },
      describe(ctx) {
        return [`write and read back a probe row on ${database.name} in ${ctx.operation.to}`]
      },
    },
  )
}
