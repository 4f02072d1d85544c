/**
 * Internal: reads a drill's ledger (and the world's events) into the
 * result's failovers, refusals, overrides and timeline.
 *
 * @internal
 * @module
 */
import type { Receipt } from '@baton/ledger'
import type { Operation } from '../machine.js'
import type { WorldEvent } from '../memory/world-types.js'
import type { GuardRecord, Measured, ReceiptDataMap } from '../receipts.js'
import { formatDuration } from './report.js'
import type {
  DrillFailback,
  DrillFailover,
  DrillOverride,
  DrillRefusal,
  DrillTimelineEntry,
} from './result.js'

/** What the ledger says happened. */
export interface Collected {
  readonly failovers: DrillFailover[]
  readonly failbacks: DrillFailback[]
  readonly refusals: DrillRefusal[]
  readonly overrides: DrillOverride[]
  readonly failedSteps: { at: number; operation: string; step: string; error: string }[]
  rollbacks: number
  takeovers: number
  /** Automatic failovers decided within the cooldown of the previous completed one: `[gap, at]`. */
  readonly cooldownBreaches: { at: number; gapMs: number }[]
  readonly timeline: DrillTimelineEntry[]
}

type Data<K extends keyof ReceiptDataMap> = ReceiptDataMap[K]

const short = (operation: string): string => operation.replace(/^[^:]+:/, '')

function failing(guards: readonly GuardRecord[]): GuardRecord[] {
  return guards.filter((g) => !g.ok)
}

function guardText(g: GuardRecord): string {
  const value = g.value === undefined ? '' : ` (${String(g.value)} vs ${String(g.limit ?? '-')})`
  return `${g.name}${value}`
}

