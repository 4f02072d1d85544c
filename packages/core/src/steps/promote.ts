/**
 * `promote`: promote the replica in the target region to primary. Graceful
 * (switchover) waits until replication lag is 0 first — zero data loss;
 * ungraceful (failover) promotes at once, recording the lag it had.
 *
 * There is no compensation: a promoted replica cannot be demoted by the
 * `Database` port; a rollback moves traffic back and leaves the database
 * decision to operators (see the rollback plan).
 *
 * @module
 */

import type { BaseStepOptions, StepData, StepSpec, StepWhen } from '../plan.js'
import type { RegionId } from '../ports/context.js'
import type { Database } from '../ports/database.js'
import { bestEffort, builtin, checkNumber, formatMs } from './_common.js'

/** Options of {@link promoteStep}. */
export interface PromoteStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The database whose replica in the operation's `to` is promoted. */
  readonly database: Database
  /** Graceful (wait for lag 0) or not. Default: the plan run's mode. */
  readonly graceful?: boolean
  /** How often to read the lag while waiting for 0, in ms. Default 1 000. */
  readonly lagPollMs?: number
}

/** What {@link promoteStep} did. */
export interface PromoteResult {
  /** The new primary's region. */
  readonly region: RegionId
  readonly graceful: boolean
  /** When the promotion completed (epoch ms, from the database). */
  readonly promotedAt: number
  /** Replication lag when the promotion started (ms; `null` if unknown). */
  readonly lagMsAtPromotion: number | null
  /** Data the database knows was lost. */
  readonly lost?: { readonly ms?: number; readonly transactions?: number }
  /** How long the wait for lag 0 took (graceful), in ms. */
  readonly waitedMs: number
}

/** Promotes the replica in the operation's `to`; `verify` checks it is the primary now. */
export function promoteStep<
  const Id extends string = 'promote',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: PromoteStepOptions<Id, Dep, W>): StepSpec<Id, PromoteResult, StepData, Dep, W> {
  const lagPollMs = options.lagPollMs ?? 1_000
  checkNumber(lagPollMs, 'lagPollMs', 1)
  const { database } = options

  return builtin(
    options,
    { id: 'promote', title: 'Promote the replica in the target region', timeoutMs: 15 * 60_000 },
    {
      async run(ctx) {
        const region = ctx.operation.to
        const graceful = options.graceful ?? ctx.mode === 'graceful'
        const t0 = ctx.clock.now()
        let lagMs: number | null = null
        if (graceful) {
          for (;;) {
            lagMs = (await database.replicationLag(region, ctx.call)).lagMs
            if (lagMs === 0) break
            ctx.log.info('waiting for replication lag 0 before a graceful promotion', { lagMs })
            await ctx.clock.sleep(lagPollMs, ctx.signal)
          }
        } else {
          const lag = await bestEffort(ctx.clock, 5_000, ctx.call, (c) =>
            database.replicationLag(region, c),
          )
          if (lag.ok) lagMs = lag.value.lagMs
        }
        const waitedMs = ctx.clock.now() - t0
        const p = await database.promote(region, { graceful }, ctx.call)
        return {
          region: p.region,
          graceful,
          promotedAt: p.promotedAt,
          lagMsAtPromotion: lagMs,
          waitedMs,
          ...(p.lost === undefined ? {} : { lost: p.lost }),
        }
      },
      async verify(ctx, result) {
        const primary = await database.primaryRegion(ctx.call)
        return primary === ctx.operation.to && result.region === ctx.operation.to
          ? true
          : `the primary is in ${primary}, not ${ctx.operation.to}`
      },
      describe(ctx) {
        const graceful = options.graceful ?? ctx.mode === 'graceful'
        const region = ctx.operation.to
        return graceful
          ? [
              `wait until replication lag of ${database.name} in ${region} is 0 (read every ${formatMs(lagPollMs)})`,
              `promote the replica in ${region} (graceful switchover: zero data loss)`,
              `verify ${region} holds the primary`,
            ]
          : [
              `promote the replica of ${database.name} in ${region} now (ungraceful: writes not yet replicated are lost)`,
              `verify ${region} holds the primary`,
            ]
      },
    },
  )
}
