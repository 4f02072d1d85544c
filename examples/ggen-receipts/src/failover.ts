/**
 * The ggen service's side of a failover: once baton has completed one, it
 * appends the runbook's contract receipt for it to the same ledger, built
 * from what the ledger recorded (detection, decision, step durations) and
 * from the health checks the service saw.
 *
 * @module
 */
import type { Controller, RegionId } from '@baton/core'
import type { Ledger, StoredReceipt } from '@baton/ledger'
import {
  contractType,
  type FirestoreFailoverContract,
  type RegionalFailoverContract,
} from './contracts.ts'

/** Which contract a completed failover gets. */
export type FailoverContractKind = 'firestore' | 'regional'

/** Options of {@link followFailovers}. */
export interface FollowFailoversOptions {
  /** `firestore`: scenario 1 (automatic); `regional`: scenario 2 (operator command). */
  readonly kind: FailoverContractKind
  /** TTL of the DNS record moved (scenario 2's `dns_ttl_seconds`). Default 60. */
  readonly dnsTtlSeconds?: number
}

interface Completed {
  readonly operation: { readonly id: string; readonly from: RegionId; readonly to: RegionId }
  readonly detectedAt: number | null
  readonly decidedAt: number
  readonly completedAt: number
}

const stepMs = (receipts: readonly StoredReceipt[], operation: string, step: string): number => {
  const r = receipts.find(
    (x) =>
      x.type === 'step.succeeded' &&
      (x.data as { operation: string; step: string }).operation === operation &&
      (x.data as { step: string }).step === step,
  )
  return r === undefined ? 0 : (r.data as { durationMs: number }).durationMs
}

/** Builds the scenario 1 contract from the ledger and the last health-check error. */
export function firestoreFailoverContract(
  receipts: readonly StoredReceipt[],
  completed: Completed,
  lastError: string | undefined,
): FirestoreFailoverContract {
  const { from, to } = completed.operation
  const detection = receipts.findLast(
    (r) =>
      r.type === 'health.changed' &&
      (r.data as { region: string; to: string }).region === from &&
      (r.data as { to: string }).to === 'down',
  )
  const reasons = (
    detection?.data as { reasons?: { detector: string; value: number }[] } | undefined
  )?.reasons
  const failures = reasons?.find((x) => x.detector === 'consecutiveFailures')?.value ?? 0
  return {
    operation: 'firestore_failover_executed',
    primary_region: from,
    secondary_region: to,
    reason: `primary_${(lastError ?? 'unavailable').toLowerCase()}`,
    failure_count: failures,
    failover_latency_ms: completed.completedAt - completed.decidedAt,
    status: 'failed_over',
  }
}

/** Builds the scenario 2 contract from the ledger. */
export function regionalFailoverContract(
  receipts: readonly StoredReceipt[],
  completed: Completed,
  dnsTtlSeconds: number,
): RegionalFailoverContract {
  const { id, from, to } = completed.operation
  const start = completed.detectedAt ?? completed.decidedAt
  return {
    operation: 'regional_failover_completed',
    primary_region_status: 'unavailable',
    primary_region: from,
    secondary_region: to,
    failover_trigger: 'operator_command',
    dns_ttl_seconds: dnsTtlSeconds,
    dns_propagation_seconds: Math.round(stepMs(receipts, id, 'shift-traffic') / 1_000),
    warm_start_duration_seconds: Math.round(stepMs(receipts, id, 'scale') / 1_000),
    total_failover_time_seconds: Math.round((completed.completedAt - start) / 1_000),
    status: 'secondary_active',
  }
}

/**
 * Appends a contract receipt to `ledger` after each failover `controller`
 * completes. Returns a function that unsubscribes.
 */
export function followFailovers(
  controller: Controller,
  ledger: Ledger,
  options: FollowFailoversOptions,
): () => void {
  const lastError = new Map<RegionId, string>()
  const offSample = controller.on('probe.sampled', (e) => {
    if (!e.sample.ok && e.sample.error !== undefined) lastError.set(e.sample.region, e.sample.error)
  })
  const offCompleted = controller.on('failover.completed', () => {
    void (async () => {
      const receipts: StoredReceipt[] = []
      for await (const r of ledger.read()) receipts.push(r)
      const done = receipts.findLast((r) => r.type === 'failover.completed')
      if (done === undefined) return
      const completed = done.data as unknown as Completed
      const data =
        options.kind === 'firestore'
          ? firestoreFailoverContract(receipts, completed, lastError.get(completed.operation.from))
          : regionalFailoverContract(receipts, completed, options.dnsTtlSeconds ?? 60)
      await ledger.append({ type: contractType(data.operation), data })
    })()
  })
  return () => {
    offSample()
    offCompleted()
  }
}
