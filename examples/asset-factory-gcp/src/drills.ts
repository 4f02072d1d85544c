/**
 * Runs the Asset Factory's drills with its plan and in-memory adapters.
 *
 * @module
 */
import {
  type DrillOptions,
  drillWithReport,
  type ReportedDrill,
  type ScenarioInput,
} from '@baton/core'
import { createMemoryAssetFactory, type MemoryAssetFactoryOptions } from './memory.ts'
import { assetFactoryPlan } from './plan.ts'
import { SCENARIOS } from './scenarios.ts'

/** Runs `scenario` with the Asset Factory plan over in-memory buckets and job API. */
export function runDrill(
  scenario: ScenarioInput,
  options: Pick<DrillOptions, 'seed' | 'inspect'> & {
    /** Tuning of the in-memory buckets and job API (job duration, check time). */
    readonly memory?: Omit<MemoryAssetFactoryOptions, 'world'>
  } = {},
): Promise<ReportedDrill> {
  const { memory, ...drillOptions } = options
  return drillWithReport(scenario, {
    ...drillOptions,
    title: `Asset Factory: ${scenario.name}`,
    controller: ({ world }) => ({
      plan: assetFactoryPlan(createMemoryAssetFactory({ ...memory, world })),
    }),
  })
}

/** Runs every drill of the example. */
export async function runAll(seed = 0): Promise<ReportedDrill[]> {
  const out: ReportedDrill[] = []
  for (const s of SCENARIOS) out.push(await runDrill(s, { seed }))
  return out
}
