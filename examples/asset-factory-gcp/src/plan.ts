/**
 * The Asset Factory failover plan: the built-in plan (Firestore promotion
 * with a write check, the load balancer moved to the secondary, the
 * engine-worker fleet scaled there) plus the runbook's two verification
 * steps — the buckets and asset URLs (step 4), and the end-to-end job:
 * create one through the API, watch a worker in the secondary complete it,
 * fetch its output manifest and asset (step 5).
 *
 * The bucket check needs nothing but the target region, so it runs beside
 * the promotion and the traffic move instead of after them: that is where
 * this plan beats the runbook's sequential T+0 … T+2.5 h.
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
import type { AssetStorage, JobApi } from './ports.ts'

/** The runbook's own timeline (section 3), step by step, in ms: what it would take by hand. */
export const RUNBOOK_TIMELINE = [
  { step: 'Detection and declaration', ms: 15 * 60_000 },
  { step: 'Database failover (promote, verify a write)', ms: 30 * 60_000 },
  { step: 'Reroute API traffic, scale up workers', ms: 45 * 60_000 },
  { step: 'Verify storage and asset access', ms: 30 * 60_000 },
  { step: 'Full system verification (end-to-end job)', ms: 30 * 60_000 },
] as const

/** The targets of the runbook. */
export const TARGETS = { rtoMs: 4 * 3_600_000, rpoMs: 3_600_000 } as const

/** What the verification steps use. */
export interface AssetFactoryPorts {
  /** The asset buckets (runbook step 4). */
  readonly storage: AssetStorage
  /** The public job API (runbook step 5). */
  readonly jobs: JobApi
}

/** Options of {@link assetFactoryPlan}. */
export interface AssetFactoryPlanOptions {
  /** How long to watch the test job before giving up. Default 45 min. */
  readonly jobTimeoutMs?: number
  /** How often to poll it. Default 30 s. */
  readonly pollMs?: number
}

/** The controller's `plan` hook for the Asset Factory. */
export function assetFactoryPlan(
  ports: AssetFactoryPorts,
  options: AssetFactoryPlanOptions = {},
): (input: PlanHookInput) => Plan<StepData> {
  const jobTimeoutMs = options.jobTimeoutMs ?? 45 * 60_000
  const pollMs = options.pollMs ?? 30_000
  return ({ operation, builtin }) => {
    if (operation.kind !== 'failover') return builtin
    return extendPlan(builtin, {
      // Firestore promotion and the worker fleet take longer than the built-in limits.
      tune: { promote: { timeoutMs: 45 * 60_000 }, scale: { timeoutMs: 45 * 60_000 } },
      optional: true,
      steps: [
        {
          id: 'verify-storage',
          title: `Verify bucket access and asset URLs from ${operation.to}`,
          dependsOn: ['preflight'],
          timeoutMs: 30 * 60_000,
          retries: { max: 2, backoffMs: 60_000 },
          async run(ctx) {
            const r = await ports.storage.check(ctx.operation.to, ctx.call)
            if (!r.read || !r.write || r.urlsOk < r.urlsChecked) {
              throw new StepError(`storage in ${r.region} is not usable`, { details: { ...r } })
            }
            return r
          },
        },
        {
          id: 'verify-end-to-end',
          title: `Create a job, watch a worker in ${operation.to} complete it, check its output`,
          dependsOn: [...planSinks(builtin), 'verify-storage'],
          timeoutMs: jobTimeoutMs + 60_000,
          async run(ctx) {
            const id = await ports.jobs.createJob(ctx.call)
            const started = ctx.clock.now()
            for (;;) {
              const job = await ports.jobs.job(id, ctx.call)
              if (job.status === 'failed') {
                throw new StepError(`job ${id} failed: ${job.error ?? '?'}`, { retryable: false })
              }
              if (job.status === 'complete') {
                if (job.workerRegion !== ctx.operation.to) {
                  throw new StepError(
                    `job ${id} ran in ${job.workerRegion}, not ${ctx.operation.to}`,
                  )
                }
                const manifest = await ports.jobs.fetch(job.manifestUrl ?? '', ctx.call)
                const asset = await ports.jobs.fetch(job.assetUrl ?? '', ctx.call)
                if (!manifest || !asset) {
                  throw new StepError(`job ${id}: output not reachable`, {
                    details: { manifest, asset },
                  })
                }
                return {
                  job: id,
                  workerRegion: job.workerRegion,
                  tookMs: ctx.clock.now() - started,
                }
              }
              if (ctx.clock.now() - started >= jobTimeoutMs) {
                throw new StepError(
                  `job ${id} still ${job.status} after ${jobTimeoutMs / 60_000} min`,
                  {
                    retryable: false,
                    details: { status: job.status },
                  },
                )
              }
              await ctx.clock.sleep(pollMs, ctx.signal)
            }
          },
        },
      ],
    })
  }
}
