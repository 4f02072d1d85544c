/**
 * Runs SomaAgent's drills with its plan, the residency follower and
 * in-memory adapters.
 *
 * @module
 */
import {
  type DrillOptions,
  drillWithReport,
  type ReportedDrill,
  type ScenarioInput,
} from '@baton/core'
import { createMemorySoma, type MemorySoma, type MemorySomaOptions } from './memory.ts'
import { somaPlan } from './plan.ts'
import { followResidency } from './residency.ts'
import { SCENARIOS } from './scenarios.ts'

/** A reported drill and the in-memory deployments and fallback it used. */
export interface SomaDrill extends ReportedDrill {
  /** The deployments and residency fallback the drill used, with what they saw. */
  readonly soma: MemorySoma
}

/** Runs `scenario` with the SomaAgent plan over in-memory EKS deployments and residency fallback. */
export async function runDrill(
  scenario: ScenarioInput,
  options: Pick<DrillOptions, 'seed' | 'inspect'> & {
    /** Tuning of the in-memory deployments. */
    readonly memory?: Omit<MemorySomaOptions, 'world'>
  } = {},
): Promise<SomaDrill> {
  const { memory, ...drillOptions } = options
  let soma: MemorySoma | undefined
  const reported = await drillWithReport(scenario, {
    ...drillOptions,
    title: `SomaAgent: ${scenario.name}`,
    controller: ({ world, scenario: s }) => {
      soma ??= createMemorySoma({ ...memory, world })
      const ports = soma
      return {
        plan: somaPlan(ports.deployments),
        attach: (controller) => {
          followResidency(controller, s.regions, ports.fallback)
        },
      }
    },
  })
  return { ...reported, soma: soma! }
}

/** Runs every drill of the example. */
export async function runAll(seed = 0): Promise<SomaDrill[]> {
  const out: SomaDrill[] = []
  for (const s of SCENARIOS) out.push(await runDrill(s, { seed }))
  return out
}
