/**
 * The Aurum failover plan: the built-in plan (Kubernetes deployments scaled
 * in the secondary, PostgreSQL final backup (snapshot) → fence → promote →
 * write check, DNS moved, endpoint verified) with the runbook's own steps:
 *
 * - its communication templates instead of the built-in notifications —
 *   initiated first, a progress update once traffic has moved, completed
 *   last with the data loss the consistency check found;
 * - `check-kafka` (the secondary cluster has the topics) and
 *   `check-backups` (the newest PostgreSQL backup in the secondary's
 *   MinIO/S3 bucket is intact and under 6 hours old), both before traffic
 *   moves, beside the scale-up and the database work;
 * - `consistency`: row counts of `tenants` and `scenarios` on the new
 *   primary against the old one (a switchover: up to the moment it was
 *   fenced, they must be equal) or, when the old one is unreachable,
 *   against the newest backup (the new primary must hold every row the
 *   backup has) — with the data loss bound reported.
 *
 * @module
 */
import {
  type AnyStepSpec,
  createFailoverPlan,
  extendPlan,
  type FailoverPlanOptions,
  formatDuration,
  notifyStep,
  type Plan,
  type PlanHookInput,
  planSinks,
  type StepContext,
  type StepData,
  StepError,
} from '@baton/core'
import type { Backup, Backups, Kafka, RowCounts } from './ports.ts'
import { completedMessage, initiatedMessage, progressMessage } from './templates.ts'

/** The runbook's targets: total downtime under 4 h, under 1 h of data lost. */
export const TARGETS = { rtoMs: 4 * 3_600_000, rpoMs: 3_600_000 } as const

/** The runbook's phases by hand, one after another (ms): 2 hours. */
export const RUNBOOK_TIMELINE = [
  { step: 'Assessment', ms: 15 * 60_000 },
  { step: 'Phase 1: preparation (notify, scale secondary, Kafka, backups)', ms: 30 * 60_000 },
  { step: 'Phase 2: service migration (final backup, restore, services, DNS)', ms: 45 * 60_000 },
  { step: 'Phase 3: validation (health, row counts, performance)', ms: 30 * 60_000 },
] as const

/** Topics the secondary's Kafka must have. */
export const REQUIRED_TOPICS = ['scenarios', 'curves', 'events'] as const

/** Tables compared by the consistency check. */
export const TABLES = ['tenants', 'scenarios'] as const

/** Oldest acceptable backup (the runbook's prerequisite). */
export const MAX_BACKUP_AGE_MS = 6 * 3_600_000

/** What the Aurum steps use. */
export interface AurumPorts {
  /** The secondary's Kafka cluster. */
  readonly kafka: Kafka
  /** The PostgreSQL backups in MinIO/S3. */
  readonly backups: Backups
  /** Row counts for the consistency check. */
  readonly rows: RowCounts
}

/** What the consistency check found. */
export interface ConsistencyResult {
  /** `primary`: compared with the old primary; `backup`: with the newest backup. */
  readonly against: 'primary' | 'backup'
  /** Rows compared up to this time (clock ms). */
  readonly asOf: number
  /** Row counts of the old primary (or the backup), by table. */
  readonly source: Readonly<Record<string, number>>
  /** Row counts of the new primary, by table. */
  readonly target: Readonly<Record<string, number>>
  /** Upper bound of the data lost (ms): 0 for a switchover, the lag at promotion otherwise. */
  readonly lossBoundMs: number | null
}

/** Options of {@link aurumPlan}. */
export interface AurumPlanOptions {
  /** The failover plan's tuning (as the controller's `failover` option). */
  readonly failover?: FailoverPlanOptions
  /** Time from start after which the progress update says "Delayed". Default 1 h 30 min. */
  readonly etaMs?: number
}

const counts = async (
  rows: RowCounts,
  region: string,
  ctx: StepContext,
  asOf: number,
): Promise<Record<string, number>> => {
  const out: Record<string, number> = {}
  for (const t of TABLES) out[t] = await rows.count(region, t, ctx.call, asOf)
  return out
}

