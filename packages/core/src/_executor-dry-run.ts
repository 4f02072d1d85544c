/**
 * Dry runs of plans: what each step would do, calling no `run`. Exported
 * through `executor.ts`.
 *
 * @module
 */
import { messageOf } from './_executor-run.js'
import type { Clock } from './clock.js'
import type { DryRunReport, DryRunStep, RunOptions } from './executor.js'
import { type DescribeContext, type Plan, planWaves, stepRunsIn } from './plan.js'

/** What `plan` would do (see `Executor.dryRun`). */
export async function dryRunPlan(
  plan: Plan<unknown>,
  options: Omit<RunOptions, 'concurrency'>,
  clock: Clock,
): Promise<DryRunReport> {
  const mode = options.mode ?? plan.mode ?? 'graceful'
  const signal = options.signal ?? new AbortController().signal
  const ctx: DescribeContext = {
    operation: options.operation,
    mode,
    epoch: options.epoch,
    clock,
    signal,
    call: { epoch: options.epoch, signal },
  }
  const waves = planWaves(plan)
  const waveOf = new Map<string, number>()
  waves.forEach((ids, w) => {
    for (const id of ids) waveOf.set(id, w)
  })
  const steps: DryRunStep[] = []
  for (const step of plan.steps) {
    const selected = stepRunsIn(step, mode)
    const base = {
      id: step.id,
      title: step.title,
      dependsOn: step.dependsOn,
      when: step.when,
      selected,
      wave: waveOf.get(step.id) ?? 0,
      timeoutMs: step.timeoutMs,
      retries: step.retries.max,
      compensable: step.compensate !== undefined,
    }
    if (!selected) {
      steps.push({ ...base, skippedReason: `runs only when ${step.when}`, lines: [] })
      continue
    }
    try {
      steps.push({ ...base, lines: [...(await step.describe(ctx))] })
    } catch (error) {
      steps.push({ ...base, lines: [], error: messageOf(error) })
    }
  }
  return { plan: plan.id, title: plan.title, operation: options.operation, mode, steps, waves }
}

/** A dry run as text, one block per step (for CLIs and logs). */
export function formatDryRun(report: DryRunReport): string {
  const op = report.operation
  const out = [`${report.title} — ${op.kind} ${op.from} → ${op.to} (${report.mode}, dry run)`]
  for (const s of report.steps) {
    const deps = s.dependsOn.length > 0 ? ` after ${s.dependsOn.join(', ')}` : ''
    if (!s.selected) {
      out.push(`  - [skip] ${s.id}: ${s.title} (${s.skippedReason})`)
      continue
    }
    out.push(`  ${s.wave + 1}. ${s.id}: ${s.title}${deps}`)
    for (const line of s.lines) out.push(`       ${line}`)
    if (s.error !== undefined) out.push(`       (could not describe: ${s.error})`)
  }
  return out.join('\n')
}
