/**
 * Text reports of the local drills.
 *
 * @module
 */
import type { LocalDrillReport } from './postgres-local.js'

const ms = (v: number | undefined): string =>
  v === undefined ? '-' : v < 1_000 ? `${Math.round(v)} ms` : `${(v / 1_000).toFixed(2)} s`

/** A Markdown report of a local drill: verdict, figures, checks, timeline. */
export function localDrillReportMarkdown(report: LocalDrillReport): string {
  const lines = [
    `# baton drill postgres-local: ${report.scenario} (${report.synchronous ? 'synchronous' : 'asynchronous'} standby)`,
    '',
    `**${report.passed ? 'PASSED' : 'FAILED'}**`,
    '',
    '| figure | value |',
    '|---|---|',
    ...(report.detectionMs === undefined
      ? []
      : [`| detection (kill → region marked down) | ${ms(report.detectionMs)} |`]),
    `| RTO (${report.scenario === 'failover' ? 'kill' : 'request'} → first write acknowledged by the new primary) | ${ms(report.rtoMs)} |`,
    `| RTO recorded by baton in \`failover.completed\` | ${ms(report.recordedRtoMs)} |`,
    `| RPO (acknowledged rows lost) | ${report.rpo.lostRows} of ${report.rpo.acknowledged} |`,
    ...(report.recordedRpoMs === undefined
      ? []
      : [`| RPO recorded by baton (its lag estimate) | ${ms(report.recordedRpoMs)} |`]),
    ...(report.stalledReplicationMs === undefined
      ? []
      : [`| replication cut off before the kill | ${ms(report.stalledReplicationMs)} |`]),
    `| writes refused or failed during the drill | ${report.failedWrites} |`,
    ...(report.failback === undefined
      ? []
      : [
          `| failback stages (east's share) | ${report.failback.stages.join(' → ')} % in ${ms(report.failback.durationMs)} |`,
        ]),
    `| rows at the end | ${Object.entries(report.rows)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} |`,
    `| ledger | ${report.ledger.receipts} receipts, ${report.ledger.status}, replay problems ${report.ledger.replayProblems} |`,
    '',
    '## Checks',
    '',
    ...report.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.name}: ${c.detail}`),
    '',
    '## Timeline',
    '',
    ...report.timeline.map((t) => `- +${(t.atMs / 1_000).toFixed(3)} s ${t.what}`),
    '',
  ]
  return lines.join('\n')
}
