/**
 * `fence`: stop the old primary from accepting writes when it is reachable.
 * An unreachable primary is not an error in an ungraceful failover: the
 * fencing epoch protects writes (adapters refuse stale epochs).
 *
 * There is no compensation: the `Database` port has no "unfence". If a
 * later step fails, the old primary stays read-only until an operator (or
 * a rollback that promotes it again) restores it.
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
import { bestEffort, builtin, checkNumber, errorMessage, formatMs } from './_common.js'

/** Options of {@link fenceStep}. */
export interface FenceStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The database whose old primary (in the operation's `from`) is fenced. */
  readonly database: Database
  /**
   * Fail when the old primary cannot be reached. Default: in graceful mode
   * (a switchover needs it), not in ungraceful mode (it is presumed down).
   */
  readonly requireReachable?: boolean
  /** Timeout of the fence call, in ms. Default 60 000. */
  readonly callTimeoutMs?: number
}

/** What {@link fenceStep} did. */
export interface FenceResult {
  readonly region: RegionId
  readonly fenced: boolean
  readonly reachable: boolean
  /** Why it was not fenced. */
  readonly reason?: string
}

/**
 * Fences the old primary (the operation's `from`). Fails when it is
 * reachable but will not be fenced (two writable primaries would follow).
 */
export function fenceStep<
  const Id extends string = 'fence',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: FenceStepOptions<Id, Dep, W>): StepSpec<Id, FenceResult, StepData, Dep, W> {
  const callTimeoutMs = options.callTimeoutMs ?? 60_000
  checkNumber(callTimeoutMs, 'callTimeoutMs', 1)
  const { database } = options

  return builtin(
    options,
    {
      id: 'fence',
      title: 'Fence the old primary',
      timeoutMs: callTimeoutMs + 30_000,
      retries: { max: 2, backoffMs: 2_000 },
    },
    {
      async run(ctx) {
        const region = ctx.operation.from
        const requireReachable = options.requireReachable ?? ctx.mode === 'graceful'
        const out = await bestEffort(ctx.clock, callTimeoutMs, ctx.call, (c) =>
          database.fence(region, c),
        )
        if (ctx.signal.aborted) throw ctx.signal.reason
        const unreachable = (reason: string): FenceResult => {
          if (requireReachable) {
            throw new StepError(`cannot fence the old primary in ${region}: ${reason}`, {
              details: { region, reason },
            })
          }
          ctx.log.warn('old primary not fenced; the fencing epoch protects writes', {
            region,
            reason,
          })
          return { region, fenced: false, reachable: false, reason }
        }
        if (!out.ok) return unreachable(`fence failed: ${errorMessage(out.error)}`)
        const { fenced, reachable } = out.value
        if (!reachable) return unreachable('old primary unreachable')
        if (!fenced) {
          throw new StepError(`old primary in ${region} is reachable but was not fenced`, {
            details: { region, reachable, fenced },
          })
        }
        return { region, fenced: true, reachable: true }
      },
      describe(ctx) {
        const strict = options.requireReachable ?? ctx.mode === 'graceful'
        return [
          `fence the old primary of ${database.name} in ${ctx.operation.from} (stop writes)` +
            (strict
              ? `; fail if unreachable within ${formatMs(callTimeoutMs)}`
              : '; if unreachable, record it and rely on the fencing epoch'),
        ]
      },
    },
  )
}
