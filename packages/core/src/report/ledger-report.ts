/**
 * The report of a ledger: what the engine did, read back from its receipts
 * alone. For every operation (failover, failback, rollback): what was
 * detected and when, the decision with the guards' recorded values, each
 * step (start, duration, attempts, outcome), the measured RTO and RPO
 * against their targets, and how long the plan took against running the
 * same steps one after another (a runbook's sequential timeline). Plus
 * refused decisions, overrides, the ledger's verification and its replay
 * through the machine.
 *
 * {@link buildLedgerReport} is the only part that is not pure (it replays);
 * rendering is in `markdown.ts` and `html.ts`.
 *
 * @module
 */
import type { Receipt, VerifyReport } from '@baton/ledger'
import type { GuardRecord, Measured } from '../receipts.js'
import { type ReplayReport, replay } from '../replay.js'

/** One step of an operation, from its `step.*` receipts. */
export interface ReportStep {
  readonly step: string
  /** First attempt started (ms since the report's start). */
  readonly startedAt: number
  /** Finished (succeeded or failed), ms since the start; `null` when the ledger ends first. */
  readonly finishedAt: number | null
  /** As recorded by the executor (all attempts); `null` when unfinished. */
  readonly durationMs: number | null
  readonly attempts: number
  /** `succeeded`, `failed`, or `running` when the ledger ends first. */
  readonly outcome: 'succeeded' | 'failed' | 'running'
  readonly error?: string
  /** Undone by a later failure (`step.compensated`); its outcome `ok`. */
  readonly compensated?: { readonly at: number; readonly ok: boolean }
}

/** A detection: a region's assessment got worse. */
export interface ReportDetection {
  readonly at: number
  readonly region: string
  readonly from: string
  readonly to: string
  /** The detectors that fired, with their values and thresholds. */
  readonly reasons: readonly {
    readonly detector: string
    readonly value: number
    readonly threshold: number
  }[]
}

/** How long the steps took together against one after another. */
export interface ReportTiming {
  /** Sum of every step's duration: the runbook's sequential timeline. */
  readonly sequentialMs: number
  /** First step's start to last step's end: what the plan (parallel where it could) took. */
  readonly elapsedMs: number
  /** `sequentialMs - elapsedMs` (≥ 0 when steps ran in parallel). */
  readonly savedMs: number
}

/** One failover, failback or rollback. */
export interface ReportOperation {
  readonly id: string
  readonly kind: 'failover' | 'failback' | 'rollback'
  readonly from: string | null
  readonly to: string | null
  /** `P1`…`P3` (failovers). */
  readonly severity: string | null
  /** `automatic` or `manual` (failovers). */
  readonly mode: string | null
  /** The decision's reason, in its words. */
  readonly reason: string | null
  /** First failed check of the region left (ms since the start), when the ledger records one. */
  readonly detectedAt: number | null
  /** The detections that led to it. */
  readonly detection: readonly ReportDetection[]
  readonly decidedAt: number | null
  /** The guards that allowed it, with their values. */
  readonly guards: readonly GuardRecord[]
  readonly steps: readonly ReportStep[]
  /** `completed`, `failed`, or `running` when the ledger ends first. */
  readonly outcome: 'completed' | 'failed' | 'running'
  readonly completedAt: number | null
  readonly error: string | null
  readonly rto: Measured | null
  readonly rpo: Measured | null
  /** Failback stages (percent and gate outcome). */
  readonly stages: readonly { readonly percent: number; readonly ok: boolean }[]
  readonly timing: ReportTiming | null
}

/** A decision the guards refused. */
export interface ReportRefusal {
  readonly at: number
  readonly from: string | null
  readonly to: string | null
  readonly reason: string | null
  readonly guards: readonly GuardRecord[]
}

/** One line of the report's timeline. */
export interface ReportEvent {
  readonly at: number
  readonly seq: number
  readonly kind: 'detection' | 'decision' | 'blocked' | 'step' | 'state' | 'completed' | 'other'
  readonly text: string
  readonly ok?: boolean
}

