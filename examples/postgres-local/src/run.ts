/**
 * Runs the local PostgreSQL drills and prints their reports:
 *
 * ```sh
 * pnpm --filter @baton/example-postgres-local drill            # failover, synchronous standby
 * pnpm --filter @baton/example-postgres-local drill:async      # failover, asynchronous standby
 * pnpm --filter @baton/example-postgres-local switchover       # planned switchover
 * ```
 *
 * Exit 0 when every check held, 1 otherwise.
 */
import { writeFile } from 'node:fs/promises'
import {
  type LocalDrillReport,
  localDrillReportMarkdown,
  runPostgresFailoverDrill,
  runPostgresSwitchoverDrill,
} from '@baton/adapters-postgres/drill'

const [kind = 'failover', ...flags] = process.argv.slice(2)
if (kind !== 'failover' && kind !== 'switchover') {
  console.error(`usage: node src/run.ts failover|switchover [--async] [--report FILE]`)
  process.exit(2)
}
const reportAt = flags.indexOf('--report')
const options = {
  synchronous: !flags.includes('--async'),
  log: (line: string) => console.error(line),
}
const report: LocalDrillReport =
  kind === 'failover'
    ? await runPostgresFailoverDrill(options)
    : await runPostgresSwitchoverDrill(options)
const markdown = localDrillReportMarkdown(report)
console.log(markdown)
if (reportAt >= 0 && flags[reportAt + 1] !== undefined)
  await writeFile(flags[reportAt + 1]!, markdown)
process.exit(report.passed ? 0 : 1)
