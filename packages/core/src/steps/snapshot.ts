/**
 * `snapshot`: a final snapshot of the old primary (runbook 001: "Creating
 * final snapshot of primary…") when it is reachable; skipped, with the
 * reason recorded, when it is not.
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
import type { Probe } from '../ports/probe.js'
import { bestEffort, builtin, checkNumber, errorMessage, formatMs, pickProbe } from './_common.js'

/** Options of {@link snapshotStep}. */
export interface SnapshotStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** The database whose old primary (in the operation's `from`) is snapshotted. */
  readonly database: Database
  /** Probe(s) of the old primary's region: when its check fails, the snapshot is skipped. */
  readonly probes?: Probe | readonly Probe[]
  /** Fail the step (instead of skipping) when the snapshot cannot be taken. Default false. */
  readonly required?: boolean
  /** Timeout of the snapshot call, in ms. Default 10 minutes. */
  readonly callTimeoutMs?: number
}

/** What {@link snapshotStep} did. */
export type SnapshotResult =
  | { readonly region: RegionId; readonly taken: true; readonly id: string }
  | { readonly region: RegionId; readonly taken: false; readonly reason: string }

/** Takes a final snapshot of the old primary (the operation's `from`), or records why not. */
export function snapshotStep<
  const Id extends string = 'snapshot',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: SnapshotStepOptions<Id, Dep, W>): StepSpec<Id, SnapshotResult, StepData, Dep, W> {
  const callTimeoutMs = options.callTimeoutMs ?? 10 * 60_000
  checkNumber(callTimeoutMs, 'callTimeoutMs', 1)
  const required = options.required === true
  const { database } = options

  return builtin(
    options,
    {
      id: 'snapshot',
      title: 'Final snapshot of the old primary',
      timeoutMs: callTimeoutMs + 60_000,
    },
    {
      async run(ctx) {
        const region = ctx.operation.from
        const skip = (reason: string): SnapshotResult => {
          if (required) {
            throw new StepError(`final snapshot of ${region} failed: ${reason}`, {
              details: { region, reason },
            })
          }
          ctx.log.warn('final snapshot skipped', { region, reason })
          return { region, taken: false, reason }
        }
        if (options.probes !== undefined) {
          const probe = pickProbe(options.probes, region)
          const sample = await bestEffort(ctx.clock, callTimeoutMs, ctx.call, (c) => probe.check(c))
          if (!sample.ok) return skip(`${region} unreachable: ${errorMessage(sample.error)}`)
          if (!sample.value.ok) {
            return skip(`${region} unreachable: ${sample.value.error ?? 'health check failed'}`)
          }
        }
        const snap = await bestEffort(ctx.clock, callTimeoutMs, ctx.call, (c) =>
          database.snapshot(region, c),
        )
        if (ctx.signal.aborted) throw ctx.signal.reason
        if (!snap.ok) return skip(`snapshot failed: ${errorMessage(snap.error)}`)
        return { region, taken: true, id: snap.value.id }
      },
      describe(ctx) {
        return [
          `take a final snapshot of ${database.name} in ${ctx.operation.from}` +
            (required
              ? ` (required; up to ${formatMs(callTimeoutMs)})`
              : ` (skipped, with the reason recorded, if unreachable within ${formatMs(callTimeoutMs)})`),
        ]
      },
    },
  )
}
