/**
 * The runbook's communication templates (initial notification, progress
 * update, completion notification), filled from a running plan.
 *
 * @module
 */
import type { NotifyMessage, StepContext } from '@baton/core'

/** Who people contact, per the runbook. */
export const CONTACTS = {
  oncall: 'oncall-platform@aurum.com',
  platform: 'platform-team@aurum.com',
} as const

/** The runbook's expected downtime, said in the initial notification. */
export const EXPECTED_DOWNTIME = '30-60 minutes'

const time = (ctx: StepContext): string => new Date(ctx.clock.now()).toISOString()
const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`

/** "🚨 FAILOVER INITIATED": time, reason, status, expected downtime, next steps, contact. */
export function initiatedMessage(reason: string): (ctx: StepContext) => NotifyMessage {
  return (ctx) => ({
    title: '🚨 FAILOVER INITIATED: Aurum Platform Region Migration',
    body: [
      `Time: ${time(ctx)}`,
      `Reason: ${reason}`,
      'Current Status: Preparation phase',
      `Expected Downtime: ${EXPECTED_DOWNTIME}`,
      'Impact: Service interruption during migration',
      '',
      'Next Steps:',
      '- Secondary region preparation',
      '- Data synchronization',
      '- Service migration',
      '- Validation testing',
      '',
      `Contact: ${CONTACTS.oncall}`,
    ].join('\n'),
    fields: { from: ctx.operation.from, to: ctx.operation.to, phase: 'preparation' },
  })
}

/** "📊 FAILOVER PROGRESS": phase, completed steps, in progress, next, on track or delayed, ETA. */
export function progressMessage(
  phase: string,
  next: string,
  etaMs: number,
): (ctx: StepContext) => NotifyMessage {
  return (ctx) => {
    const elapsed = ctx.clock.now() - ctx.operation.startedAt
    const onTrack = elapsed <= etaMs
    return {
      title: '📊 FAILOVER PROGRESS: Aurum Platform Region Migration',
      body: [
        `Time: ${time(ctx)}`,
        `Current Phase: ${phase}`,
        `Completed: ${Object.keys(ctx.data).join(', ')}`,
        `In Progress: ${phase.toLowerCase()}`,
        `Next: ${next}`,
        '',
        `Status: ${onTrack ? 'On track' : 'Delayed'}`,
        `Updated ETA: ${minutes(Math.max(etaMs, elapsed))} after start`,
        '',
        `Contact: ${CONTACTS.oncall}`,
      ].join('\n'),
      fields: { phase, status: onTrack ? 'on-track' : 'delayed', elapsedMs: elapsed },
    }
  }
}

/** "✅ FAILOVER COMPLETED": new primary region, service status, data loss, total downtime, next steps. */
export function completedMessage(
  dataLoss: (ctx: StepContext) => string,
): (ctx: StepContext) => NotifyMessage {
  return (ctx) => ({
    title: '✅ FAILOVER COMPLETED: Aurum Platform Region Migration',
    body: [
      `Time: ${time(ctx)}`,
      'Result: Successful',
      `New Primary Region: ${ctx.operation.to}`,
      'Service Status: All systems operational',
      `Data Loss: ${dataLoss(ctx)}`,
      `Total Downtime: ${minutes(ctx.clock.now() - ctx.operation.startedAt)}`,
      '',
      'Next Steps:',
      '- Monitoring increased for next 24 hours',
      '- Cross-region replication being re-established',
      '- Post-mortem scheduled',
      '',
      `Contact: ${CONTACTS.platform}`,
    ].join('\n'),
    fields: { newPrimary: ctx.operation.to, phase: 'completed' },
  })
}
