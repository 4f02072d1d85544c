/**
 * Runs the HonuaIO drills with its plan and in-memory adapters.
 *
 * @module
 */
import {
  type DrillOptions,
  drillWithReport,
  type ReportedDrill,
  type ScenarioInput,
} from '@baton/core'
import { createMemoryHonua, type MemoryHonua, type MemoryHonuaOptions } from './memory.ts'
import { honuaPlan } from './plan.ts'
import { SCENARIOS } from './scenarios.ts'

/** A reported drill and the in-memory test DNS and smoke test it used. */
export interface HonuaDrill extends ReportedDrill {
  /** The test DNS and smoke test the drill used, with what they saw. */
  readonly honua: MemoryHonua
}

/** Runs `scenario` with the HonuaIO plan over an in-memory test DNS record and smoke test. */
export async function runDrill(
  scenario: ScenarioInput,
  options: Pick<DrillOptions, 'seed' | 'inspect'> & {
    /** Tuning of the in-memory test DNS and smoke test. */
    readonly memory?: Omit<MemoryHonuaOptions, 'world'>
  } = {},
): Promise<HonuaDrill> {
  const { memory, ...drillOptions } = options
  // One test DNS zone and smoke test per simulated world, shared by its instances.
  let honua: MemoryHonua | undefined
  const reported = await drillWithReport(scenario, {
    ...drillOptions,
    title: `HonuaIO: ${scenario.name}`,
    controller: ({ world }) => {
      honua ??= createMemoryHonua({ ...memory, world })
      return { plan: honuaPlan(honua) }
    },
  })
  return { ...reported, honua: honua! }
}

/** Runs every drill of the example. */
export async function runAll(seed = 0): Promise<HonuaDrill[]> {
  const out: HonuaDrill[] = []
  for (const s of SCENARIOS) out.push(await runDrill(s, { seed }))
  return out
}