/** Reads `receipts` (in order); times become ms since `start`. */
export function collect(
  receipts: readonly Receipt[],
  start: number,
  cooldownMs: number,
): Collected {
  const out: Collected = {
    failovers: [],
    failbacks: [],
    refusals: [],
    overrides: [],
    failedSteps: [],
    rollbacks: 0,
    takeovers: 0,
    cooldownBreaches: [],
    timeline: [],
  }
  const t = (r: Receipt): number => Date.parse(r.ts) - start
  const rel = (ms: number | null): number | null => (ms === null ? null : ms - start)
  const decisions = new Map<string, { mode: string; severity: string }>()
  const steps = new Map<string, { at: number; seq: number }>()
  let lastCompletedAt: number | undefined
  let starts = 0
  const push = (entry: DrillTimelineEntry): void => {
    out.timeline.push(entry)
  }

  for (const r of receipts) {
    const at = t(r)
    const seq = r.seq
    switch (r.type) {
      case 'controller.started': {
        const d = r.data as unknown as Data<'controller.started'>
        if (++starts > 1) out.takeovers++
        push({
          at,
          kind: 'lease',
          text: `${d.instance} takes charge (epoch ${d.epoch}, resumes from ${d.resumedFrom})`,
          seq,
        })
        break
      }
      case 'health.changed': {
        const d = r.data as unknown as Data<'health.changed'>
        const why = d.reasons.map((x) => `${x.detector} ${x.value}/${x.threshold}`).join(', ')
        push({
          at,
          kind: 'health',
          text: `${d.region}: ${d.from} → ${d.to}${why ? ` (${why})` : ''}`,
          seq,
        })
        break
      }
      case 'failover.decided': {
        const d = r.data as unknown as Data<'failover.decided'>
        const decision = d.decision as {
          mode?: string
          severity?: string
          action?: string
          from?: string
          to?: string
        }
        const mode = String(decision.mode ?? 'automatic')
        decisions.set(d.operation, { mode, severity: String(decision.severity ?? '') })
        if (
          mode === 'automatic' &&
          lastCompletedAt !== undefined &&
          at - lastCompletedAt < cooldownMs
        ) {
          out.cooldownBreaches.push({ at, gapMs: at - lastCompletedAt })
        }
        push({
          at,
          kind: 'decision',
          text: `decided: ${decision.severity ?? ''} ${mode} ${decision.action ?? 'failover'} ${decision.from ?? ''} → ${decision.to ?? ''}`.replace(
            /\s+/g,
            ' ',
          ),
          seq,
        })
        break
      }
      case 'failover.blocked': {
        const d = r.data as unknown as Data<'failover.blocked'>
        const decision = d.decision as {
          action?: string
          from?: string
          to?: string | null
          reason?: string
        }
        const no = failing(d.guards)
        out.refusals.push({
          at,
          action: String(decision.action ?? ''),
          from: String(decision.from ?? ''),
          to: decision.to ?? null,
          reason: String(decision.reason ?? ''),
          guards: no,
        })
        push({ at, kind: 'blocked', text: `blocked by ${no.map(guardText).join(', ')}`, seq })
        break
      }
      case 'override.used': {
        const d = r.data as unknown as Data<'override.used'>
        out.overrides.push({
          at,
          operation: d.operation,
          guard: d.guard,
          by: d.by,
          value: d.value ?? null,
        })
        push({
          at,
          kind: 'override',
          text: `override of ${d.guard} by ${d.by} (${String(d.value ?? '')})`,
          seq,
        })
        break
      }
      case 'approval.granted':
      case 'approval.denied': {
        const d = r.data as unknown as Data<'approval.granted'>
        const verb = r.type === 'approval.granted' ? 'approved' : 'denied'
        push({ at, kind: 'approval', text: `${short(d.operation)} ${verb} by ${d.by}`, seq })
        break
      }
      case 'state.changed': {
        const d = r.data as unknown as Data<'state.changed'>
        if (d.to === 'rolling-back') out.rollbacks++
        push({ at, kind: 'state', text: `${d.from} → ${d.to} (${d.event.type})`, seq })
        break
      }
      case 'step.started': {
        const d = r.data as unknown as Data<'step.started'>
        const key = `${d.operation}/${d.step}`
        if (!steps.has(key)) steps.set(key, { at, seq })
        break
      }
      case 'step.succeeded':
      case 'step.failed': {
        const d = r.data as unknown as Data<'step.succeeded'> & { error?: string }
        const key = `${d.operation}/${d.step}`
        const began = steps.get(key)
        steps.delete(key)
        const from = began?.at ?? at - d.durationMs
        const ok = r.type === 'step.succeeded'
        if (!ok) {
          out.failedSteps.push({ at, operation: d.operation, step: d.step, error: d.error ?? '' })
        }
        const tries = d.attempts > 1 ? `, ${d.attempts} attempts` : ''
        push({
          at: from,
          durationMs: at - from,
          kind: 'step',
          text: `${d.step} (${short(d.operation)})${ok ? '' : ` failed: ${d.error ?? ''}`}${tries}`,
          ok,
          seq: began?.seq ?? seq,
        })
        break
      }
      case 'step.compensated': {
        const d = r.data as unknown as Data<'step.compensated'>
        push({
          at,
          kind: 'step',
          text: d.ok
            ? `${d.step} (${short(d.operation)}) undone`
            : `${d.step} (${short(d.operation)}) not undone: ${d.error ?? 'failed'}`,
          ok: d.ok,
          seq,
        })
        break
      }
      case 'failover.completed': {
        const d = r.data as unknown as Data<'failover.completed'>
        const op = d.operation as Operation
        lastCompletedAt = d.completedAt - start
        out.failovers.push({
          operation: op.id,
          from: op.from,
          to: op.to,
          mode: decisions.get(op.id)?.mode ?? 'automatic',
          severity: decisions.get(op.id)?.severity ?? '',
          detectedAt: rel(d.detectedAt),
          decidedAt: d.decidedAt - start,
          completedAt: d.completedAt - start,
          rto: d.rto as Measured,
          rpo: d.rpo as Measured,
        })
        push({
          at,
          kind: 'completed',
          text: `failed over ${op.from} → ${op.to}: RTO ${formatDuration(d.rto.measuredMs)} (target ${formatDuration(d.rto.targetMs)}), RPO ${formatDuration(d.rpo.measuredMs)} (target ${formatDuration(d.rpo.targetMs)})`,
          ok: d.rto.met && d.rpo.met,
          seq,
        })
        break
      }
      case 'failback.completed': {
        const d = r.data as unknown as Data<'failback.completed'>
        const op = d.operation as Operation
        out.failbacks.push({
          operation: op.id,
          from: op.from,
          to: op.to,
          startedAt: op.startedAt - start,
          completedAt: d.completedAt - start,
          durationMs: d.durationMs,
          stages: d.stages.map((s) => ({ percent: s.percent, ok: s.ok })),
        })
        push({
          at,
          kind: 'completed',
          text: `failed back ${op.from} → ${op.to} through ${d.stages.map((s) => `${s.percent} %`).join(', ')}`,
          ok: true,
          seq,
        })
        break
      }
    }
  }
  // Steps still running at the end.
  for (const [key, began] of steps) {
    const [operation, step] = [
      key.slice(0, key.lastIndexOf('/')),
      key.slice(key.lastIndexOf('/') + 1),
    ]
    push({
      at: began.at,
      kind: 'step',
      text: `${step} (${short(operation)}) did not finish`,
      ok: false,
      seq: began.seq,
    })
  }
  return out
}

const WORLD_EVENTS = new Set([
  'database.promoted',
  'database.fenced',
  'database.switchover',
  'database.rebuilt',
])

/** The world's events worth a timeline entry (promotions, fencing, switchovers, rebuilds). */
export function worldTimeline(events: readonly WorldEvent[], start: number): DrillTimelineEntry[] {
  return events
    .filter((e) => WORLD_EVENTS.has(e.type))
    .map((e) => ({ at: e.at - start, kind: 'world' as const, text: e.message }))
}

/**
 * Sorts a timeline by time; within a millisecond faults and actions come
 * first, then receipts in ledger order, then world events.
 */
export function sortTimeline(entries: DrillTimelineEntry[]): DrillTimelineEntry[] {
  const rank = (e: DrillTimelineEntry): number =>
    e.seq !== undefined ? 1 : e.kind === 'world' ? 2 : 0
  return entries
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        a.e.at - b.e.at || rank(a.e) - rank(b.e) || (a.e.seq ?? 0) - (b.e.seq ?? 0) || a.i - b.i,
    )
    .map(({ e }) => e)
}
