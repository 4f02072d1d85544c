/**
 * Failback: gradual restoration of traffic to the home region — 10 % →
 * 50 % → 100 % by default (runbook 003) — with a health gate after each
 * stage (error rate and latency over a window, 15 minutes by default).
 *
 * A failed gate shifts that stage's traffic back at once (the stage's undo),
 * then the executor compensates the earlier stages in reverse order, so
 * all traffic returns to the region serving before the failback; the
 * failure's `details` record why (`metrics` against `thresholds`).
 *
 * @module
 */
import { ConfigError } from './errors.js'
import type { PlanResult } from './executor.js'
import type { Operation } from './machine.js'
import { type AnyStepSpec, createPlan, type Plan, type StepWhen } from './plan.js'
import type { Database } from './ports/database.js'
import type { Notifier } from './ports/notifier.js'
import type { Probe } from './ports/probe.js'
import type { Scaler } from './ports/scaler.js'
import type { TrafficRouter } from './ports/traffic-router.js'
import {
  type GateConfig,
  type GatedStageResult,
  type GateMetrics,
  type GateThresholds,
  gatedStageStep,
  resolveGate,
} from './steps/gated-stage.js'
import { type NotifyResult, notifyStep } from './steps/notify.js'
import { type PreflightResult, preflightStep } from './steps/preflight.js'
import { type ScaleResult, type ScaleStepOptions, scaleStep } from './steps/scale.js'
import { type VerifyEndpointResult, verifyEndpointStep } from './steps/verify-endpoint.js'

/** One stage of a failback. */
export interface FailbackStage {
  /** Share of traffic for the home region after this stage, in (0, 100]. */
  readonly percent: number
  /** This stage's gate (over the plan's `gate`), or `false` for none. */
  readonly gate?: Partial<GateConfig> | false
}

/** The default stages: 10 %, 50 %, 100 % (runbook 003). */
export const DEFAULT_FAILBACK_STAGES: readonly number[] = [10, 50, 100]

/** Options of {@link createFailbackPlan}. */
export interface FailbackPlanOptions {
  /** The router whose weights move. */
  readonly router: TrafficRouter
  /** Probe of the home region (or several: the one for the operation's `to`). */
  readonly probes: Probe | readonly Probe[]
  /** Stages, increasing, ending at 100. Default {@link DEFAULT_FAILBACK_STAGES}. */
  readonly stages?: readonly (number | FailbackStage)[]
  /** The gate for every stage; missing fields from `DEFAULT_GATE` (15 min, 1 %, p99 500 ms). */
  readonly gate?: Partial<GateConfig>
  /** Check the home region first (health, capacity when `scaler` is set). Default true. */
  readonly preflight?: boolean
  /**
   * When set, the preflight also checks that the home region's database
   * node is a replica of the current primary within `maxLagMs` (an old
   * primary that was never fenced, e.g. because its region was down during
   * the failover, would accept writes again: split brain). Re-seed it
   * first.
   */
  readonly database?: Database
  /** Replication lag the home region's replica may have at preflight, ms. Default 60 000. */
  readonly maxLagMs?: number
  /** When set, the home region is scaled to `scaleTo` before traffic moves. */
  readonly scaler?: Scaler
  /** Desired capacity of the home region (with `scaler`). */
  readonly scaleTo?: ScaleStepOptions<string, never, StepWhen>['desired']
  /** When set, the global endpoint must report the home region at the end. */
  readonly globalProbe?: Probe
  /** When set: initiated, progress after each stage but the last, completed. */
  readonly notifier?: Notifier
  /** The operation, for titles (plans built without one use generic titles). */
  readonly operation?: Operation
  /** The plan's id. Default `failback`. */
  readonly id?: string
}

/** Results of a failback plan by step id. */
export interface FailbackPlanResults {
  readonly 'notify-initiated'?: NotifyResult
  readonly preflight?: PreflightResult
  readonly scale?: ScaleResult
  readonly [stage: `stage-${number}`]: GatedStageResult | undefined
  readonly [progress: `notify-progress-${number}`]: NotifyResult | undefined
  readonly 'verify-endpoint'?: VerifyEndpointResult
  readonly 'notify-completed'?: NotifyResult
}

/** Validates stages: numbers or objects, percents in (0, 100], strictly increasing, ending at 100. */
export function resolveFailbackStages(
  stages: readonly (number | FailbackStage)[] = DEFAULT_FAILBACK_STAGES,
  path = 'failback.stages',
): readonly FailbackStage[] {
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new ConfigError(path, 'must be a non-empty array of stages')
  }
  let prev = 0
  return stages.map((s, i) => {
    const stage: FailbackStage = typeof s === 'number' ? { percent: s } : s
    const p = stage.percent
    if (typeof p !== 'number' || !(p > 0 && p <= 100)) {
      throw new ConfigError(`${path}[${i}].percent`, `must be in (0, 100] (got ${String(p)})`)
    }
    if (p <= prev) {
      throw new ConfigError(`${path}[${i}].percent`, `must be above the previous stage's ${prev}`)
    }
    if (i === stages.length - 1 && p !== 100) {
      throw new ConfigError(`${path}[${i}].percent`, `the last stage must be 100 (got ${p})`)
    }
    if (stage.gate !== undefined && stage.gate !== false)
      resolveGate(stage.gate, `${path}[${i}].gate`)
    prev = p
    return stage
  })
}

