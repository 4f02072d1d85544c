import {
  localDrillReportMarkdown,
  runPostgresFailoverDrill,
  runPostgresSwitchoverDrill,
} from './dist/drill.js'

const which = process.argv[2] ?? 'failover'
const sync = process.argv[3] !== 'async'
const r =
  which === 'failover'
    ? await runPostgresFailoverDrill({ synchronous: sync, log: (l) => console.log(l) })
    : await runPostgresSwitchoverDrill({ synchronous: sync, log: (l) => console.log(l) })
console.log(localDrillReportMarkdown(r))