/** The report of a ledger. A plain JSON object. */
export interface LedgerReport {
  readonly v: 1
  readonly title: string
  /** Where the ledger lives (`file:/…`, `s3://…`), when known. */
  readonly location: string | null
  /** RFC 3339 time of the first receipt read; offsets (`at`) are ms since it. */
  readonly start: string | null
  readonly end: string | null
  readonly receipts: number
  readonly operations: readonly ReportOperation[]
  readonly refusals: readonly ReportRefusal[]
  readonly overrides: readonly {
    readonly at: number
    readonly guard: string
    readonly by: string
    readonly operation: string
  }[]
  /** The ledger's verification, when the caller verified it. */
  readonly verification: {
    readonly status: 'VERIFIED' | 'FAILED'
    readonly checked: number
    readonly problems: readonly string[]
  } | null
  /** The receipts replayed through the machine. */
  readonly replay: {
    readonly status: 'REPLAYED' | 'FAILED'
    readonly transitions: number
    readonly final: string | null
    readonly problems: readonly string[]
  }
  readonly events: readonly ReportEvent[]
}

/** Options of {@link buildLedgerReport}. */
export interface LedgerReportOptions {
  /** Heading; default `Ledger report`. */
  readonly title?: string
  /** Where the ledger lives. */
  readonly location?: string
  /** The result of `verify(store)` (from `@baton/ledger`), shown as the verification result. */
  readonly verification?: Pick<VerifyReport, 'status' | 'checked' | 'problems'>
  /** The home region, for the replay (default: from `controller.started`). */
  readonly home?: string
  /** The ledger's replay when the caller has already run it (else it is replayed here). */
  readonly replay?: ReplayReport
}

type Data = Record<string, unknown>

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

interface OpDraft {
  id: string
  kind: ReportOperation['kind']
  from: string | null
  to: string | null
  severity: string | null
  mode: string | null
  reason: string | null
  detectedAt: number | null
  detection: ReportDetection[]
  decidedAt: number | null
  guards: GuardRecord[]
  steps: Map<string, ReportStep>
  outcome: ReportOperation['outcome']
  completedAt: number | null
  error: string | null
  rto: Measured | null
  rpo: Measured | null
  stages: { percent: number; ok: boolean }[]
}

function isMeasured(v: unknown): v is Measured {
  const o = v as Data | null
  return typeof o === 'object' && o !== null && typeof o.targetMs === 'number'
}

/** The timing of an operation's steps; `null` with no finished step. */
export function stepTiming(steps: readonly ReportStep[]): ReportTiming | null {
  const done = steps.filter((s) => s.finishedAt !== null && s.durationMs !== null)
  if (done.length === 0) return null
  const sequentialMs = done.reduce((n, s) => n + (s.durationMs ?? 0), 0)
  const first = Math.min(...done.map((s) => s.startedAt))
  const last = Math.max(...done.map((s) => s.finishedAt ?? s.startedAt))
  const elapsedMs = last - first
  return { sequentialMs, elapsedMs, savedMs: sequentialMs - elapsedMs }
}

/**
 * Reads `receipts` (any ledger's, oldest first) into a {@link LedgerReport}.
 * Receipts of types it does not know are kept in the timeline as `other`.
 */