/**
 * The failback plan: notify initiated ∥ preflight (home healthy) → scale
 * (optional) → stage-10 → stage-50 → stage-100 (each gated) →
 * verify-endpoint (optional) → notify completed; a progress notification
 * runs alongside the next stage after each stage but the last.
 */
export function createFailbackPlan(options: FailbackPlanOptions): Plan<FailbackPlanResults> {
  const stages = resolveFailbackStages(options.stages)
  const gate = resolveGate(options.gate, 'failback.gate')
  const op = options.operation
  const home = op?.to ?? 'the home region'
  const away = op?.from ?? 'the serving region'
  const steps: AnyStepSpec[] = []
  const add = (s: AnyStepSpec): string => {
    steps.push(s)
    return s.id
  }
  let last: string[] = []
  let initiated: string | undefined
  if (options.notifier !== undefined) {
    initiated = add(
      notifyStep({ id: 'notify-initiated', notifier: options.notifier, kind: 'initiated' }),
    )
  }
  if (options.preflight !== false) {
    last = [
      add(
        preflightStep({
          id: 'preflight',
          title: `Check ${home} is healthy before failing back`,
          probes: options.probes,
          ...(options.scaler === undefined ? {} : { scaler: options.scaler }),
          ...(options.database === undefined ? {} : { database: options.database }),
          ...(options.maxLagMs === undefined ? {} : { maxLagMs: options.maxLagMs }),
        }),
      ),
    ]
  }
  if (options.scaler !== undefined && options.scaleTo !== undefined) {
    last = [
      add(
        scaleStep({
          id: 'scale',
          title: `Scale ${home} back up`,
          scaler: options.scaler,
          desired: options.scaleTo,
          dependsOn: last,
        }),
      ),
    ]
  }
  stages.forEach((stage, i) => {
    const stageGate = stage.gate === false ? false : { ...gate, ...stage.gate }
    const id = add(
      gatedStageStep({
        id: `stage-${stage.percent}`,
        title:
          stageGate === false
            ? `Shift ${stage.percent} % of traffic from ${away} to ${home}`
            : `Shift ${stage.percent} % of traffic from ${away} to ${home}, then watch it for ${Math.round(stageGate.windowMs / 60_000)} min`,
        router: options.router,
        probes: options.probes,
        percent: stage.percent,
        gate: stageGate,
        dependsOn: last,
      }),
    )
    last = [id]
    if (options.notifier !== undefined && i < stages.length - 1) {
      add(
        notifyStep({
          id: `notify-progress-${stage.percent}`,
          title: `Notify: ${stage.percent} % restored`,
          notifier: options.notifier,
          kind: 'progress',
          dependsOn: [id],
        }),
      )
    }
  })
  if (options.globalProbe !== undefined) {
    last = [
      add(
        verifyEndpointStep({
          id: 'verify-endpoint',
          title: `Verify the global endpoint reports ${home}`,
          probe: options.globalProbe,
          dependsOn: last,
        }),
      ),
    ]
  }
  if (options.notifier !== undefined) {
    add(
      notifyStep({
        id: 'notify-completed',
        notifier: options.notifier,
        kind: 'completed',
        dependsOn: [...last, ...(initiated === undefined ? [] : [initiated])],
      }),
    )
  }
  return createPlan<FailbackPlanResults>({
    id: options.id ?? 'failback',
    title: op === undefined ? 'Gradual failback' : `Gradual failback ${away} → ${home}`,
    steps,
    mode: 'graceful',
  })
}

/** One stage's outcome, for the `failback.completed` receipt and reports. */
export interface FailbackStageOutcome {
  readonly percent: number
  /** The gate passed (the stage may have been compensated later). */
  readonly ok: boolean
  readonly metrics?: GateMetrics
  readonly thresholds?: GateThresholds
  /** Why the gate (or the stage) failed. */
  readonly reasons?: readonly string[]
}

const STAGE_ID = /^stage-(\d+(?:\.\d+)?)$/

/** The stages a failback run reached, in order, with their measurements. */
export function failbackStages(result: PlanResult<unknown>): readonly FailbackStageOutcome[] {
  const out: FailbackStageOutcome[] = []
  for (const s of result.steps) {
    const m = STAGE_ID.exec(s.id)
    if (m === null || s.attempts === 0) continue
    const percent = Number(m[1])
    const passed =
      s.status === 'succeeded' || s.status === 'compensated' || s.status === 'compensation-failed'
    const gate = (s.result as GatedStageResult | undefined)?.gate
    const details = s.details as
      | { metrics?: GateMetrics; thresholds?: GateThresholds; reasons?: readonly string[] }
      | undefined
    const metrics = gate?.metrics ?? details?.metrics
    const thresholds = gate?.thresholds ?? details?.thresholds
    const reasons = passed
      ? undefined
      : (details?.reasons ?? (s.error === undefined ? undefined : [s.error]))
    out.push({
      percent,
      ok: passed,
      ...(metrics === undefined ? {} : { metrics }),
      ...(thresholds === undefined ? {} : { thresholds }),
      ...(reasons === undefined ? {} : { reasons }),
    })
  }
  return out
}