/** The controller's `plan` hook for Aurum. */
export function aurumPlan(
  ports: AurumPorts,
  options: AurumPlanOptions = {},
): (input: PlanHookInput) => Plan<StepData> {
  return ({ operation, decision, ports: planPorts, builtin }) => {
    if (operation.kind !== 'failover') return builtin
    const { notifier, ...withoutNotifier } = planPorts
    const base = createFailoverPlan(operation, decision, withoutNotifier, options.failover)
    const { from, to } = operation
    const promotes = decision.database === 'promote'
    const notify = notifier === undefined ? [] : ['notify-initiated']
    const reason = decision.graceful
      ? `Manual switchover from ${from} (approved request)`
      : `Primary region outage (${from})`

    const steps: AnyStepSpec[] = [
      {
        id: 'check-kafka',
        title: `Check the Kafka cluster in ${to}`,
        dependsOn: ['preflight'],
        timeoutMs: 5 * 60_000,
        async run(ctx: StepContext) {
          const topics = await ports.kafka.topics(to, ctx.call)
          const missing = REQUIRED_TOPICS.filter((t) => !topics.includes(t))
          if (missing.length > 0) {
            throw new StepError(`Kafka in ${to} lacks topics: ${missing.join(', ')}`, {
              retryable: false,
              details: { missing },
            })
          }
          return { region: to, topics: [...topics] }
        },
      },
      {
        id: 'check-backups',
        title: `Check the newest PostgreSQL backup in the ${to} bucket`,
        dependsOn: ['preflight'],
        timeoutMs: 5 * 60_000,
        async run(ctx: StepContext) {
          const b = await ports.backups.latest(to, ctx.call)
          if (b === undefined)
            throw new StepError(`no PostgreSQL backup in ${to}`, { retryable: false })
          const ageMs = ctx.clock.now() - b.takenAt
          if (!b.intact || ageMs > MAX_BACKUP_AGE_MS) {
            throw new StepError(
              `backup ${b.key}: ${b.intact ? `${Math.round(ageMs / 60_000)} min old (limit 6 h)` : 'checksum mismatch'}`,
              { retryable: false, details: { key: b.key, ageMs, intact: b.intact } },
            )
          }
          return { ...b, ageMs }
        },
      },
    ]
    const before: Record<string, string[]> = {
      'shift-traffic': ['check-kafka', 'check-backups'],
    }
    if (promotes && decision.graceful) {
      // The moment the old primary stopped taking writes: rows are compared up to it.
      steps.push({
        id: 'mark-cutoff',
        title: `Note when ${from} stopped taking writes`,
        dependsOn: ['fence'],
        timeoutMs: 60_000,
        run: (ctx: StepContext) => ({ at: ctx.clock.now() }),
      })
      before.promote = ['mark-cutoff']
    }
    if (promotes) {
      steps.push({
        id: 'consistency',
        title: `Compare row counts (${TABLES.join(', ')}) in ${to}`,
        dependsOn: [...planSinks(base), 'check-backups'],
        timeoutMs: 10 * 60_000,
        async run(ctx: StepContext): Promise<ConsistencyResult> {
          const promote = ctx.data.promote as { lagMsAtPromotion: number | null } | undefined
          const cutoff = ctx.data['mark-cutoff'] as { at: number } | undefined
          if (cutoff !== undefined) {
            const source = await counts(ports.rows, from, ctx, cutoff.at)
            const target = await counts(ports.rows, to, ctx, cutoff.at)
            const diff = TABLES.filter((t) => source[t] !== target[t])
            if (diff.length > 0) {
              throw new StepError(
                `Data inconsistency detected: ${diff.map((t) => `${t} ${source[t]} in ${from}, ${target[t]} in ${to}`).join('; ')}`,
                { retryable: false, details: { source, target } },
              )
            }
            return { against: 'primary', asOf: cutoff.at, source, target, lossBoundMs: 0 }
          }
          const backup = ctx.data['check-backups'] as Backup
          const target = await counts(ports.rows, to, ctx, backup.takenAt)
          const short = TABLES.filter((t) => (target[t] ?? 0) < (backup.rows[t] ?? 0))
          if (short.length > 0) {
            throw new StepError(
              `${to} lacks rows the backup ${backup.key} has (${short.join(', ')}): restore the backup first`,
              { retryable: false, details: { backup: backup.rows, target } },
            )
          }
          return {
            against: 'backup',
            asOf: backup.takenAt,
            source: backup.rows,
            target,
            lossBoundMs: promote?.lagMsAtPromotion ?? null,
          }
        },
      })
    }
    if (notifier !== undefined) {
      steps.push(
        notifyStep({
          id: 'notify-initiated',
          notifier,
          kind: 'initiated',
          message: initiatedMessage(reason),
        }),
        notifyStep({
          id: 'notify-progress',
          notifier,
          kind: 'progress',
          dependsOn: ['shift-traffic', 'notify-initiated'],
          message: progressMessage(
            'Validation',
            'data consistency, completion',
            options.etaMs ?? 90 * 60_000,
          ),
        }),
        notifyStep({
          id: 'notify-completed',
          notifier,
          kind: 'completed',
          dependsOn: [...planSinks(base), ...(promotes ? ['consistency'] : []), 'notify-progress'],
          message: completedMessage((ctx) => {
            const c = ctx.data.consistency as ConsistencyResult | undefined
            if (c === undefined) return 'None (the database did not move)'
            if (c.lossBoundMs === 0) return 'None (row counts match)'
            const when = new Date(c.asOf).toISOString()
            return c.lossBoundMs === null
              ? `Every row up to the backup of ${when} is there; later writes unknown`
              : `Every row up to the backup of ${when} is there; at most ${formatDuration(c.lossBoundMs)} of writes before the outage`
          }),
        }),
      )
      before.preflight = notify
    }
    return extendPlan(base, { before, steps, optional: true })
  }
}
