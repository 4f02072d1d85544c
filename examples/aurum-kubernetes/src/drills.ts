/**
 * Runs Aurum's drills with its plan and in-memory Kafka, backups and row
 * counts.
 *
 * @module
 */
import {
  type DrillOptions,
  drillWithReport,
  type ReportedDrill,
  type ScenarioInput,
} from '@baton/core'
import { createMemoryAurum, type MemoryAurumOptions } from './memory.ts'
import { aurumPlan } from './plan.ts'
import { SCENARIOS } from './scenarios.ts'

/** Runs `scenario` with the Aurum plan (its failover tuning taken from the scenario). */
export function runDrill(
  scenario: ScenarioInput,
  options: Pick<DrillOptions, 'seed' | 'inspect'> & {
    /** Tuning of the in-memory Kafka, backups and row counts. */
    readonly memory?: Omit<MemoryAurumOptions, 'world'>
  } = {},
): Promise<ReportedDrill> {
  const { memory, ...drillOptions } = options
  return drillWithReport(scenario, {
    ...drillOptions,
    title: `Aurum: ${scenario.name}`,
    controller: ({ world, scenario: s }) => ({
      plan: aurumPlan(createMemoryAurum({ ...memory, world }), { failover: s.failover }),
    }),
  })
}

/** Runs every drill of the example. */
export async function runAll(seed = 0): Promise<ReportedDrill[]> {
  const out: ReportedDrill[] = []
  for (const s of SCENARIOS) out.push(await runDrill(s, { seed }))
  return out
}
