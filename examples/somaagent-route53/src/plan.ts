/**
 * The SomaAgent failover plan: the built-in plan (capacity check in
 * preflight, the node group scaled to 10 in the surviving region, Route 53
 * weights moved, the endpoint verified) plus the EKS deployments scaled to
 * the runbook's replica counts. The deployments scale beside the node group
 * (their pods schedule as nodes join) instead of after it, and the Route 53
 * move waits for both.
 *
 * @module
 */
import { extendPlan, type Plan, type PlanHookInput, type StepData, StepError } from '@baton/core'
import type { Deployments, Replicas } from './ports.ts'

/** The runbook's replica counts for a region taking all traffic (scenario 1, step 2). */
export const FAILOVER_REPLICAS: Replicas = {
  orchestrator: 6,
  'gateway-api': 8,
  'slm-service': 10,
}

/** Nodes in the surviving region's node group after a failover. */
export const FAILOVER_NODES = 10

/** The runbook's targets: RTO < 15 min, RPO < 5 min (P1); P2 within an hour. */
export const TARGETS = { rtoMs: 15 * 60_000, rpoMs: 5 * 60_000, p2RtoMs: 60 * 60_000 } as const

/** Scenario 1 by hand, one step after another (ms): the runbook's "10–15 minutes". */
export const RUNBOOK_TIMELINE = [
  { step: 'Verify capacity of the surviving region', ms: 2 * 60_000 },
  { step: 'Scale the node group to 10, wait for nodes (timeout 300 s)', ms: 5 * 60_000 },
  { step: 'Scale orchestrator, gateway-api, slm-service', ms: 3 * 60_000 },
  { step: 'Update Route 53 weights, verify', ms: 2 * 60_000 },
  { step: 'Monitor the traffic shift and DNS propagation', ms: 2 * 60_000 },
] as const

/** The controller's `plan` hook for SomaAgent. */
export function somaPlan(
  deployments: Deployments,
  replicas: Replicas = FAILOVER_REPLICAS,
): (input: PlanHookInput) => Plan<StepData> {
  return ({ operation, builtin }) => {
    if (operation.kind !== 'failover') return builtin
    const to = operation.to
    return extendPlan(builtin, {
      before: { 'shift-traffic': ['scale-deployments'] },
      optional: true,
      steps: [
        {
          id: 'scale-deployments',
          title: `Scale the deployments in ${to} (${Object.entries(replicas)
            .map(([d, n]) => `${d} ${String(n)}`)
            .join(', ')})`,
          dependsOn: ['preflight'],
          timeoutMs: 15 * 60_000,
          async run(ctx) {
            const before = await deployments.replicas(to, ctx.call)
            ctx.onFailure((call) => deployments.scale(to, before, call).then(() => undefined))
            const ready = await deployments.scale(to, replicas, ctx.call)
            for (const [d, n] of Object.entries(replicas)) {
              if ((ready[d] ?? 0) < n) {
                throw new StepError(`${d} in ${to}: ${String(ready[d] ?? 0)} of ${String(n)} ready`)
              }
            }
            return { region: to, before, ready }
          },
          async compensate(ctx, result) {
            await deployments.scale(to, (result as { before: Replicas }).before, ctx.call)
          },
        },
      ],
    })
  }
}
