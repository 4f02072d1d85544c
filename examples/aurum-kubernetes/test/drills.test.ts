import type { Notification } from '@baton/core'
import type { StoredReceipt } from '@baton/ledger'
import { describe, expect, it } from 'vitest'
import { runDrill } from '../src/drills.ts'
import { type ConsistencyResult, RUNBOOK_TIMELINE, TARGETS } from '../src/plan.ts'
import { plannedMaintenance, regionOutage, replicationLag } from '../src/scenarios.ts'

const runbookMs = RUNBOOK_TIMELINE.reduce((n, s) => n + s.ms, 0)

function result<T>(receipts: readonly StoredReceipt[], step: string): T {
  const r = receipts.find(
    (x) => x.type === 'step.succeeded' && (x.data as { step: string }).step === step,
  )
  if (r === undefined) throw new Error(`no step.succeeded receipt for ${step}`)
  return (r.data as { result: T }).result
}

/** Runs a drill and keeps the notifications people got. */
async function withNotifications(
  ...args: Parameters<typeof runDrill>
): Promise<Awaited<ReturnType<typeof runDrill>> & { sent: Notification[] }> {
  let sent: Notification[] = []
  const d = await runDrill(args[0], {
    ...args[1],
    inspect: ({ world }) => {
      sent = world.truth.notifications().map((n) => n.notification)
    },
  })
  return { ...d, sent }
}

describe('aurum: region outage (runbook 002)', () => {
  it.each([0, 1, 2])('meets downtime < 4 h and data loss < 1 h (seed %i)', async (seed) => {
    const { result: r } = await runDrill(regionOutage, { seed })
    expect(r.checks.filter((c) => !c.passed)).toEqual([])
    expect(r.failovers[0]!.rto.measuredMs).toBeLessThanOrEqual(TARGETS.rtoMs)
    expect(r.failovers[0]!.rpo.measuredMs).toBeLessThanOrEqual(TARGETS.rpoMs)
  })

  it('triggers on availability below 95 % over 15 minutes', async () => {
    const { report } = await runDrill(regionOutage, { seed: 0 })
    const reasons = report.operations[0]!.detection.flatMap((d) => d.reasons)
    const availability = reasons.find((x) => x.detector === 'availability')!
    expect(availability.threshold).toBe(0.95)
    expect(availability.value).toBeLessThan(0.95)
  })

  it('sends the three templates in order, the completion with the new primary and the data loss', async () => {
    const { sent, receipts } = await withNotifications(regionOutage, { seed: 0 })
    const aurum = sent.filter((n) => n.title.includes('Aurum Platform'))
    expect(aurum.map((n) => n.kind)).toEqual(['initiated', 'progress', 'completed'])
    expect(aurum[0]!.body).toContain('Reason: Primary region outage (us-east-1)')
    expect(aurum[0]!.body).toContain('Expected Downtime: 30-60 minutes')
    expect(aurum[1]!.body).toMatch(/Current Phase: Validation[\s\S]*Completed: .*shift-traffic/)
    expect(aurum[1]!.body).toContain('Status: On track')
    expect(aurum[2]!.body).toContain('New Primary Region: us-west-2')
    const c = result<ConsistencyResult>(receipts, 'consistency')
    expect(c.against).toBe('backup')
    expect(c.target).toEqual(c.source)
    expect(aurum[2]!.body).toMatch(/Data Loss: Every row up to the backup of .* is there; at most/)
  })

  it('beats the sequential runbook: Kafka, backups and the scale-up run side by side', async () => {
    const { result: r, report } = await runDrill(regionOutage, { seed: 0 })
    const steps = report.operations[0]!.steps
    const start = (id: string) => steps.find((s) => s.step === id)!.startedAt
    expect(start('check-kafka')).toBe(start('scale'))
    expect(start('check-backups')).toBe(start('scale'))
    expect(report.operations[0]!.timing!.savedMs).toBeGreaterThan(0)
    expect(r.failovers[0]!.rto.measuredMs).toBeLessThan(runbookMs)
  })

  it('does not move traffic to a region whose Kafka lacks the topics', async () => {
    const { result: r, report } = await runDrill(regionOutage, {
      seed: 0,
      memory: { kafkaBroken: ['us-west-2'] },
    })
    expect(r.failovers).toEqual([])
    const op = report.operations[0]!
    expect(op.steps.find((s) => s.step === 'check-kafka')).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/lacks topics: scenarios, curves, events/),
    })
    expect(op.steps.map((s) => s.step)).not.toContain('shift-traffic')
  })

  it('refuses to rely on a backup older than 6 hours', async () => {
    const { result: r, report } = await runDrill(regionOutage, {
      seed: 0,
      memory: { backupAgeAtStartMs: 7 * 3_600_000, backupEveryMs: 24 * 3_600_000 },
    })
    expect(r.failovers).toEqual([])
    const step = report.operations[0]!.steps.find((s) => s.step === 'check-backups')!
    expect(step.error).toMatch(/min old \(limit 6 h\)/)
  })
})

describe('aurum: planned maintenance (manual trigger)', () => {
  it('switches over with the row counts equal and no data lost', async () => {
    const { result: r, receipts, sent } = await withNotifications(plannedMaintenance, { seed: 1 })
    expect(r.checks.filter((c) => !c.passed)).toEqual([])
    expect(r.truth.lostWrites).toBe(0)
    const c = result<ConsistencyResult>(receipts, 'consistency')
    expect(c.against).toBe('primary')
    expect(c.lossBoundMs).toBe(0)
    expect(c.source.scenarios).toBeGreaterThan(0)
    expect(c.target).toEqual(c.source)
    const done = sent.find((n) => n.kind === 'completed' && n.title.includes('Aurum'))!
    expect(done.body).toContain('Data Loss: None (row counts match)')
    // The final backup was taken and the old primary fenced before the promotion.
    const order = receipts
      .filter((x) => x.type === 'step.succeeded')
      .map((x) => (x.data as { step: string }).step)
    expect(order.indexOf('snapshot')).toBeLessThan(order.indexOf('promote'))
    expect(order.indexOf('mark-cutoff')).toBeLessThan(order.indexOf('promote'))
  })
})

describe('aurum: replication lag above 1 hour (automatic trigger)', () => {
  it('flags the replica, and refuses to fail over onto it when the primary dies', async () => {
    const { result: r, report, receipts } = await runDrill(replicationLag, { seed: 0 })
    expect(r.checks.filter((c) => !c.passed)).toEqual([])
    const lagged = receipts.find(
      (x) =>
        x.type === 'health.changed' &&
        (x.data as { region: string; reasons: { detector: string }[] }).region === 'us-west-2' &&
        (x.data as { reasons: { detector: string }[] }).reasons.some(
          (y) => y.detector === 'replicationLag',
        ),
    )
    expect(lagged).toBeDefined()
    const rpo = report.refusals.flatMap((x) => x.guards).find((g) => g.name === 'rpo' && !g.ok)!
    expect(rpo.limit).toBe(TARGETS.rpoMs)
    expect(Number(rpo.value)).toBeGreaterThan(TARGETS.rpoMs)
  })
})
