/**
 * The HonuaIO failover plan: the built-in plan (RDS replica promotion behind
 * the lag guard, Route 53 cutover, endpoint verification); for a manual,
 * graceful switchover (planned maintenance, the DBA's database failover,
 * the DR test) also the runbook's check of the DR region before production
 * traffic moves — a test DNS name
 * (`test.api.honua.io`) pointed at the DR endpoint and the smoke test run
 * through it (the quarterly DR drill's steps 1, 3, 5 and 6) — and the test
 * record's cleanup (step 8).
 *
 * The smoke test needs nothing but the DR region, so it runs beside the
 * database promotion and the DR scale-up; the runbook's manual procedure
 * does them one after another.
 *
 * @module
 */
import {
  extendPlan,
  type Plan,
  type PlanHookInput,
  planSinks,
  type StepData,
  StepError,
} from '@baton/core'
import type { SmokeTest, TestDns } from './ports.ts'

/** The test DNS name of the DR drill. */
export const TEST_RECORD = 'test.api.honua.io'

/**
 * The runbook's manual failover, step by step, as it is done by hand (ms):
 * what the same work takes when each step waits for the one before.
 */
export const RUNBOOK_TIMELINE = [
  { step: 'Scale up DR resources (wait until ready)', ms: 3 * 60_000 },
  { step: 'Verify DR application health (smoke test)', ms: 2 * 60_000 },
  { step: 'Check replication lag, final snapshot', ms: 2 * 60_000 },
  { step: 'Promote the RDS read replica', ms: 7 * 60_000 },
  { step: 'Update Route 53, wait for propagation', ms: 2 * 60_000 },
  { step: 'Verify failover through the global endpoint', ms: 2 * 60_000 },
] as const

/** The runbook's scenario table: RTO and RPO per scenario (ms). */
export const SCENARIO_TABLE = {
  'health-check-failure': { type: 'automated', rtoMs: 5 * 60_000, rpoMs: 10_000 },
  'region-outage': { type: 'automated', rtoMs: 10 * 60_000, rpoMs: 30_000 },
  'planned-maintenance': { type: 'manual', rtoMs: 15 * 60_000, rpoMs: 0 },
  'database-failure': { type: 'manual', rtoMs: 20 * 60_000, rpoMs: 60_000 },
  'dr-test': { type: 'manual', rtoMs: 30 * 60_000, rpoMs: 0 },
} as const

/** What the extra steps use. */
export interface HonuaPorts {
  /** The test DNS record (`test.api.honua.io`). */
  readonly dns: TestDns
  /** The smoke test run through it. */
  readonly smoke: SmokeTest
}

/** The controller's `plan` hook for HonuaIO. */
export function honuaPlan(ports: HonuaPorts): (input: PlanHookInput) => Plan<StepData> {
  return ({ operation, decision, builtin }) => {
    // The automated path is the runbook's: Route 53 moves, nothing in front
    // of it. Manual (graceful) switchovers check the DR region first.
    if (operation.kind !== 'failover' || !decision.graceful) return builtin
    const to = operation.to
    return extendPlan(builtin, {
      // shift-traffic waits for the smoke test; `optional` because a plan
      // without a traffic step (none here) would not have the key.
      before: { 'shift-traffic': ['smoke-dr'] },
      optional: true,
      steps: [
        {
          id: 'test-dns',
          title: `Point ${TEST_RECORD} at the ${to} endpoint`,
          dependsOn: ['preflight'],
          timeoutMs: 5 * 60_000,
          async run(ctx) {
            ctx.onFailure((call) => ports.dns.remove(TEST_RECORD, call))
            await ports.dns.point(TEST_RECORD, to, ctx.call)
            return { record: TEST_RECORD, region: to }
          },
          // A failed switchover leaves no test record behind.
          async compensate(ctx) {
            await ports.dns.remove(TEST_RECORD, ctx.call)
          },
        },
        {
          id: 'smoke-dr',
          title: `Smoke-test ${to} through ${TEST_RECORD}`,
          dependsOn: ['test-dns'],
          timeoutMs: 5 * 60_000,
          retries: { max: 1, backoffMs: 15_000 },
          async run(ctx) {
            const r = await ports.smoke.run(TEST_RECORD, ctx.call)
            if (r.region !== to || r.failed > 0) {
              throw new StepError(
                `smoke test of ${r.region}: ${r.failed} of ${r.passed + r.failed} checks failed`,
                {
                  details: { ...r },
                },
              )
            }
            return r
          },
        },
        {
          id: 'cleanup-test-dns',
          title: `Delete ${TEST_RECORD}`,
          dependsOn: [...planSinks(builtin), 'smoke-dr'],
          timeoutMs: 60_000,
          async run(ctx) {
            await ports.dns.remove(TEST_RECORD, ctx.call)
            return { deleted: TEST_RECORD }
          },
        },
      ],
    })
  }
}