export async function buildLedgerReport(
  receipts: readonly Receipt[],
  options: LedgerReportOptions = {},
): Promise<LedgerReport> {
  const t0 = receipts.length === 0 ? 0 : Date.parse(receipts[0]!.ts)
  const at = (r: Receipt): number => Date.parse(r.ts) - t0
  const ops = new Map<string, OpDraft>()
  const order: string[] = []
  const refusals: ReportRefusal[] = []
  const overrides: LedgerReport['overrides'][number][] = []
  const events: ReportEvent[] = []
  const detections: ReportDetection[] = []
  let home = options.home
  let pendingRollback: OpDraft | undefined

  const op = (id: string, kind?: OpDraft['kind']): OpDraft => {
    let o = ops.get(id)
    if (o === undefined) {
      const rollbackOf = kind === undefined ? pendingRollback : undefined
      o = {
        id,
        kind: kind ?? (rollbackOf !== undefined ? 'rollback' : 'failover'),
        from: rollbackOf?.to ?? null,
        to: rollbackOf?.from ?? null,
        severity: null,
        mode: null,
        reason: rollbackOf === undefined ? null : `${rollbackOf.kind} ${rollbackOf.id} failed`,
        detectedAt: null,
        detection: [],
        decidedAt: null,
        guards: [],
        steps: new Map(),
        outcome: 'running',
        completedAt: null,
        error: null,
        rto: null,
        rpo: null,
        stages: [],
      }
      if (rollbackOf !== undefined) pendingRollback = undefined
      ops.set(id, o)
      order.push(id)
    }
    return o
  }
  const event = (r: Receipt, kind: ReportEvent['kind'], text: string, ok?: boolean): void => {
    events.push({ at: at(r), seq: r.seq, kind, text, ...(ok === undefined ? {} : { ok }) })
  }

  for (const r of receipts) {
    const d = (r.data ?? {}) as Data
    switch (r.type) {
      case 'controller.started':
        home ??= str(d.home) ?? undefined
        event(
          r,
          'other',
          `${str(d.instance) ?? '?'} took charge (resumed from ${str(d.resumedFrom) ?? '?'})`,
        )
        break
      case 'health.changed': {
        const det: ReportDetection = {
          at: at(r),
          region: str(d.region) ?? '?',
          from: str(d.from) ?? '?',
          to: str(d.to) ?? '?',
          reasons: Array.isArray(d.reasons)
            ? (d.reasons as Data[]).map((x) => ({
                detector: str(x.detector) ?? '?',
                value: num(x.value) ?? 0,
                threshold: num(x.threshold) ?? 0,
              }))
            : [],
        }
        const why = det.reasons.map((x) => `${x.detector} ${x.value} (threshold ${x.threshold})`)
        event(
          r,
          'detection',
          `${det.region}: ${det.from} → ${det.to}${why.length === 0 ? '' : ` — ${why.join(', ')}`}`,
          det.to === 'healthy',
        )
        if (det.to !== 'healthy') detections.push(det)
        break
      }
      case 'failover.decided': {
        const id = str(d.operation) ?? `decision-${r.seq}`
        const dec = (d.decision ?? {}) as Data
        const o = op(id, 'failover')
        o.from = str(dec.from)
        o.to = str(dec.to)
        o.severity = str(dec.severity)
        o.mode = str(dec.mode)
        o.reason = str(dec.reason)
        o.decidedAt = at(r)
        o.guards = Array.isArray(d.guards) ? (d.guards as GuardRecord[]) : []
        o.detection = detections.filter((x) => x.region === o.from)
        event(
          r,
          'decision',
          `decided: ${o.severity ?? ''} ${o.mode ?? ''} failover ${o.from ?? '?'} → ${o.to ?? '?'}${o.reason === null ? '' : ` (${o.reason})`}`.replace(
            /\s+/g,
            ' ',
          ),
          true,
        )
        break
      }
      case 'failover.blocked': {
        const dec = (d.decision ?? {}) as Data
        const guards = Array.isArray(d.guards) ? (d.guards as GuardRecord[]) : []
        refusals.push({
          at: at(r),
          from: str(dec.from),
          to: str(dec.to),
          reason: str(dec.reason),
          guards,
        })
        event(
          r,
          'blocked',
          `blocked: ${str(dec.action) ?? 'failover'} ${str(dec.from) ?? '?'} → ${str(dec.to) ?? '(none)'} — ${guards.map((g) => `${g.name}: ${g.reason}`).join('; ')}`,
          false,
        )
        break
      }
      case 'state.changed': {
        const e = (d.event ?? {}) as Data
        const opId = str(e.operation)
        if (e.type === 'failback.decided' && opId !== null) {
          const o = op(opId, 'failback')
          o.decidedAt = at(r)
          o.reason = 'failback requested'
          const lastFailover = [...ops.values()].reverse().find((x) => x.kind === 'failover')
          o.from = lastFailover?.to ?? null
          o.to = home ?? lastFailover?.from ?? null
        } else if (e.type === 'plan.failed' && opId !== null) {
          const o = op(opId)
          o.outcome = 'failed'
          o.completedAt = at(r)
          o.error = str(e.error)
          if (str(d.to) === 'rolling-back') pendingRollback = o
        } else if (e.type === 'plan.succeeded' && opId !== null) {
          const o = op(opId)
          if (o.outcome === 'running') {
            o.outcome = 'completed'
            o.completedAt = at(r)
          }
        }
        event(r, 'state', `${str(d.from) ?? '?'} → ${str(d.to) ?? '?'} (${str(e.type) ?? '?'})`)
        break
      }
      case 'step.started':
      case 'step.succeeded':
      case 'step.failed':
      case 'step.compensated': {
        const opId = str(d.operation)
        const name = str(d.step)
        if (opId === null || name === null) break
        const o = op(opId)
        const prev = o.steps.get(name)
        if (r.type === 'step.started') {
          if (prev === undefined) {
            o.steps.set(name, {
              step: name,
              startedAt: at(r),
              finishedAt: null,
              durationMs: null,
              attempts: num(d.attempt) ?? 1,
              outcome: 'running',
            })
          }
          break
        }
        if (r.type === 'step.compensated') {
          if (prev !== undefined) {
            o.steps.set(name, { ...prev, compensated: { at: at(r), ok: d.ok === true } })
          }
          event(
            r,
            'step',
            `${name} undone${d.ok === true ? '' : ` (failed: ${str(d.error) ?? '?'})`}`,
            d.ok === true,
          )
          break
        }
        const ok = r.type === 'step.succeeded'
        const durationMs = num(d.durationMs) ?? 0
        const startedAt = prev?.startedAt ?? at(r) - durationMs
        const error = str(d.error)
        o.steps.set(name, {
          step: name,
          startedAt,
          finishedAt: at(r),
          durationMs,
          attempts: num(d.attempts) ?? 1,
          outcome: ok ? 'succeeded' : 'failed',
          ...(error === null ? {} : { error }),
        })
        events.push({
          at: startedAt,
          seq: r.seq,
          kind: 'step',
          text: `${name} ${ok ? 'succeeded' : `failed: ${error ?? '?'}`}`,
          ok,
        })
        break
      }
      case 'failover.completed':
      case 'failback.completed': {
        const operation = (d.operation ?? {}) as Data
        const opId = str(operation.id)
        if (opId === null) break
        const o = op(opId, r.type === 'failover.completed' ? 'failover' : 'failback')
        o.from ??= str(operation.from)
        o.to ??= str(operation.to)
        o.outcome = 'completed'
        o.completedAt = at(r)
        if (r.type === 'failover.completed') {
          const detected = num(d.detectedAt)
          o.detectedAt = detected === null ? null : detected - t0
          o.rto = isMeasured(d.rto) ? d.rto : null
          o.rpo = isMeasured(d.rpo) ? d.rpo : null
        } else if (Array.isArray(d.stages)) {
          o.stages = (d.stages as Data[]).map((s) => ({
            percent: num(s.percent) ?? 0,
            ok: s.ok === true,
          }))
        }
        event(
          r,
          'completed',
          `${o.kind} ${o.from ?? '?'} → ${o.to ?? '?'} completed${o.rto === null ? '' : `, RTO ${o.rto.measuredMs ?? '?'} ms (target ${o.rto.targetMs} ms)`}`,
          o.rto === null ? true : o.rto.met && (o.rpo?.met ?? true),
        )
        break
      }
      case 'override.used':
        overrides.push({
          at: at(r),
          guard: str(d.guard) ?? '?',
          by: str(d.by) ?? '?',
          operation: str(d.operation) ?? '?',
        })
        event(r, 'decision', `override of ${str(d.guard) ?? '?'} by ${str(d.by) ?? '?'}`)
        break
      case 'approval.granted':
      case 'approval.denied':
        event(
          r,
          'decision',
          `${r.type === 'approval.granted' ? 'approved' : 'denied'} by ${str(d.by) ?? '?'}`,
          r.type === 'approval.granted',
        )
        break
      case 'lease.acquired':
      case 'lease.lost':
        break
      default:
        event(r, 'other', r.type)
    }
  }

  const operations: ReportOperation[] = order.map((id) => {
    const o = ops.get(id)!
    const steps = [...o.steps.values()].sort((a, b) => a.startedAt - b.startedAt)
    if (o.detectedAt === null && o.detection.length > 0) o.detectedAt = o.detection[0]!.at
    const { steps: _s, ...rest } = o
    return { ...rest, steps, timing: stepTiming(steps) }
  })
  const replayed = options.replay ?? (await replay(receipts, home === undefined ? {} : { home }))
  const last = receipts.at(-1)
  return {
    v: 1,
    title: options.title ?? 'Ledger report',
    location: options.location ?? null,
    start: receipts.length === 0 ? null : receipts[0]!.ts,
    end: last === undefined ? null : last.ts,
    receipts: receipts.length,
    operations,
    refusals,
    overrides,
    verification:
      options.verification === undefined
        ? null
        : {
            status: options.verification.status,
            checked: options.verification.checked,
            problems: options.verification.problems.map(
              (p) => `${p.kind}${p.seq === undefined ? '' : ` at receipt ${p.seq}`}: ${p.message}`,
            ),
          },
    replay: {
      status: replayed.status,
      transitions: replayed.transitions,
      final: replayed.final?.name ?? null,
      problems: replayed.problems.map((p) => `${p.kind} at receipt ${p.seq}: ${p.message}`),
    },
    events: events.sort((a, b) => a.at - b.at || a.seq - b.seq),
  }
}
