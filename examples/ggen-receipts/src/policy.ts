/**
 * Runbook 004's split of who decides: a Firestore failure fails over
 * automatically (scenario 1), a regional outage waits for the operator's
 * `failover-region` command (scenario 2: "confirmed unresolved for more
 * than 5 minutes"). {@link operatorConfirmedPolicy} is the default policy
 * with its automatic failovers turned into pages: the decision is
 * `monitor` with the reason saying what it would have done; manual requests
 * are decided as before.
 *
 * @module
 */
import { type Decision, defaultPolicy, type Policy } from '@baton/core'

/** The default policy, except that automatic failovers and shifts wait for an operator. */
export const operatorConfirmedPolicy: Policy = (input) => {
  const d = defaultPolicy(input)
  if (d.mode !== 'automatic' || (d.action !== 'failover' && d.action !== 'shift')) return d
  const monitor: Decision = {
    ...d,
    action: 'monitor',
    to: null,
    database: 'none',
    graceful: true,
    zeroDataLoss: false,
    reason: `${d.reason} — regional outage: waiting for the operator's failover-region command`,
  }
  return monitor
}
