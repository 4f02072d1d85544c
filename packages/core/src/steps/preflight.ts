/**
 * `preflight`: before anything changes, check the target region can take
 * over — healthy (Probe), capacity ready (Scaler), replication lag within
 * the limit (Database; runbook 001 aborts above 60 s unless data loss is
 * accepted).
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
import type { Probe, ProbeSample } from '../ports/probe.js'
import type { Capacity, Scaler } from '../ports/scaler.js'
import { builtin, checkNumber, errorMessage, formatMs, pickProbe } from './_common.js'

/** Options of {@link preflightStep}. */
export interface PreflightStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  /** Probe of the target region (or several: the one for the operation's `to` is used). */
  readonly probes: Probe | readonly Probe[]
  /** Checks that must pass in a row. Default 1. */
  readonly samples?: number
  /** Wait between checks, in ms. Default 5 000. */
  readonly sampleIntervalMs?: number
  /** When set, the target must have at least `minReady` instances ready. */
  readonly scaler?: Scaler
  /** Ready instances the target needs. Default 1. */
  readonly minReady?: number
  /** When set, the target replica's replication lag must be within `maxLagMs`. */
  readonly database?: Database
  /** The lag limit, in ms. Default 60 000 (runbook 001). */
  readonly maxLagMs?: number
  /**
   * Proceed even when the lag is above the limit (or cannot be read): an
   * audited override, recorded as `lag.overridden: true` in the result.
   */
  readonly allowDataLoss?: boolean
}

/** What {@link preflightStep} found. */
export interface PreflightResult {
  /** The target region. */
  readonly region: RegionId
  /** The health checks: all passed. */
  readonly health: { readonly probe: string; readonly samples: number; readonly latencyMs: number }
  /** Capacity of the target, when a scaler was given. */
  readonly capacity?: Capacity & { readonly minReady: number }
  /** Replication lag, when a database was given. */
  readonly lag?: {
    readonly lagMs: number | null
    readonly limitMs: number
    readonly withinLimit: boolean
    /** True when `allowDataLoss` let a lag above the limit (or unknown) pass. */
    readonly overridden: boolean
    readonly error?: string
  }
}

/**
 * Checks the target region (the operation's `to`) before anything changes.
 * Fails with every problem found (in `details.problems`), e.g.
 * `replication lag 75 s is above the 60 s limit`.
 */
export function preflightStep<
  const Id extends string = 'preflight',
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: PreflightStepOptions<Id, Dep, W>): StepSpec<Id, PreflightResult, StepData, Dep, W> {
  const samples = options.samples ?? 1
  const intervalMs = options.sampleIntervalMs ?? 5_000
  const minReady = options.minReady ?? 1
  const maxLagMs = options.maxLagMs ?? 60_000
  checkNumber(samples, 'samples', 1)
  checkNumber(intervalMs, 'sampleIntervalMs', 0)
  checkNumber(minReady, 'minReady', 0)
  checkNumber(maxLagMs, 'maxLagMs', 0)
  const allowDataLoss = options.allowDataLoss === true

  return builtin(
    options,
    { id: 'preflight', title: 'Preflight checks of the target region', timeoutMs: 2 * 60_000 },
    {
      async run(ctx) {
        const region = ctx.operation.to
        const probe = pickProbe(options.probes, region)
        const problems: string[] = []
        const details: Record<string, unknown> = { region }

        // Health: `samples` passing checks in a row.
        let latency = 0
        let last: ProbeSample | undefined
        for (let i = 0; i < samples; i++) {
          if (i > 0) await ctx.clock.sleep(intervalMs, ctx.signal)
          last = await probe.check(ctx.call)
          latency = Math.max(latency, last.latencyMs)
          if (!last.ok) break
        }
        const healthy = last?.ok === true
        if (!healthy) {
          problems.push(`${region} is unhealthy (${probe.name}: ${last?.error ?? 'check failed'})`)
          details.health = { ok: false, error: last?.error ?? null }
        }

        let capacity: PreflightResult['capacity']
        if (options.scaler !== undefined) {
          const c = await options.scaler.capacity(region, ctx.call)
          capacity = { desired: c.desired, ready: c.ready, minReady }
          if (c.ready < minReady) {
            problems.push(`${region} has ${c.ready} ready instances, needs ${minReady}`)
            details.capacity = capacity
          }
        }

        let lag: PreflightResult['lag']
        if (options.database !== undefined) {
          let lagMs: number | null = null
          let error: string | undefined
          try {
            lagMs = (await options.database.replicationLag(region, ctx.call)).lagMs
          } catch (e) {
            if (ctx.signal.aborted) throw e
            error = errorMessage(e)
          }
          const withinLimit = lagMs !== null && lagMs <= maxLagMs
          const overridden = !withinLimit && allowDataLoss
          lag = {
            lagMs,
            limitMs: maxLagMs,
            withinLimit,
            overridden,
            ...(error === undefined ? {} : { error }),
          }
          if (!withinLimit && !allowDataLoss) {
            problems.push(
              lagMs === null
                ? `replication lag of ${region} is unknown (${error}); refusing without allowDataLoss`
                : `replication lag ${formatMs(lagMs)} is above the ${formatMs(maxLagMs)} limit`,
            )
            details.lag = lag
          }
          if (overridden) {
            ctx.log.warn('replication lag above the limit: proceeding (allowDataLoss)', { lag })
          }
        }

        if (problems.length > 0) {
          throw new StepError(`preflight failed for ${region}: ${problems.join('; ')}`, {
            details: { ...details, problems },
          })
        }
        return {
          region,
          health: { probe: probe.name, samples, latencyMs: latency },
          ...(capacity === undefined ? {} : { capacity }),
          ...(lag === undefined ? {} : { lag }),
        }
      },
      describe(ctx) {
        const region = ctx.operation.to
        const lines = [
          `check ${region} is healthy: ${samples} passing check${samples === 1 ? '' : 's'} of ${pickProbe(options.probes, region).name}`,
        ]
        if (options.scaler !== undefined) {
          lines.push(`check ${options.scaler.name} has ≥ ${minReady} ready in ${region}`)
        }
        if (options.database !== undefined) {
          lines.push(
            `check replication lag of ${options.database.name} in ${region} ≤ ${formatMs(maxLagMs)}` +
              (allowDataLoss ? ' (allowDataLoss: proceed above it, audited)' : ' (abort above it)'),
          )
        }
        return lines
      },
    },
  )
}
