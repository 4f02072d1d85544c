/**
 * The runbook's receipt contracts (runbook 004), one per recovery scenario,
 * as receipt types in the ledger: `ggen.<operation>` receipts whose `data`
 * is the contract's fields. The envelope gives `receipt_id` (the receipt's
 * UUIDv7) and `timestamp` (its `ts`): {@link contractView} shows a stored
 * receipt exactly as the runbook's JSON; {@link checkContract} checks one
 * field by field.
 *
 * @module
 */
import type { StoredReceipt } from '@baton/ledger'

/**
 * Scenario 1: Firestore failed over automatically. Field names and
 * meanings are the runbook's (snake_case, as in its JSON contract).
 */
export interface FirestoreFailoverContract {
  readonly operation: 'firestore_failover_executed'
  readonly primary_region: string
  readonly secondary_region: string
  readonly reason: string
  readonly failure_count: number
  readonly failover_latency_ms: number
  readonly status: 'failed_over'
}

/** Scenario 2: the operator's regional failover completed. */
export interface RegionalFailoverContract {
  readonly operation: 'regional_failover_completed'
  readonly primary_region_status: 'unavailable'
  readonly primary_region: string
  readonly secondary_region: string
  readonly failover_trigger: 'operator_command'
  readonly dns_ttl_seconds: number
  readonly dns_propagation_seconds: number
  readonly warm_start_duration_seconds: number
  readonly total_failover_time_seconds: number
  readonly status: 'secondary_active'
}

/** Scenario 3: a corrupted receipt ledger restored from the daily export. */
export interface CorruptionContract {
  readonly operation: 'receipt_corruption_detected'
  readonly corrupted_count: number
  readonly affected_timespan: string
  readonly recovery_method: 'backup_restore'
  readonly backup_source: string
  readonly backup_timestamp: string
  readonly data_loss_minutes: number
  readonly status: 'restored'
}

/** Scenario 4: a lost Cloud Run image rebuilt from its git tag. */
export interface ImageRebuildContract {
  readonly operation: 'image_rebuild_executed'
  readonly image: string
  readonly reason: 'image_not_found'
  readonly source_commit: string
  readonly build_duration_seconds: number
  readonly test_passed: boolean
  readonly deployment_successful: boolean
  readonly status: 'rebuilt'
}

/** Any of the four contracts. */
export type Contract =
  | FirestoreFailoverContract
  | RegionalFailoverContract
  | CorruptionContract
  | ImageRebuildContract

type FieldKind = 'string' | 'number' | 'boolean' | { readonly is: string }

/** Every contract's fields and their kinds, as the runbook writes them. */
export const CONTRACT_FIELDS: Readonly<
  Record<Contract['operation'], Readonly<Record<string, FieldKind>>>
> = {
  firestore_failover_executed: {
    operation: { is: 'firestore_failover_executed' },
    primary_region: 'string',
    secondary_region: 'string',
    reason: 'string',
    failure_count: 'number',
    failover_latency_ms: 'number',
    status: { is: 'failed_over' },
  },
  regional_failover_completed: {
    operation: { is: 'regional_failover_completed' },
    primary_region_status: { is: 'unavailable' },
    primary_region: 'string',
    secondary_region: 'string',
    failover_trigger: { is: 'operator_command' },
    dns_ttl_seconds: 'number',
    dns_propagation_seconds: 'number',
    warm_start_duration_seconds: 'number',
    total_failover_time_seconds: 'number',
    status: { is: 'secondary_active' },
  },
  receipt_corruption_detected: {
    operation: { is: 'receipt_corruption_detected' },
    corrupted_count: 'number',
    affected_timespan: 'string',
    recovery_method: { is: 'backup_restore' },
    backup_source: 'string',
    backup_timestamp: 'string',
    data_loss_minutes: 'number',
    status: { is: 'restored' },
  },
  image_rebuild_executed: {
    operation: { is: 'image_rebuild_executed' },
    image: 'string',
    reason: { is: 'image_not_found' },
    source_commit: 'string',
    build_duration_seconds: 'number',
    test_passed: 'boolean',
    deployment_successful: 'boolean',
    status: { is: 'rebuilt' },
  },
}

/** The ledger receipt type of a contract: `ggen.<operation>`. */
export const contractType = (operation: Contract['operation']): string => `ggen.${operation}`

/**
 * Problems of `data` against the contract its `operation` names, each
 * naming the field (`failure_count: must be a number`); empty when it
 * matches exactly (no field missing, none extra).
 */
export function checkContract(data: unknown): string[] {
  if (typeof data !== 'object' || data === null) return ['(data): must be an object']
  const d = data as Record<string, unknown>
  const fields = CONTRACT_FIELDS[d.operation as Contract['operation']]
  if (fields === undefined) return [`operation: unknown contract ${JSON.stringify(d.operation)}`]
  const problems: string[] = []
  for (const [name, kind] of Object.entries(fields)) {
    const v = d[name]
    if (v === undefined) problems.push(`${name}: missing`)
    else if (typeof kind === 'object') {
      if (v !== kind.is) problems.push(`${name}: must be ${JSON.stringify(kind.is)}`)
    } else if (typeof v !== kind || (kind === 'number' && !Number.isFinite(v))) {
      problems.push(`${name}: must be a ${kind}`)
    } else if (kind === 'number' && (v as number) < 0) {
      problems.push(`${name}: must not be negative`)
    }
  }
  for (const name of Object.keys(d))
    if (!(name in fields)) problems.push(`${name}: not in the contract`)
  return problems
}

/** A contract receipt as the runbook shows it: `receipt_id`, `timestamp`, then its fields. */
export function contractView(receipt: StoredReceipt<string, object>): Record<string, unknown> {
  return { receipt_id: receipt.id, timestamp: receipt.ts, ...(receipt.data as object) }
}

/** The contract receipts of a ledger, in order. */
export function contractReceipts(receipts: readonly StoredReceipt[]): StoredReceipt[] {
  return receipts.filter((r) => r.type.startsWith('ggen.'))
}
