/**
 * `gated-stage`: shift X % of traffic to the target, then hold a health
 * gate over a window — error rate and latency from Probe samples taken on
 * the clock (runbook 003: "Wait 15 minutes, monitor error rates"; runbook
 * 001: error rate < 1 %, latency < 500 ms). A failed gate shifts the
 * traffic back to where it was before this stage and fails the step with
 * the measured values against the thresholds.
 *
 * @module
 */
import { ConfigError } from '../errors.js'
import type { Operation } from '../machine.js'
import {
  type BaseStepOptions,
  type StepData,
  StepError,
  type StepSpec,
  type StepWhen,
} from '../plan.js'
import type { Probe, ProbeSample } from '../ports/probe.js'
import type { TrafficRouter, Weights } from '../ports/traffic-router.js'
import {
  builtin,
  checkNumber,
  formatMs,
  formatWeights,
  pickProbe,
  splitWeights,
} from './_common.js'

/** Thresholds of a health gate. */
export interface GateThresholds {
  /** Highest acceptable error rate, 0–1. Default 0.01 (1 %). */
  readonly maxErrorRate: number
  /** Highest acceptable latency at `latencyPercentile`, in ms. Default 500. */
  readonly maxLatencyMs: number
  /** The latency percentile judged, 0–1. Default 0.99. */
  readonly latencyPercentile: number
  /** Fewest samples for a verdict. Default 1. */
  readonly minSamples: number
}

/** A health gate: thresholds and the window they are judged over. */
export interface GateConfig extends GateThresholds {
  /** How long to watch, in ms. Default 15 minutes. */
  readonly windowMs: number
  /** Wait between samples, in ms. Default 30 s. */
  readonly sampleIntervalMs: number
}

/** The default gate (runbooks 001 and 003). */
export const DEFAULT_GATE: GateConfig = {
  maxErrorRate: 0.01,
  maxLatencyMs: 500,
  latencyPercentile: 0.99,
  minSamples: 1,
  windowMs: 15 * 60_000,
  sampleIntervalMs: 30_000,
}

/** What a gate measured. */
export interface GateMetrics {
  readonly samples: number
  readonly failedSamples: number
  /** Requests and errors reported by the samples (0 when none reported). */
  readonly requests: number
  readonly errors: number
  /**
   * The worse of `errors / requests` (when samples report requests) and
   * failed samples / samples: a stage that gets little traffic is still
   * judged by its failing probes.
   */
  readonly errorRate: number
  /** Latency at the percentile, in ms (nearest rank). */
  readonly latencyMs: number
  readonly latencyPercentile: number
}

/** A gate's verdict. */
export interface GateVerdict {
  readonly ok: boolean
  readonly metrics: GateMetrics
  readonly thresholds: GateThresholds
  /** Why it failed (empty when ok), e.g. `error rate 3.2 % > 1 %`. */
  readonly reasons: readonly string[]
}

/** Resolves a partial gate config against {@link DEFAULT_GATE}, checking every field. */
export function resolveGate(gate: Partial<GateConfig> = {}, path = 'gate'): GateConfig {
  const g = { ...DEFAULT_GATE, ...gate }
  checkNumber(g.maxErrorRate, `${path}.maxErrorRate`, 0, 1)
  checkNumber(g.maxLatencyMs, `${path}.maxLatencyMs`, 0)
  checkNumber(g.latencyPercentile, `${path}.latencyPercentile`, 0, 1)
  checkNumber(g.minSamples, `${path}.minSamples`, 1)
  checkNumber(g.windowMs, `${path}.windowMs`, 0)
  checkNumber(g.sampleIntervalMs, `${path}.sampleIntervalMs`, 1)
  return g
}

const pct = (x: number): string => `${+(x * 100).toFixed(2)} %`

/** Judges `samples` against `thresholds` (pure). */
export function evaluateGate(
  samples: readonly ProbeSample[],
  thresholds: GateThresholds,
): GateVerdict {
  let requests = 0
  let errors = 0
  let failedSamples = 0
  for (const s of samples) {
    if (!s.ok) failedSamples++
    if (s.requests !== undefined) {
      requests += s.requests.total
      errors += s.requests.errors
    }
  }
  // The worse of the two signals: a region given 10 % of a quiet service's
  // traffic may see three requests in a window while its probes fail.
  const errorRate = Math.max(
    requests > 0 ? errors / requests : 0,
    samples.length > 0 ? failedSamples / samples.length : 0,
  )
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil(thresholds.latencyPercentile * latencies.length))
  const latencyMs = latencies.length > 0 ? latencies[rank - 1]! : 0
  const metrics: GateMetrics = {
    samples: samples.length,
    failedSamples,
    requests,
    errors,
    errorRate,
    latencyMs,
    latencyPercentile: thresholds.latencyPercentile,
  }
  const reasons: string[] = []
  if (samples.length < thresholds.minSamples) {
    reasons.push(`${samples.length} samples < ${thresholds.minSamples} needed`)
  }
  if (errorRate > thresholds.maxErrorRate) {
    reasons.push(`error rate ${pct(errorRate)} > ${pct(thresholds.maxErrorRate)}`)
  }
  if (latencyMs > thresholds.maxLatencyMs) {
    const p = `p${+(thresholds.latencyPercentile * 100).toFixed(1)}`
    reasons.push(`${p} latency ${latencyMs} ms > ${thresholds.maxLatencyMs} ms`)
  }
  return {
    ok: reasons.length === 0,
    metrics,
    thresholds: {
      maxErrorRate: thresholds.maxErrorRate,
      maxLatencyMs: thresholds.maxLatencyMs,
      latencyPercentile: thresholds.latencyPercentile,
      minSamples: thresholds.minSamples,
    },
    reasons,
  }
}

