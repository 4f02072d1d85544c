/**
 * The runbook examples' drills: how many of each example's headline drill
 * (its plan hook, its own in-memory ports, the report built from the
 * ledger) run per minute, against core's built-in `region-outage` drill in
 * the same run (no plan hook, no report). The examples' own work — extra
 * steps, the ports' checks, the report — is the ratio's difference.
 *
 * Uses the built packages (`pnpm build` first). Scale with BENCH_EXAMPLE_DRILLS
 * (seeds per drill, default 200).
 */

import { runDrill as assetFactory } from '../examples/asset-factory-gcp/src/drills.ts'
import { regionOutage as assetFactoryOutage } from '../examples/asset-factory-gcp/src/scenarios.ts'
import { runDrill as aurum } from '../examples/aurum-kubernetes/src/drills.ts'
import { regionOutage as aurumOutage } from '../examples/aurum-kubernetes/src/scenarios.ts'
import { runFailoverDrill as ggen } from '../examples/ggen-receipts/src/drills.ts'
import { firestoreFailure } from '../examples/ggen-receipts/src/scenarios.ts'
import { runDrill as honua } from '../examples/honua-aws/src/drills.ts'
import { plannedMaintenance } from '../examples/honua-aws/src/scenarios.ts'
import { runDrill as soma } from '../examples/somaagent-route53/src/drills.ts'
import { usWest2Failure } from '../examples/somaagent-route53/src/scenarios.ts'
import { builtinScenario, drill } from '../packages/core/dist/index.js'
import { fmt, type Row } from './_harness.ts'

/** Drills per minute of `run` over seeds 0..n-1 (after 5 warm-up runs); throws if one fails. */
async function perMinute(n: number, run: (seed: number) => Promise<boolean>): Promise<number> {
  for (let i = 0; i < 5; i++) await run(10_000 + i)
  const t = performance.now()
  for (let seed = 0; seed < n; seed++) {
    if (!(await run(seed))) throw new Error(`drill failed at seed ${seed}`)
  }
  return (n * 60_000) / (performance.now() - t)
}

/** The example drill rows. */
export async function benchExamples(n: number): Promise<Row[]> {
  const builtin = builtinScenario('region-outage')
  const base = await perMinute(n, async (seed) => (await drill(builtin, { seed })).passed)
  const rows: Row[] = [
    {
      group: 'examples',
      name: `core's built-in region-outage drill (2 instances, 20 simulated min), ${fmt(n)} seeds`,
      value: `${fmt(base)} drills/min`,
    },
  ]
  const cases: [string, (seed: number) => Promise<boolean>][] = [
    [
      'asset-factory-gcp region outage (4 h simulated, end-to-end job), with report',
      async (seed) => (await assetFactory(assetFactoryOutage, { seed })).result.passed,
    ],
    [
      'honua-aws planned maintenance (approval, test DNS, smoke test), with report',
      async (seed) => (await honua(plannedMaintenance, { seed })).result.passed,
    ],
    [
      'aurum-kubernetes region outage (templates, Kafka, backups, row counts), with report',
      async (seed) => (await aurum(aurumOutage, { seed })).result.passed,
    ],
    [
      'somaagent-route53 P1 failover (deployments, residency follower), with report',
      async (seed) => (await soma(usWest2Failure, { seed })).result.passed,
    ],
    [
      'ggen-receipts Firestore failover (contract receipt appended), with report',
      async (seed) => (await ggen(firestoreFailure, { seed })).result.passed,
    ],
  ]
  for (const [name, run] of cases) {
    const rate = await perMinute(n, run)
    rows.push({
      group: 'examples',
      name,
      value: `${fmt(rate)} drills/min`,
      baseline: `${fmt(base)}/min (built-in drill)`,
      ratio: (rate / base).toFixed(2),
      target: '≥ 1,000/min',
      ok: rate >= 1_000,
    })
  }
  return rows
}
