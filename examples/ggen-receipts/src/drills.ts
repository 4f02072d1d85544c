/**
 * Runs ggen's failover drills: the controller with ggen's policy for the
 * scenario and {@link followFailovers} appending the contract receipts.
 *
 * @module
 */
import {
  type DrillOptions,
  drillWithReport,
  type ReportedDrill,
  type ScenarioInput,
} from '@baton/core'
import { type FailoverContractKind, followFailovers } from './failover.ts'
import { operatorConfirmedPolicy } from './policy.ts'
import { regionalOutage } from './scenarios.ts'

/** Runs a failover drill; scenario 2 (`regional-outage`) waits for the operator. */
export function runFailoverDrill(
  scenario: ScenarioInput,
  options: Pick<DrillOptions, 'seed' | 'inspect'> & {
    /** Which contract the failover gets; default from the scenario. */
    readonly contract?: FailoverContractKind
    /** Use the operator-confirmed policy; default for `regional-outage`. */
    readonly operatorConfirms?: boolean
  } = {},
): Promise<ReportedDrill> {
  const regional = scenario.name === regionalOutage.name
  const { contract, operatorConfirms, ...drillOptions } = options
  return drillWithReport(scenario, {
    ...drillOptions,
    title: `ggen: ${scenario.name}`,
    controller: ({ ledger }) => ({
      ...((operatorConfirms ?? regional) ? { policy: operatorConfirmedPolicy } : {}),
      attach: (controller) => {
        followFailovers(controller, ledger, {
          kind: contract ?? (regional ? 'regional' : 'firestore'),
        })
      },
    }),
  })
}