/** Options of {@link gatedStageStep}. */
export interface GatedStageStepOptions<Id extends string, Dep extends string, W extends StepWhen>
  extends BaseStepOptions<Id, Dep, W> {
  readonly router: TrafficRouter
  /** Probe of the target region (or several: the one for the operation's `to`). */
  readonly probes: Probe | readonly Probe[]
  /** Share of traffic for the target, in (0, 100]. */
  readonly percent: number
  /** The gate; missing fields from {@link DEFAULT_GATE}. `false`: no gate (shift only). */
  readonly gate?: Partial<GateConfig> | false
  /** The weights for the stage. Default: `percent` to `to`, the rest to `from`. */
  readonly weights?: (operation: Operation, percent: number, current: Weights) => Weights
}

/** What a passed {@link gatedStageStep} did and measured. */
export interface GatedStageResult {
  readonly percent: number
  /** Weights before this stage (restored by `compensate`). */
  readonly previous: Weights
  readonly weights: Weights
  readonly changeId: string
  /** The gate's verdict (absent when the stage has no gate). */
  readonly gate?: GateVerdict
}

/**
 * Shifts `percent` % of traffic to the target, waits until in sync, then
 * samples the target's probe every `sampleIntervalMs` for `windowMs`. A
 * failed gate restores this stage's previous weights and fails the step
 * (not retried) with `details` = `{ percent, metrics, thresholds, reasons }`.
 */
export function gatedStageStep<
  const Id extends string = `stage-${number}`,
  const Dep extends string = never,
  const W extends StepWhen = 'always',
>(options: GatedStageStepOptions<Id, Dep, W>): StepSpec<Id, GatedStageResult, StepData, Dep, W> {
  const { router, percent } = options
  if (typeof percent !== 'number' || !(percent > 0 && percent <= 100)) {
    throw new ConfigError('percent', `must be a number in (0, 100] (got ${String(percent)})`)
  }
  const gate = options.gate === false ? undefined : resolveGate(options.gate)
  const weightsFor = (op: Operation, current: Weights): Weights =>
    options.weights?.(op, percent, current) ?? splitWeights(op.from, op.to, percent)

  return builtin(
    options,
    {
      id: `stage-${percent}`,
      title: `Shift ${percent} % of traffic to the target and watch it`,
      timeoutMs: (gate?.windowMs ?? 0) + 15 * 60_000,
      retries: { max: 0 },
    },
    {
      async run(ctx) {
        const op = ctx.operation
        const previous = await router.getWeights(ctx.call)
        const weights = weightsFor(op, previous)
        const change = await router.setWeights(weights, ctx.call)
        ctx.onFailure(async (call) => {
          const back = await router.setWeights(previous, call)
          await router.waitInSync(back, call)
        })
        await router.waitInSync(change, ctx.call)
        const base = { percent, previous, weights, changeId: change.id }
        if (gate === undefined) return base

        const probe = pickProbe(options.probes, op.to)
        const samples: ProbeSample[] = []
        const count = Math.max(1, Math.floor(gate.windowMs / gate.sampleIntervalMs))
        for (let i = 0; i < count; i++) {
          await ctx.clock.sleep(gate.sampleIntervalMs, ctx.signal)
          await ctx.assertLease()
          samples.push(await probe.check(ctx.call))
        }
        const verdict = evaluateGate(samples, gate)
        if (!verdict.ok) {
          throw new StepError(
            `health gate failed at ${percent} % to ${op.to}: ${verdict.reasons.join('; ')}`,
            {
              retryable: false,
              details: {
                percent,
                region: op.to,
                metrics: verdict.metrics,
                thresholds: verdict.thresholds,
                reasons: verdict.reasons,
                restoreTo: previous,
              },
            },
          )
        }
        return { ...base, gate: verdict }
      },
      async compensate(ctx, result) {
        const change = await router.setWeights(result.previous, ctx.call)
        await router.waitInSync(change, ctx.call)
      },
      async describe(ctx) {
        const weights = weightsFor(
          ctx.operation,
          options.weights === undefined ? {} : await router.getWeights(ctx.call),
        )
        const lines = [...(await router.describe(weights)), `wait until ${router.name} is in sync`]
        if (gate !== undefined) {
          const probe = pickProbe(options.probes, ctx.operation.to)
          lines.push(
            `gate: sample ${probe.name} every ${formatMs(gate.sampleIntervalMs)} for ${formatMs(gate.windowMs)}; ` +
              `pass if error rate ≤ ${pct(gate.maxErrorRate)} and p${+(gate.latencyPercentile * 100).toFixed(1)} latency ≤ ${gate.maxLatencyMs} ms`,
            `on a failed gate: shift traffic back to the weights before this stage (${percent} % → previous)`,
          )
        } else {
          lines.push(`no health gate (weights ${formatWeights(weights)})`)
        }
        return lines
      },
    },
  )
}
